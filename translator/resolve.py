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
from dataclasses import dataclass, field

from . import endpoints as ep_rules
from . import gourl, secrets
from .errors import InputError
from .model import ALL_CAPABILITIES, IMAGE_UPSTREAM, MIRROR_CAPABILITIES, WILDCARD, Config, Endpoint
from .reference import Reference, parse


@dataclass
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

    def as_dict(self) -> dict[str, object]:
        return {"url": self.url, "capabilities": self.capabilities, "skip_verify": self.skip_verify,
                "ca": self.ca, "client": self.client, "header": secrets.mask_headers(self.header),
                "rewrite": self.rewrite, "manifest": self.manifest}


@dataclass
class Resolution:
    image: str
    registry: str
    source: str
    hosts: list[ResolvedHost]
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"image": self.image, "registry": self.registry, "hosts": [h.as_dict() for h in self.hosts]}


def semantics_of(config: Config) -> str:
    """Whose rules turn the model into requests: k3s, legacy CRI, hosts.toml, Docker's registry
    service (docker-daemon) or containers/image (registries-conf)."""
    fmt = config.source_format
    if fmt == "registries-yaml":
        return "k3s"
    if (fmt.startswith("cri-") or fmt == "crictl-info") and not config.config_path:
        return "legacy"
    if fmt == "docker-daemon":
        return "docker"
    if fmt == "registries-conf":
        return "containers"
    return "hosts"


def host_list(config: Config, registry: str, semantics: str) -> tuple[list[Endpoint], str]:
    """The endpoints containerd tries for REGISTRY, and where they came from."""
    upstream = ep_rules.legacy_upstream(registry) if semantics == "legacy" else ep_rules.hosts_upstream(registry)
    found = config.hosts.get(registry)
    origin = f"hosts[{registry!r}]"
    if found is None:
        found = config.hosts.get(WILDCARD)
        origin = "hosts['*'] (_default)" if semantics != "legacy" else "mirrors['*']"
    if found is None and semantics == "docker":
        from .formats.docker_daemon import default_list

        return default_list(registry, config.insecure_ranges), "not in daemon.json: the registry itself"
    if found is None and semantics == "containers":
        upstream = f"https://{ep_rules.default_host(registry)}/v2"
    if found is None:
        caps = MIRROR_CAPABILITIES if semantics == "legacy" else ALL_CAPABILITIES
        return [Endpoint(upstream, caps)], "no entry: the registry itself"
    entries = list(found.endpoints)
    if semantics == "legacy" and found.name == WILDCARD and any(e.hostport == registry for e in entries if e.url):
        entries = [e for e in entries if e.url != IMAGE_UPSTREAM]
    resolved = []
    for entry in entries:
        if entry.url == IMAGE_UPSTREAM:
            entry = Endpoint(upstream, entry.capabilities, entry.ca, entry.client, entry.skip_verify,
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


def rewritten(repository: str, rewrites: tuple[tuple[str, str], ...]) -> tuple[str, str | None]:
    """The repository after the first rewrite that changes it (k3s applies them so), and a note."""
    for pattern, replacement in rewrites:
        try:
            result = re.sub(pattern, _go_replacement(replacement), repository)
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


def resolve(image: str, config: Config, semantics: str | None = None) -> Resolution:
    semantics = semantics or semantics_of(config)
    if semantics == "containers":
        from .resolve_containers import resolve as resolve_containers

        return resolve_containers(image, config)
    ref = parse(image)
    entries, origin = host_list(config, ref.registry, semantics)
    return resolve_entries(ref, config, entries, origin, semantics)


def resolve_entries(ref: Reference, config: Config, entries: list[Endpoint], origin: str, semantics: str,
                    remainders: list[str] | None = None) -> Resolution:
    """The hosts of ENTRIES that serve REF, with their manifest URLs (REMAINDERS: the repository
    path each entry asks for, when it is not the reference's own)."""
    needed = {"pull"} if ref.digest else {"pull", "resolve"}
    if semantics == "containers":
        needed = {"pull"} if ref.digest else {"resolve"}
    hosts: list[ResolvedHost] = []
    skipped: list[str] = []
    header_global = {k: list(v) for k, v in config.headers.items()}
    for index, entry in enumerate(entries):
        if not needed <= set(entry.capabilities):
            skipped.append(f"{entry.url}: capabilities {', '.join(entry.capabilities) or 'none'} lack "
                           f"{' and '.join(sorted(needed - set(entry.capabilities)))}")
            continue
        repository = remainders[index] if remainders is not None else ref.repository
        notes = []
        rewrite = dict(entry.rewrite) if semantics == "k3s" else {}
        if rewrite:
            repository, note = rewritten(repository, entry.rewrite)
            if note:
                notes.append(note)
        header = {k: list(v) for k, v in header_global.items()}
        for name, values in entry.header:
            header.setdefault(name, []).extend(values)
        if entry.scheme == "http" and entry.has_tls() and semantics == "hosts":
            notes.append("http:// with TLS settings: containerd 1.7.7+ and 2.x try HTTPS first")
        hosts.append(ResolvedHost(
            url=entry.url, capabilities=list(entry.capabilities), skip_verify=bool(entry.skip_verify),
            ca=list(entry.ca), client=[list(p) for p in entry.client], header=header, rewrite=rewrite,
            manifest=manifest_url(entry, ref, repository, ns=semantics not in ("docker", "containers")),
            notes=notes))
    if not entries and semantics != "containers":
        raise InputError(f"no host is configured for {ref.registry}")
    return Resolution(image=ref.name, registry=ref.registry, source=origin, hosts=hosts, skipped=skipped)


def render_text(result: Resolution) -> str:
    lines = [f"image:    {result.image}", f"registry: {result.registry} (from {result.source})"]
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
        lines.append(f"{number}. {host.url}  [{'; '.join(settings)}]")
        lines.append(f"   HEAD {host.manifest}")
        lines.extend(f"   note: {note}" for note in host.notes)
    lines.extend(f"skipped {text}" for text in result.skipped)
    return secrets.redact("\n".join(lines)) + "\n"
