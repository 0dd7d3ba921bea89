"""certs-d: a containerd `certs.d` tree, `<dir>/<host>/hosts.toml` plus `_default/`.

Read the way containerd's `remotes/docker/config/hosts.go` reads it (SEMANTICS.md §2):
directory names `host:port` or `host_port_`, `_default` for every other registry, the
`[host."<url>"]` tables in file order and the root entry (`server`, or the upstream) last,
`/v2` appended unless the path ends in `/v2` or `override_path = true`, relative certificate
paths resolved against the host directory, and Docker's certificate layout (`*.crt`,
`*.cert` + `*.key`) for a directory without hosts.toml:

    server = "https://registry-1.docker.io"
    capabilities = ["pull", "resolve"]

    [host."https://mirror.example.com"]
      capabilities = ["pull", "resolve"]
      ca = "/etc/certs/mirror.pem"

What containerd cannot decode it ignores, file by file, and uses the directory's certificate
files instead (the rules of each release: translator/releases.py). Credentials cannot live in
hosts.toml; they come from the containerd config beside the tree. One file is parsed in
hosts_toml.py; writing is in certs_d_writer.py.
"""

from __future__ import annotations

import os

from .. import endpoints as ep_rules
from ..errors import Problem
from ..files import Listing
from ..model import ALL_CAPABILITIES, IMAGE_UPSTREAM, WILDCARD, Change, Config, Endpoint, Host
from ..releases import DEFAULT_TARGET, Target
from .hosts_toml import HostsFile, Ignored, localhost_fill

NAME = "certs-d"


def read(listing: Listing, name: str, *, flavor: str = "vanilla", target: Target = DEFAULT_TARGET) -> Config:
    """The model TARGET's containerd builds from the certs.d tree LISTING (FLAVOR "k3s": k3s's
    containerd, where a hosts.toml without `server` has no upstream fallback and `rewrite` applies)."""
    hosts: dict[str, Host] = {}
    problems: list[Problem] = []
    notes: list[Change] = []
    spelled: dict[str, str] = {}
    default_dir = target.has("default_dir")
    has_default = default_dir and "_default" in listing.entries and listing.entries["_default"].kind == "dir"
    for dirname in sorted(listing.entries, key=lambda d: (not d.endswith("_"), d)):
        entry = listing.entries[dirname]
        label = f"{name.rstrip('/')}/{dirname}"
        registry, _underscored = ep_rules.name_for_directory(dirname)
        if entry.kind != "dir":
            if ep_rules.valid_hostport(registry):
                problems.append(Problem("error", "host-entry-not-directory", "a file where containerd "
                                        "looks for a host directory: pulls from this registry fail",
                                        "remove it or make it a directory", file=label))
            continue
        if dirname == "*":
            problems.append(Problem("warning", "wildcard-directory", "a directory named '*' is never "
                                    "used; the fallback directory is _default", "rename it to _default", file=label))
            continue
        if registry == WILDCARD and not default_dir:
            problems.append(Problem("error" if target.explicit else "warning", "default-dir-unsupported",
                                    f"{target.who('default_dir', False)} never {target.verb('look')} in _default "
                                    "(it came with 1.6.17 and 1.7.0)", "give each registry its own directory",
                                    file=label))
            if target.explicit:
                notes.append(Change(f"hosts[{WILDCARD!r}]", "removed", "_default", None,
                                    f"containerd {target.release} never looks in _default"))
                continue
        elif registry == WILDCARD and target.concerns("default_dir", False):
            problems.append(Problem("info", "default-dir-unsupported", f"{target.who('default_dir', False)} never "
                                    "look in _default (it came with 1.6.17 and 1.7.0)",
                                    "give each registry its own directory on those releases", file=label))
        for sub in entry.nested:
            problems.append(Problem("warning", "mirror-key-has-path", f"{dirname}/{sub}/hosts.toml is never read: "
                                    "containerd reads only <host>/hosts.toml, and a mirror serves a whole registry, "
                                    "not a path below it (the docker.io/library trick does not work here either)",
                                    f"move its hosts to {dirname}/hosts.toml: they then serve every image of "
                                    f"{dirname}", file=f"{label}/{sub}/hosts.toml"))
            notes.append(Change(f"hosts[{registry!r}]", "removed", f"{dirname}/{sub}/hosts.toml", None,
                                "containerd never reads a hosts.toml below a host directory"))
        if registry != WILDCARD and not ep_rules.valid_hostport(registry):
            code = "mirror-key-has-path" if ep_rules.name_problem(dirname) else "not-a-host-directory"
            problems.append(Problem("warning", code, f"{dirname!r} is not a registry "
                                    "host name; containerd never looks it up", "remove it", file=label))
            continue
        if registry in hosts:
            problems.append(Problem("warning", "shadowed-directory", f"{spelled[registry]} is used for "
                                    f"{registry} and hides this directory", "keep one of the two", file=label))
            continue
        if dirname in ep_rules.HUB_ALIASES:
            problems.append(Problem("warning", "hub-alias-key", f"directory {dirname!r} is never used: "
                                    "image references normalise to docker.io", "name it docker.io", file=label))
        spelled[registry] = dirname
        base = os.path.join(listing.root, dirname) if listing.root else None
        file_label = f"{label}/hosts.toml"
        parser = HostsFile(file_label, registry, base, flavor, entry.hosts_toml_mode, target)
        endpoints: list[Endpoint | None]
        if entry.hosts_toml:
            try:
                endpoints = list(parser.parse(entry.hosts_toml))
            except Ignored as exc:
                problems.append(Problem("error", exc.code, exc.message, exc.fix or "", file=exc.file, line=exc.line))
                notes.append(Change(f"hosts[{registry!r}]", "changed", "hosts.toml", "the default host",
                                    "containerd ignores this hosts.toml (it fails to decode) and uses the default "
                                    "host with the directory's certificate files"))
                endpoints = [_certificate_layout(registry, entry.names, base, target)]
        else:
            endpoints = [_certificate_layout(registry, entry.names, base, target)]
            if registry != WILDCARD and has_default and not _has_certificates(entry.names):
                problems.append(Problem("warning", "empty-host-dir-hides-default",
                                        "a directory with no (or an empty) hosts.toml hides _default for "
                                        f"{registry}", "remove it, or write a hosts.toml", file=label))
        if registry != WILDCARD and has_default and entry.hosts_toml is None and _has_certificates(entry.names):
            problems.append(Problem("warning", "empty-host-dir-hides-default", "a directory holding only "
                                    f"certificate files hides _default for {registry}: containerd uses these files "
                                    "for the registry itself, and none of the _default mirrors",
                                    "write a hosts.toml that lists the mirrors, or move the files", file=label))
        problems.extend(parser.problems)
        notes.extend(parser.notes)
        hosts[registry] = Host(name=registry, endpoints=tuple(e for e in endpoints if e is not None))
    has_dirs = listing.has_dirs
    if has_dirs is None:
        has_dirs = any(entry.kind == "dir" for entry in listing.entries.values())
    if listing.root and not has_dirs:
        problems.append(Problem("warning", "empty-certs-dir", f"no host directory under {name}: containerd finds "
                                "no hosts.toml here and uses every registry's defaults",
                                "pass the certs.d directory itself (e.g. /etc/containerd/certs.d)", file=name))
    ordered = dict(sorted(hosts.items(), key=lambda kv: (kv[0] == WILDCARD, kv[0])))
    return Config(hosts=ordered, notes=tuple(notes), problems=tuple(problems), source_format=NAME)


def _has_certificates(names: tuple[str, ...]) -> bool:
    return any(n.endswith((".crt", ".cert")) for n in names)


def _certificate_layout(registry: str, names: tuple[str, ...], base: str | None, target: Target) -> Endpoint:
    """containerd's `loadCertFiles`: *.crt are CAs, x.cert a client cert with x.key if present."""
    directory = base or ""
    ca = tuple(os.path.join(directory, n) for n in names if n.endswith(".crt"))
    client = []
    for n in names:
        if n.endswith(".cert"):
            key = n[:-5] + ".key"
            client.append((os.path.join(directory, n), os.path.join(directory, key) if key in names else ""))
    if registry == WILDCARD:
        return Endpoint(url=IMAGE_UPSTREAM, capabilities=ALL_CAPABILITIES, ca=ca, client=tuple(client))
    fill = localhost_fill(registry, target)
    return Endpoint(url=fill.url, capabilities=ALL_CAPABILITIES, ca=ca, client=tuple(client),
                    skip_verify=fill.skip_verify)
