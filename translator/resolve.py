"""`resolve`: the hosts containerd will try for an image, first to last, and the manifest URL of each.

The host list comes from the model, looked up the way the source's runtime looks it up:
- hosts.toml (certs-d, or a config.toml with `config_path`): the registry's own directory,
  else `_default`, else the registry itself; an absent `server` is the registry's upstream;
- legacy CRI mirrors: `mirrors[registry]` by exact key, else `*` — where no upstream is
  appended when one of the `*` endpoints is the registry's own host;
- registries.yaml: what k3s configures, rewrites applied to the repository.
A tag is resolved only through hosts with both `pull` and `resolve`; a digest needs `pull`.
"""

from __future__ import annotations

import re

from . import endpoints as ep_rules
from . import gourl, secrets
from .errors import InputError
from .model import ALL_CAPABILITIES, IMAGE_UPSTREAM, WILDCARD, Config, Endpoint, semantics_of
from .record import field, record
from .reference import Reference, parse


@record(mutable=True)
class ResolvedHost:
    url: str
    capabilities: list[str]
    skip_verify: bool
    ca: list[str]
    client: list[list[str]]
    header: dict[str, list[str]]
    rewrite: dict[str, str]
    manifest: str
    notes: list[str] = field(default_factory=list)
    #: the credentials containerd sends to this host (configs.<endpoint host>.auth), secrets masked
    auth: dict[str, str] | None = None
    #: where the credentials come from, e.g. `configs."mirror.example.com".auth`
    auth_key: str = ""
    #: "mirror", "server" or "upstream": what this host is in the list
    role: str = "mirror"
    #: the https:// attempt of an http:// host that containerd tries over HTTPS first
    https_first: bool = False
    #: the http:// attempt that follows it, made only after a TLS error on HTTPS
    fallback: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"url": self.url, "capabilities": self.capabilities, "skip_verify": self.skip_verify,
                "ca": self.ca, "client": self.client, "header": secrets.mask_headers(self.header),
                "rewrite": self.rewrite, "manifest": self.manifest, "role": self.role,
                "auth": secrets.mask_auth(self.auth) if self.auth else None, "notes": self.notes}


@record(mutable=True)
class Skipped:
    url: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "reason": self.reason}


@record(mutable=True)
class Resolution:
    image: str
    registry: str
    source: str
    hosts: list[ResolvedHost]
    skipped: list[Skipped] = field(default_factory=list)
    #: the reference as typed, and how it was normalised
    typed: str = ""
    steps: tuple[str, ...] = ()
    #: why no host is tried at all ("" when some are): the runtime cannot use the configuration
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "image": self.image, "registry": self.registry, "hosts": [h.as_dict() for h in self.hosts],
            "input": self.typed, "normalized": list(self.steps), "matched": self.source,
            "skipped": [s.as_dict() for s in self.skipped]}
        if self.error:
            data["error"] = self.error
        return data


_SEMANTICS_WORDS = {"docker": "Docker's registry service (daemon.json, classic image store)",
                    "containers": "containers/image (registries.conf: Podman, CRI-O, Skopeo)",
                    "hosts": "containerd's hosts.toml rules", "legacy": "containerd's legacy CRI mirrors",
                    "k3s": "k3s (registries.yaml rendered to hosts.toml)"}


def host_list(config: Config, registry: str, semantics: str) -> tuple[list[Endpoint], str]:
    """The endpoints containerd tries for REGISTRY, and in words which entry gave them and why."""
    release = config.release
    if semantics == "legacy":
        upstream = Endpoint(ep_rules.legacy_upstream(registry, release), release.legacy_capabilities())
    else:
        url, skip = ep_rules.upstream_fill(registry, release)  # not hosts_toml: it loads a TOML parser
        upstream = Endpoint(url, ALL_CAPABILITIES, skip_verify=skip)
    found = config.hosts.get(registry)
    if found is not None:
        origin = {"hosts": f"the directory for {registry} (hosts.toml)",
                  "legacy": f"mirrors[{registry!r}] (looked up by exact key)",
                  "k3s": f"the registries.yaml entry {registry!r}",
                  "docker": f"daemon.json and the certificate directory for {registry}",
                  "containers": f"the [[registry]] for {registry}"}[semantics]
    else:
        found = config.hosts.get(WILDCARD)
        origin = {"hosts": f"_default: there is no directory for {registry}",
                  "legacy": f"mirrors['*']: there is no mirrors key {registry!r}",
                  "k3s": f"the registries.yaml entry '*' (_default): there is no entry {registry!r}"}.get(
                      semantics, "'*'")
    if found is None and semantics == "docker":
        from .formats.docker_daemon import default_list

        return default_list(registry, config.insecure_ranges), (f"{registry} is not in daemon.json: the registry "
                                                                "itself (HTTPS, or for an insecure one HTTPS "
                                                                "without verification, then http)")
    if found is None and semantics == "containers":
        upstream = Endpoint(f"https://{ep_rules.default_host(registry)}/v2", ALL_CAPABILITIES)
    if found is None:
        return [upstream], f"nothing configured for {registry} (and no '*' or _default): the registry itself"
    entries = list(found.endpoints)
    if semantics == "legacy" and found.name == WILDCARD and any(e.hostport == registry for e in entries if e.url):
        entries = [e for e in entries if e.url != IMAGE_UPSTREAM]
        origin += f"; no upstream is appended, because the list names {registry} itself"
    resolved = []
    for entry in entries:
        if entry.url == IMAGE_UPSTREAM:
            skip = entry.skip_verify if upstream.skip_verify is None else upstream.skip_verify
            entry = Endpoint(upstream.url, entry.capabilities, entry.ca, entry.client, skip,
                             entry.header, entry.rewrite, entry.dial_timeout)
        resolved.append(entry)
    return resolved, origin


def _go_replacement(template: str) -> str:
    """A Go regexp replacement template (`$1`, `${name}`, `$$`) as a Python one."""
    out = []
    i = 0
    while i < len(template):
        c = template[i]
        if c == "$" and i + 1 < len(template):
            nxt = template[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            match = re.match(r"\{(\w+)\}|(\w+)", template[i + 1:])
            if match:
                name = match.group(1) or match.group(2)
                out.append(f"\\g<{name}>")
                i += 1 + match.end()
                continue
        out.append("\\\\" if c == "\\" else c)
        i += 1
    return "".join(out)


def _go_replace_all(pattern: str, replacement: str, text: str) -> str:
    """Go's Regexp.ReplaceAllString: like re.sub, except that an empty match right after the end of
    the previous match is not replaced (Python replaces it: `(.*)` -> `x$1` would add a second `x`)."""
    out: list[str] = []
    last = 0
    previous_end = -1
    for match in re.finditer(pattern, text):
        if match.start() == match.end() == previous_end:
            continue
        out.append(text[last:match.start()])
        out.append(match.expand(replacement))
        last = previous_end = match.end()
    out.append(text[last:])
    return "".join(out)


def rewritten(repository: str, rewrites: tuple[tuple[str, str], ...]) -> tuple[str, str | None]:
    """The repository after the first rewrite that changes it (k3s applies them so), and a note."""
    for pattern, replacement in rewrites:
        try:
            result = _go_replace_all(pattern, _go_replacement(replacement), repository)
        except (re.error, IndexError) as exc:
            return repository, f"rewrite {pattern!r} cannot be applied here ({exc})"
        if result != repository:
            return result, None
    return repository, None


def manifest_url(endpoint: Endpoint, ref: Reference, repository: str, ns: bool = True) -> str:
    url = f"{endpoint.url}/{repository}/manifests/{ref.object}" if repository else \
        f"{endpoint.url}/manifests/{ref.object}"
    if not ns:
        return url
    host = endpoint.hostport
    if host != ref.registry and not (ref.registry == ep_rules.DOCKER_HUB and host == ep_rules.DOCKER_HUB_HOST):
        url += "?ns=" + gourl.query_escape(ref.registry)
    return url


def _role(index: int, count: int, entry: Endpoint, registry: str, semantics: str, config: Config) -> str:
    own = semantics in ("docker", "containers") and entry.hostport == ep_rules.default_host(registry)
    if index < count - 1 and not own:  # Docker and containers/image try a registry over https, then http
        return "mirror"
    upstreams = (ep_rules.hosts_upstream(registry, config.release), ep_rules.legacy_upstream(registry, config.release))
    if entry.url in upstreams or own:
        return "upstream"
    return "server" if semantics != "legacy" else "mirror"


def credentials(config: Config, hostport: str) -> tuple[dict[str, str] | None, str]:
    """The credentials containerd sends to HOSTPORT when the CRI request carries none: the
    `configs.<endpoint host:port>.auth` of the containerd config (SEMANTICS §2.5, §3.4)."""
    auth = config.auth.get(hostport)
    if auth is None:
        return None, ""
    fields = {k: v for k, v in auth.as_dict().items() if v}
    if not fields:
        return None, ""
    return fields, f"configs.{hostport!r}.auth"


def _attempts(entry: Endpoint, semantics: str, config: Config) -> list[tuple[Endpoint, str]]:
    """The URLs containerd really tries for ENTRY, with a note each: an `http://` host with TLS
    settings is tried over HTTPS first and over http after a TLS error, on the releases that do so."""
    release = config.release
    if entry.scheme != "http" or semantics == "legacy":
        return [(entry, "")]
    port = ep_rules.split_host_port(entry.hostport)[1]
    dial_only = bool(entry.dial_timeout) and not entry.has_tls()
    if not release.https_first(port, entry.has_tls(), dial_only):
        if entry.has_tls():
            return [(entry, f"http:// with TLS settings: containerd {release} uses plain http and ignores them")]
        return [(entry, "")]
    https = Endpoint("https://" + entry.url.split("://", 1)[1], entry.capabilities, entry.ca, entry.client,
                     entry.skip_verify, entry.header, entry.rewrite, entry.dial_timeout)
    why = "a dial_timeout" if dial_only else "TLS settings"
    return [(https, f"http:// with {why}: containerd {release} tries HTTPS first"),
            (entry, "then plain http, after a TLS error on HTTPS")]


def resolve(image: str, config: Config, semantics: str | None = None) -> Resolution:
    semantics = semantics or semantics_of(config)
    ref = parse(image)
    error = config.unusable or config.failing.get(ref.registry, "")
    if error:
        return Resolution(image=ref.name, registry=ref.registry, source="", hosts=[], typed=image,
                          steps=ref.steps, error=error)
    if semantics == "containers":
        from .resolve_containers import resolve as resolve_containers

        return resolve_containers(image, config)
    entries, origin = host_list(config, ref.registry, semantics)
    return resolve_entries(ref, config, entries, origin, semantics, typed=image)


def resolve_entries(ref: Reference, config: Config, entries: list[Endpoint], origin: str, semantics: str,
                    remainders: list[str] | None = None, typed: str = "") -> Resolution:
    """The hosts of ENTRIES that serve REF, with their manifest URLs (REMAINDERS: the repository
    path each entry asks for, when it is not the reference's own)."""
    needed = {"pull"} if ref.digest else {"pull", "resolve"}
    if semantics == "containers":
        needed = {"pull"} if ref.digest else {"resolve"}
    hosts: list[ResolvedHost] = []
    skipped: list[Skipped] = []
    header_global = {k: list(v) for k, v in config.headers.items()}
    for index, entry in enumerate(entries):
        if not needed <= set(entry.capabilities):
            lacking = " and ".join(sorted(needed - set(entry.capabilities)))
            skipped.append(Skipped(entry.url, f"capabilities {', '.join(entry.capabilities) or 'none'} lack "
                                              f"{lacking}" + (": a tag is resolved only through hosts with pull and "
                                                              "resolve" if not ref.digest else "")))
            continue
        repository = remainders[index] if remainders is not None else ref.repository
        notes = []
        rewrite = dict(entry.rewrite) if semantics == "k3s" else {}
        if rewrite:
            repository, note = rewritten(repository, entry.rewrite)
            if note:
                notes.append(note)
            elif repository != ref.repository:
                notes.append(f"rewrite: {ref.repository} -> {repository}")
        header = {k: list(v) for k, v in header_global.items()}
        for name, values in entry.header:
            header.setdefault(name, []).extend(values)
        if config.tls_inert and entry.has_tls():
            notes.append(f"registry.configs.{entry.hostport!r}.tls is ignored by containerd {config.release}")
            entry = Endpoint(entry.url, entry.capabilities, header=entry.header, rewrite=entry.rewrite,
                             dial_timeout=entry.dial_timeout)
        auth, auth_key = credentials(config, entry.hostport)
        if auth is not None:
            notes.append(f"credentials from {auth_key}")
        role = _role(index, len(entries), entry, ref.registry, semantics, config)
        attempts = _attempts(entry, semantics, config) if semantics not in ("docker", "containers") else [(entry, "")]
        for position, (attempt, note) in enumerate(attempts):
            hosts.append(ResolvedHost(
                url=attempt.url, capabilities=list(attempt.capabilities), skip_verify=bool(attempt.skip_verify),
                ca=list(attempt.ca), client=[list(p) for p in attempt.client], header=header, rewrite=rewrite,
                manifest=manifest_url(attempt, ref, repository, ns=semantics not in ("docker", "containers")),
                notes=([note] if note else []) + notes, auth=auth, auth_key=auth_key, role=role,
                https_first=len(attempts) == 2 and position == 0, fallback=position == 1))
    if not entries and semantics != "containers":
        raise InputError(f"no host is configured for {ref.registry}")
    origin += f"; read with {_SEMANTICS_WORDS[semantics]}" + (
        f" of containerd {config.release}" if semantics in ("hosts", "legacy", "k3s") else "")
    return Resolution(image=ref.name, registry=ref.registry, source=origin, hosts=hosts, skipped=skipped,
                      typed=typed or ref.name, steps=ref.steps)


def render_text(result: Resolution) -> str:
    lines = [f"image:    {result.image}" + (f"   (typed: {result.typed})" if result.typed != result.image else "")]
    lines.extend(f"          - {step}" for step in result.steps)
    if result.error:
        lines.append(f"registry: {result.registry}")
        lines.append(f"error: no pulls: {result.error}")
        return secrets.redact("\n".join(lines)) + "\n"
    lines.append(f"registry: {result.registry}, from {result.source}")
    if not result.hosts:
        lines.append("no host can serve this reference:")
    for number, host in enumerate(result.hosts, 1):
        settings = [" ".join(host.capabilities)]
        if host.ca:
            settings.append("ca=" + ",".join(host.ca))
        if host.client:
            settings.append("client=" + ",".join(":".join(p) if p[1] else p[0] for p in host.client))
        if host.skip_verify:
            settings.append("skip_verify")
        if host.header:
            settings.append("header=" + ",".join(host.header))
        if host.rewrite:
            settings.append("rewrite")
        if host.auth:
            settings.append("auth=" + ",".join(sorted(host.auth)))
        role = {"upstream": " (the upstream)", "server": " (server)"}.get(host.role, "")
        lines.append(f"{number}. {host.url}{role}  [{'; '.join(settings)}]")
        lines.append(f"   HEAD {host.manifest}")
        lines.extend(f"   note: {note}" for note in host.notes)
    lines.extend(f"skipped {s.url}: {s.reason}" for s in result.skipped)
    return secrets.redact("\n".join(lines)) + "\n"
