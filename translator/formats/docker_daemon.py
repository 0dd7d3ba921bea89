"""docker-daemon: Docker's `/etc/docker/daemon.json` registry settings and its certificate directory.

    {"registry-mirrors": ["https://mirror.gcr.io", "http://10.0.0.5:5000"],
     "insecure-registries": ["harbor.internal:8443", "10.0.0.0/8"]}

plus `/etc/docker/certs.d/<host[:port]>/` (`--docker-certs-dir`): `*.crt` CAs, `x.cert` + `x.key`
client pairs, and `hosts.toml`, which only the containerd image store reads (Docker 24+;
the default for new installs since Docker 29). Read as Docker's registry service does it
(moby `daemon/pkg/registry/config.go`, `service_v2.go` `lookupV2Endpoints`, `daemon/hosts.go`):
- `registry-mirrors` apply to Docker Hub only: each mirror in order (a path gets `/v2`
  appended unless it ends in `/v2`; duplicates dropped), then `https://registry-1.docker.io`.
  A mirror needs `http://` or `https://`: anything else stops dockerd from starting.
- `insecure-registries`: a `host[:port]` (exactly, port included) is tried over HTTPS without
  certificate verification, then over plain http; a CIDR range does that for every registry
  whose address is in it. `127.0.0.0/8` and `::1/128` are always insecure. Docker Hub never is.
  An insecure mirror host skips verification but is not retried over http.
- Certificates in `<certs dir>/<host>/` apply to every connection to that host, mirror or not.
Versions: Docker Engine 20.10 to 29.
"""

from __future__ import annotations

import ipaddress
import os

from .. import endpoints as ep_rules
from .. import files, gourl
from ..errors import InputError, Problem
from ..files import Listing
from ..model import ALL_CAPABILITIES, MIRROR_CAPABILITIES, Change, Config, Endpoint, Host
from . import json_in

NAME = "docker-daemon"
DEFAULT_CERTS_DIR = "/etc/docker/certs.d"
KEYS = ("registry-mirrors", "insecure-registries")
#: daemon.json keys people write that dockerd does not know: it refuses to start on them
MISSPELLED = {"registry-mirror": "registry-mirrors", "insecure-registry": "insecure-registries",
              "registry_mirrors": "registry-mirrors", "insecure_registries": "insecure-registries",
              "mirrors": "registry-mirrors", "registryMirrors": "registry-mirrors",
              "insecureRegistries": "insecure-registries"}
#: daemon.json keys dockerd no longer has (removed in Docker 23.0 unless noted): it refuses to start on them
REMOVED = {"graph": "data-root", "cluster-store": None, "cluster-store-opts": None, "cluster-advertise": None,
           "oom-score-adjust": None}  # oom-score-adjust: removed in Docker 25.0
DEFAULT_RANGES = ("127.0.0.0/8", "::1/128")
HUB_UPSTREAM = f"https://{ep_rules.DOCKER_HUB_HOST}/v2"


def looks_like(document: object) -> bool:
    """For detection: daemon.json's registry keys (or a misspelling of them; `mirrors` alone is
    registries.yaml's)."""
    return isinstance(document, dict) and any(k in document for k in (*KEYS, *MISSPELLED) if k != "mirrors")


def in_ranges(hostport: str, ranges: tuple[str, ...] | list[str]) -> bool:
    """True when HOSTPORT's address is in one of RANGES (`localhost` is 127.0.0.1; other names
    would need DNS, which Docker does and this tool cannot)."""
    host = ep_rules.split_host_port(hostport)[0]
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for text in ranges:
        network = ipaddress.ip_network(text, strict=False)
        if address.version == network.version and address in network:
            return True
    return False


def mirror_url(raw: str) -> str:
    """The URL prefix Docker requests under for a `registry-mirrors` entry (ValidateMirror, then
    /v2 appended unless the path ends in it); InputError for what dockerd refuses."""
    scheme, sep, _rest = raw.partition("://")
    if not sep or not scheme:
        raise InputError(f"invalid mirror {raw!r}: no scheme; dockerd refuses to start", code="docker-invalid-mirror",
                         fix="write https:// or http:// in front of it")
    try:
        url = gourl.parse(raw)
    except gourl.URLError as exc:
        raise InputError(f"invalid mirror {raw!r} ({exc}); dockerd refuses to start",
                         code="docker-invalid-mirror") from None
    if url.scheme not in ("http", "https"):
        raise InputError(f"invalid mirror {raw!r}: scheme {url.scheme!r}; dockerd refuses to start",
                         code="docker-invalid-mirror", fix="use https:// or http://")
    if url.raw_query or url.fragment or "?" in raw or "#" in raw:
        raise InputError(f"invalid mirror {raw!r}: query or fragment; dockerd refuses to start",
                         code="docker-invalid-mirror")
    if "@" in raw.split("://", 1)[1].split("/", 1)[0]:
        raise InputError("invalid mirror: username/password not allowed in the URL; dockerd refuses to start",
                         code="docker-invalid-mirror")
    if not ep_rules.valid_hostport(url.host):
        raise InputError(f"invalid mirror {raw!r}: no valid host", code="docker-invalid-mirror")
    path = gourl.clean_path(url.path.rstrip("/")) if url.path.strip("/") else ""
    if not path.endswith("/v2"):
        path += "/v2"
    return ep_rules.canonical_url(url.scheme, url.host, path)


class _Reader:
    def __init__(self, text: str, name: str, certs: Listing | None, certs_label: str) -> None:
        self.text = text
        self.name = name
        self.certs = certs
        self.certs_label = certs_label
        self.lines: dict[tuple[str, ...], int] = {}
        self.problems: list[Problem] = []
        self.notes: list[Change] = []

    def problem(self, severity: str, code: str, path: tuple[str, ...], message: str, fix: str = "") -> None:
        self.problems.append(Problem(severity, code, message, fix, file=self.name,
                                     line=json_in.line_of(self.lines, *path), key=".".join(path) or None))

    def fail(self, path: tuple[str, ...], exc: InputError) -> InputError:
        return exc.located(self.name, json_in.line_of(self.lines, *path))

    def strings(self, document: dict, key: str) -> list[str]:
        value = document.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail((key,), InputError(f"{key} must be a list of strings; dockerd refuses to start"))
        return value

    def read(self) -> Config:
        self.lines = json_in.index(self.text)
        document = json_in.parse(self.text, self.name) if self.text.strip() else {}
        if not isinstance(document, dict):
            raise InputError("daemon.json must hold a JSON object", file=self.name, line=1)
        for key, right in [*MISSPELLED.items(), *REMOVED.items()]:
            if key in document:
                raise self.fail((key,), InputError(
                    f"dockerd does not know {key!r} and refuses to start (\"the following directives don't match any "
                    "configuration option\")", fix=f"use {right!r}" if right else "remove it",
                    code="docker-unknown-directive"))
        mirrors: list[str] = []
        for index, raw in enumerate(self.strings(document, "registry-mirrors")):
            try:
                url = mirror_url(raw)
            except InputError as exc:
                raise self.fail(("registry-mirrors", str(index)), exc) from None
            if url not in mirrors:
                mirrors.append(url)
        insecure: list[str] = []
        ranges: list[str] = []
        for index, raw in enumerate(self.strings(document, "insecure-registries")):
            self.insecure_entry(raw, ("insecure-registries", str(index)), insecure, ranges)
        tls = self.certificates()
        tree_hosts = self.hosts_files()
        for registry, host in tree_hosts.items():
            only = host.endpoints[0] if len(host.endpoints) == 1 else None
            if only is not None and only.url.startswith("https://") and (only.ca or only.client):
                tls.setdefault(registry, (only.ca, only.client))
        all_ranges = (*ranges, *DEFAULT_RANGES)

        def is_insecure(hostport: str) -> bool:
            if hostport == ep_rules.DOCKER_HUB:
                return False
            return hostport in insecure or in_ranges(hostport, all_ranges)

        def settings(hostport: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
            return tls.get(hostport, ((), ()))

        hosts: dict[str, Host] = {}
        if mirrors:
            entries = []
            for url in mirrors:
                hostport = ep_rules.url_hostport(url)
                ca, client = settings(hostport) if url.startswith("https://") else ((), ())
                skip = True if url.startswith("https://") and is_insecure(hostport) else None
                entries.append(Endpoint(url, MIRROR_CAPABILITIES, ca, client, skip))
            entries.append(Endpoint(HUB_UPSTREAM, ALL_CAPABILITIES))
            hosts[ep_rules.DOCKER_HUB] = Host(ep_rules.DOCKER_HUB, tuple(entries))
        for hostport in [*insecure, *[h for h in tls if h not in insecure]]:
            if hostport == ep_rules.DOCKER_HUB or hostport in hosts:
                continue
            hosts[hostport] = Host(hostport, tuple(registry_list(hostport, *settings(hostport), is_insecure(hostport))))
        for registry, host in tree_hosts.items():
            if len(host.endpoints) > 1 or registry not in hosts:
                hosts[registry] = host
        ordered = dict(sorted(hosts.items()))
        return Config(hosts=ordered, notes=tuple(self.notes), problems=tuple(self.problems), source_format=NAME,
                      insecure_ranges=tuple(ranges))

    def insecure_entry(self, raw: str, path: tuple[str, ...], insecure: list[str], ranges: list[str]) -> None:
        value = raw
        if "://" in value:
            scheme, _, rest = value.partition("://")
            if scheme.lower() not in ("http", "https"):
                raise self.fail(path, InputError(f"insecure registry {raw!r} should not contain '://'; dockerd refuses "
                                                 "to start", code="docker-invalid-insecure"))
            self.problem("warning", "insecure-with-scheme", path, f"insecure registry {raw!r}: dockerd removes "
                         f"{scheme}:// and warns", f"write {rest!r}")
            value = rest
        try:
            network = ipaddress.ip_network(value, strict=False) if "/" in value else None
        except ValueError:
            network = None
        if network is not None:
            if str(network) not in ranges:
                ranges.append(str(network))
            return
        if not ep_rules.valid_hostport(value):
            raise self.fail(path, InputError(f"insecure registry {raw!r} is not host[:port] or a CIDR range; dockerd "
                                             "refuses to start", code="docker-invalid-insecure"))
        if value in (ep_rules.DOCKER_HUB, "index.docker.io"):
            self.problem("warning", "insecure-docker-hub", path, "Docker Hub is always secure: dockerd ignores it in "
                         "insecure-registries", "remove it")
            return
        if value not in insecure:
            insecure.append(value)

    # -- the certificate directory ---------------------------------------------------------
    def certificates(self) -> dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]:
        """{host: (CA files, client pairs)} from `<certs dir>/<host>/` without a hosts.toml."""
        found: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {}
        if self.certs is None:
            return found
        for dirname, entry in sorted(self.certs.entries.items()):
            if entry.kind != "dir" or entry.hosts_toml or not ep_rules.valid_hostport(dirname):
                continue
            base = os.path.join(self.certs.root, dirname) if self.certs.root else dirname
            label = f"{self.certs_label.rstrip('/')}/{dirname}"
            ca = tuple(os.path.join(base, n) for n in entry.names if n.endswith(".crt"))
            client = []
            for n in entry.names:
                if n.endswith(".cert"):
                    key = n[:-5] + ".key"
                    if key not in entry.names:
                        self.problems.append(Problem("error", "lone-cert-or-key", f"{n} has no {key}: Docker fails "
                                                     "every pull through this host", f"add {key}", file=label))
                        continue
                    client.append((os.path.join(base, n), os.path.join(base, key)))
                elif n.endswith(".key") and n[:-4] + ".cert" not in entry.names:
                    self.problems.append(Problem("error", "lone-cert-or-key", f"{n} has no {n[:-4]}.cert: Docker "
                                                 "fails every pull through this host", "add the certificate",
                                                 file=label))
            if ca or client:
                found[dirname] = (ca, tuple(client))
        return found

    def hosts_files(self) -> dict[str, Host]:
        """Registries whose certificate directory has a hosts.toml (the containerd image store)."""
        if self.certs is None:
            return {}
        with_toml = {d: e for d, e in self.certs.entries.items() if e.kind == "dir" and e.hosts_toml}
        if not with_toml:
            return {}
        from . import certs_d

        tree = certs_d.read(Listing(self.certs.root, with_toml), self.certs_label)
        self.problems.extend(tree.problems)
        self.notes.extend(tree.notes)
        for dirname in sorted(with_toml):
            self.problems.append(Problem("info", "hosts-toml-containerd-store-only", "only Docker's containerd image "
                                         "store reads hosts.toml; the classic store uses the certificate files alone",
                                         "keep the certificate files beside it for the classic store",
                                         file=f"{self.certs_label.rstrip('/')}/{dirname}/hosts.toml"))
        return {name: host for name, host in tree.hosts.items() if name != "*"}


def registry_list(hostport: str, ca: tuple[str, ...], client: tuple[tuple[str, str], ...],
                  insecure: bool) -> list[Endpoint]:
    """What Docker tries for a registry that is not Docker Hub: HTTPS with the host's
    certificates, and for an insecure one HTTPS without verification, then plain http."""
    if not insecure:
        return [Endpoint(f"https://{hostport}/v2", ALL_CAPABILITIES, ca, client)]
    return [Endpoint(f"https://{hostport}/v2", ALL_CAPABILITIES, ca, client, True),
            Endpoint(f"http://{hostport}/v2", ALL_CAPABILITIES)]


def default_list(registry: str, ranges: tuple[str, ...]) -> list[Endpoint]:
    """What Docker tries for a registry daemon.json does not name."""
    if registry == ep_rules.DOCKER_HUB:
        return [Endpoint(HUB_UPSTREAM, ALL_CAPABILITIES)]
    return registry_list(registry, (), (), in_ranges(registry, (*ranges, *DEFAULT_RANGES)))


def read(text: str, name: str, *, certs_dir: str | None = None, certs: Listing | None = None) -> Config:
    """The model Docker builds from daemon.json TEXT and the certificate directory (CERTS, or
    the tree at CERTS_DIR, default /etc/docker/certs.d, when it exists)."""
    label = certs_dir or DEFAULT_CERTS_DIR
    if certs is None and files.is_dir(label):
        certs = files.read_tree(label)
    return _Reader(text, name, certs, label).read()
