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
    #: containerd tries https first and falls back to http on a TLS error (hosts.go, 2.x rules)
    https_first: bool = False
    #: containerd skips verification of this filled-in localhost upstream (hosts.go, 1.6.25+/1.7.8+/2.x)
    localhost_skip_verify: bool = False

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
    if config.source_format == "registries-yaml":
        return "k3s"
    if config.source_format.startswith("cri-") and not config.config_path:
        return "legacy"
    return "hosts"


def host_list(config: Config, registry: str, semantics: str) -> tuple[list[Endpoint], str, list[bool]]:
    """The endpoints containerd tries for REGISTRY, where they came from, and which of them is the
    upstream containerd filled in (no `server`)."""
    upstream = ep_rules.legacy_upstream(registry) if semantics == "legacy" else ep_rules.hosts_upstream(registry)
    found = config.hosts.get(registry)
    origin = f"hosts[{registry!r}]"
    if found is None:
        found = config.hosts.get(WILDCARD)
        origin = "hosts['*'] (_default)" if semantics != "legacy" else "mirrors['*']"
    if found is None:
        caps = MIRROR_CAPABILITIES if semantics == "legacy" else ALL_CAPABILITIES
        return [Endpoint(upstream, caps)], "no entry: the registry itself", [True]
    entries = list(found.endpoints)
    if semantics == "legacy" and found.name == WILDCARD and any(e.hostport == registry for e in entries if e.url):
        entries = [e for e in entries if e.url != IMAGE_UPSTREAM]
    resolved = []
    filled = []
    for entry in entries:
        filled.append(entry.url == IMAGE_UPSTREAM)
        if entry.url == IMAGE_UPSTREAM:
            entry = Endpoint(upstream, entry.capabilities, entry.ca, entry.client, entry.skip_verify,
                             entry.header, entry.rewrite, entry.dial_timeout)
        resolved.append(entry)
    return resolved, origin, filled


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


def manifest_url(endpoint: Endpoint, ref: Reference, repository: str) -> str:
    url = f"{endpoint.url}/{repository}/manifests/{ref.object}"
    host = endpoint.hostport
    if host != ref.registry and not (ref.registry == ep_rules.DOCKER_HUB and host == ep_rules.DOCKER_HUB_HOST):
        url += "?ns=" + gourl.query_escape(ref.registry)
    return url


def resolve(image: str, config: Config, semantics: str | None = None) -> Resolution:
    ref = parse(image)
    semantics = semantics or semantics_of(config)
    entries, origin, filled = host_list(config, ref.registry, semantics)
    needed = {"pull"} if ref.digest else {"pull", "resolve"}
    hosts: list[ResolvedHost] = []
    skipped: list[str] = []
    header_global = {k: list(v) for k, v in config.headers.items()}
    for entry, default in zip(entries, filled):
        if not needed <= set(entry.capabilities):
            skipped.append(f"{entry.url}: capabilities {', '.join(entry.capabilities) or 'none'} lack "
                           f"{' and '.join(sorted(needed - set(entry.capabilities)))}")
            continue
        repository = ref.repository
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
            manifest=manifest_url(entry, ref, repository), notes=notes,
            **_tls_defaults(entry, default and semantics == "hosts", ref.registry, semantics)))
    if not entries:
        raise InputError(f"no host is configured for {ref.registry}")
    return Resolution(image=ref.name, registry=ref.registry, source=origin, hosts=hosts, skipped=skipped)


def _tls_defaults(entry: Endpoint, filled: bool, registry: str, semantics: str) -> dict[str, bool]:
    """What containerd's hosts.go adds to an entry: skip_verify for a filled-in localhost upstream
    not on port 80, and HTTPS-first for an http:// entry with TLS configured, not on port 80."""
    if semantics != "hosts":
        return {}
    skip = filled and ep_rules.is_localhost(registry) and ep_rules.split_host_port(registry)[1] != "80"
    port = ep_rules.split_host_port(entry.hostport)[1]
    first = entry.scheme == "http" and (entry.has_tls() or skip) and port != "80"
    return {"https_first": first, "localhost_skip_verify": skip}


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
