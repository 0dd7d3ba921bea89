"""registries-conf: `containers-registries.conf` version 2 (CRI-O, Podman, Buildah, Skopeo).

`/etc/containers/registries.conf`, then every `*.conf` in `registries.conf.d/` beside it in
name order (a later file replaces a `[[registry]]` with the same prefix, and its
`unqualified-search-registries`, `short-name-mode` and aliases win):

    unqualified-search-registries = ["docker.io"]

    [[registry]]
    prefix = "docker.io"
    location = "docker.io"

    [[registry.mirror]]
    location = "mirror.example.com:5000/hub"
    insecure = true
    pull-from-mirror = "digest-only"

Read as containers/image (`pkg/sysregistriesv2/system_registries_v2.go`, `docker/docker_client.go`,
5.x) reads it: the `[[registry]]` with the longest matching `prefix` wins (a namespace
`docker.io/library`, or `*.example.com` for its subdomains); its mirrors are tried in order
(`digest-only` ones for digests, `tag-only` ones for tags, all of them only for digests under
`mirror-by-digest-only`), then its `location` unless it is `blocked`, which refuses every pull.
A location's path goes under `/v2` (`mirror.example.com/google_containers` requests
`/v2/google_containers/<repository>/…`); `docker.io` is reached at registry-1.docker.io;
`insecure` tries HTTPS without verification, then plain http. The model keeps namespaces and
wildcards as entries of their own (`docker.io/library`, `*.example.com`), a blocked registry as
one with no endpoints, a `tag-only` mirror as resolve-only, a `digest-only` one as pull-only.
Version 1 files (`[registries.search]`) are refused with a pointer to version 2.
"""

from __future__ import annotations

import os
import re

from .. import endpoints as ep_rules
from .. import files
from ..errors import InputError, Problem
from ..model import (
    ALL_CAPABILITIES,
    IMAGE_UPSTREAM,
    MIRROR_CAPABILITIES,
    Change,
    Config,
    Endpoint,
    Host,
    ShortNames,
    host_path,
    is_prefix_name,
)
from ..record import field, record
from . import toml_out

NAME = "registries-conf"
TOP_KEYS = ("unqualified-search-registries", "short-name-mode", "registry", "aliases", "credential-helpers",
            "additional-layer-store-auth-helper")
REGISTRY_KEYS = ("prefix", "location", "insecure", "blocked", "mirror", "mirror-by-digest-only", "pull-from-mirror")
MIRROR_KEYS = ("location", "insecure", "pull-from-mirror")
PULL_FROM_MIRROR = ("", "all", "digest-only", "tag-only")
SHORT_NAME_MODES = ("", "disabled", "enforcing", "permissive")
KNOWN_MISTAKES = {
    "mirrors": "mirrors are [[registry.mirror]] tables", "endpoint": "the key is location",
    "url": "the key is location (host[/path], no scheme)", "tls-verify": "write insecure = true",
    "skip_verify": "write insecure = true", "insecure_skip_verify": "write insecure = true",
    "mirror_by_digest_only": "the key is mirror-by-digest-only", "pull_from_mirror": "the key is pull-from-mirror",
    "unqualified_search_registries": "the key is unqualified-search-registries",
}
#: every format but this one: what the reader's notes about containerd-only limits concern
OTHER_FORMATS = frozenset({"registries-yaml", "cri-v1", "cri-v2", "cri-v3", "certs-d", "docker-daemon"})
R_TAG_ONLY = ("pull-from-mirror = \"tag-only\" has no containerd equivalent: written as a resolve-only host, which "
              "containerd never pulls from")
_DOMAIN = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                     r"(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$")


@record(mutable=True)
class _Mirror:
    location: str
    insecure: bool = False
    pull: str = ""


@record(mutable=True)
class _Registry:
    prefix: str
    location: str
    insecure: bool = False
    blocked: bool = False
    digest_only: bool = False
    mirrors: list[_Mirror] = field(default_factory=list)
    file: str = ""
    line: int | None = None


@record(mutable=True)
class _Parsed:
    registries: list[_Registry]
    search: list[str] | None
    mode: str
    aliases: dict[str, str]


def _header_lines(text: str, header: str) -> list[int]:
    pattern = re.compile(r"^\s*\[\[\s*" + re.escape(header).replace(r"\.", r"\s*\.\s*") + r"\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


class _File:
    """One registries.conf or drop-in, parsed and checked as containers/image does."""

    def __init__(self, text: str, name: str, problems: list[Problem]) -> None:
        self.text = text
        self.name = name
        self.problems = problems
        self.registry_lines = _header_lines(text, "registry")

    def fail(self, message: str, line: int | None = None, fix: str | None = None) -> InputError:
        return InputError(message + "; containers/image refuses the configuration", file=self.name, line=line, fix=fix,
                          code="registries-conf-rejected")

    def warn(self, code: str, message: str, fix: str = "", line: int | None = None, key: str | None = None,
             severity: str = "warning") -> None:
        self.problems.append(Problem(severity, code, message, fix, file=self.name, line=line, key=key))

    def unknown(self, keys: object, known: tuple[str, ...], where: str, line: int | None) -> None:
        for key in keys:  # type: ignore[attr-defined]
            if key not in known:
                self.warn("unknown-key", f"unknown key {where}{key!r} is ignored by containers/image",
                          KNOWN_MISTAKES.get(key, "known keys: " + ", ".join(known)), line, f"{where}{key}")

    def string(self, table: dict, key: str, line: int | None) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise self.fail(f"{key} must be a string", line)
        return value

    def boolean(self, table: dict, key: str, line: int | None) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{key} must be true or false", line)
        return value

    def location(self, raw: str, line: int | None) -> str:
        trimmed = raw.rstrip("/")
        if trimmed.startswith(("http://", "https://")):
            raise self.fail(f"invalid location {raw!r}: URI schemes are not supported", line,
                            fix="write host[:port][/path] and insecure = true for plain http")
        return trimmed

    def parse(self, forced_v2: bool) -> _Parsed:
        tree = toml_out.parse(self.text, self.name)
        if "registries" in tree:
            return self.version1(tree, forced_v2)
        self.unknown(tree, TOP_KEYS, "", None)
        search = tree.get("unqualified-search-registries")
        if search is not None:
            if not isinstance(search, list) or not all(isinstance(s, str) for s in search):
                raise self.fail("unqualified-search-registries must be a list of strings")
            search = [self.location(s, None) for s in search]
            for entry in search:
                if not _DOMAIN.match(entry):
                    raise self.fail(f"invalid unqualified-search-registries entry {entry!r}")
        mode = tree.get("short-name-mode", "")
        if mode not in SHORT_NAME_MODES:
            raise self.fail(f"invalid short-name mode {mode!r}", fix="use enforcing, permissive or disabled")
        aliases = tree.get("aliases", {})
        if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
            raise self.fail("aliases must be a table of short name = \"registry/repository\"")
        raw = tree.get("registry", [])
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise self.fail("registry must be an array of [[registry]] tables")
        registries = [self.registry(table, index) for index, table in enumerate(raw)]
        self.conflicts(registries)
        return _Parsed(registries, search, mode, dict(aliases))

    def version1(self, tree: dict, forced_v2: bool) -> _Parsed:
        """A version 1 file, converted as containers/image 5.x still does (`ConvertToV2`), with an
        error that names version 2; drop-ins must be version 2 and are refused."""
        line = _first_line(self.text, "registries")
        fix = ("rewrite it as version 2: unqualified-search-registries = [...] and one [[registry]] table per "
               "registry with location, insecure = true or blocked = true")
        if forced_v2:
            raise self.fail("a drop-in must be version 2, not version 1 ([registries.search], ...)", line, fix=fix)
        if any(k in tree for k in TOP_KEYS):
            raise self.fail("mixing version 1 ([registries.*]) and version 2 keys is not supported", line, fix=fix)
        self.warn("registries-conf-v1", "a version 1 registries.conf ([registries.search], [registries.insecure], "
                  "[registries.block]): deprecated, and this tool writes version 2", fix, line, severity="error")
        sections = tree["registries"] if isinstance(tree["registries"], dict) else {}
        lists = {}
        for section in ("search", "insecure", "block"):
            table = sections.get(section, {})
            value = table.get("registries", []) if isinstance(table, dict) else []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(f"registries.{section}.registries must be a list of strings", line)
            lists[section] = value
        registries: dict[str, _Registry] = {}
        for section, flag in (("block", "blocked"), ("insecure", "insecure")):
            for raw in lists[section]:
                location = self.location(raw, line)
                entry = registries.setdefault(location, _Registry(location, location, file=self.name, line=line))
                setattr(entry, flag, True)
        search = [self.location(s, line) for s in lists["search"]] if "search" in sections else None
        return _Parsed(list(registries.values()), search, "", {})

    def registry(self, table: dict, index: int) -> _Registry:
        line = self.registry_lines[index] if index < len(self.registry_lines) else None
        self.unknown(table, REGISTRY_KEYS, "registry.", line)
        location = self.location(self.string(table, "location", line), line)
        prefix = self.string(table, "prefix", line)
        if prefix == "":
            if location == "":
                raise self.fail("invalid condition: both location and prefix are unset", line)
            prefix = location
        else:
            prefix = self.location(prefix, line)
            if not prefix.startswith("*.") and location == "":
                raise self.fail("invalid condition: location is unset and prefix is not in the format: *.example.com",
                                line)
        if prefix.startswith("*.") and any(c in prefix for c in "/@:"):
            raise self.fail(f"wildcarded prefix should be in the format *.example.com, not {prefix!r}", line)
        if table.get("pull-from-mirror"):
            raise self.fail(f"pull-from-mirror must not be set for a non-mirror registry {prefix!r}", line,
                            fix="set it on a [[registry.mirror]]")
        registry = _Registry(prefix, location, self.boolean(table, "insecure", line),
                             self.boolean(table, "blocked", line), self.boolean(table, "mirror-by-digest-only", line),
                             file=self.name, line=line)
        mirrors = table.get("mirror", [])
        if not isinstance(mirrors, list) or not all(isinstance(m, dict) for m in mirrors):
            raise self.fail("mirror must be an array of [[registry.mirror]] tables", line)
        for mirror in mirrors:
            self.unknown(mirror, MIRROR_KEYS, "registry.mirror.", line)
            pull = self.string(mirror, "pull-from-mirror", line)
            if pull not in PULL_FROM_MIRROR:
                raise self.fail(f"unsupported pull-from-mirror value {pull!r}", line,
                                fix="use all, digest-only or tag-only")
            mirror_location = self.location(self.string(mirror, "location", line), line)
            if not mirror_location:
                raise self.fail("invalid condition: mirror location is unset", line)
            if registry.digest_only and pull:
                raise self.fail(f"cannot set mirror-by-digest-only for {prefix!r} and pull-from-mirror for "
                                f"{mirror_location!r} at the same time", line)
            registry.mirrors.append(_Mirror(mirror_location, self.boolean(mirror, "insecure", line), pull))
        return registry

    def conflicts(self, registries: list[_Registry]) -> None:
        by_location: dict[str, _Registry] = {}
        for registry in registries:
            other = by_location.setdefault(registry.location or registry.prefix, registry)
            if other.insecure != registry.insecure:
                raise self.fail(f"registry {registry.location!r} is defined multiple times with conflicting "
                                "'insecure' setting", registry.line)
            if other.blocked != registry.blocked:
                raise self.fail(f"registry {registry.location!r} is defined multiple times with conflicting "
                                "'blocked' setting", registry.line)


def _first_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"^\s*\[+\s*{re.escape(key)}\b", line):
            return number
    return None


def merge(parsed: list[_Parsed], problems: list[Problem]) -> _Parsed:
    """The configuration containers/image uses: the first registry of a prefix within a file,
    the last file's across drop-ins, everything sorted by prefix."""
    registries: dict[str, _Registry] = {}
    search: list[str] | None = None
    mode = ""
    aliases: dict[str, str] = {}
    for one in parsed:
        mine: dict[str, _Registry] = {}
        for registry in one.registries:
            if registry.prefix in mine:
                problems.append(Problem("warning", "duplicate-prefix", f"prefix {registry.prefix!r} appears again: "
                                        "containers/image uses only the first one", "merge the two [[registry]] "
                                        "tables", file=registry.file, line=registry.line))
                continue
            mine[registry.prefix] = registry
        registries.update(mine)
        if one.search is not None:
            search = one.search
        mode = one.mode or mode
        aliases.update(one.aliases)
    return _Parsed([registries[p] for p in sorted(registries)], search, mode, aliases)


# --- the model ---------------------------------------------------------------------------------

def location_endpoints(location: str, insecure: bool, caps: tuple[str, ...], file: str = "",
                       line: int | None = None) -> list[Endpoint]:
    """What containers/image tries for LOCATION (host[:port][/path]): HTTPS under /v2/<path>,
    and for an insecure one HTTPS without verification, then plain http."""
    if location == "":
        return [Endpoint(IMAGE_UPSTREAM, caps, skip_verify=True if insecure else None)]
    hostport, _, path = location.partition("/")
    if not ep_rules.valid_hostport(hostport):
        raise InputError(f"location {location!r}: {hostport!r} is not host[:port]", file=file or None, line=line,
                         code="registries-conf-rejected")
    hostport = ep_rules.default_host(hostport)
    suffix = "/v2" + ("/" + path if path else "")
    https = f"https://{hostport}{suffix}"
    if not insecure:
        return [Endpoint(https, caps)]
    return [Endpoint(https, caps, skip_verify=True), Endpoint(f"http://{hostport}{suffix}", caps)]


def _valid_location(location: str) -> bool:
    """host[:port][/path] as a reference can start (or "" for a *.domain prefix)."""
    if location == "":
        return True
    hostport, _, path = location.partition("/")
    return ep_rules.valid_hostport(hostport) and all(re.fullmatch(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", part)
                                                     for part in path.split("/") if path)


def _mirror_caps(registry: _Registry, mirror: _Mirror) -> tuple[str, ...]:
    if registry.digest_only or mirror.pull == "digest-only":
        return ("pull",)
    if mirror.pull == "tag-only":
        return ("resolve",)
    return MIRROR_CAPABILITIES


def build(parsed: _Parsed, name: str, problems: list[Problem], keep_rewrites: bool = False) -> Config:
    hosts: dict[str, Host] = {}
    notes: list[Change] = []
    for registry in parsed.registries:
        prefix = registry.prefix
        if prefix == "index.docker.io" or prefix.startswith("index.docker.io/"):
            problems.append(Problem("warning", "hub-alias-key", f"prefix {prefix!r} never matches: image references "
                                    "normalise to docker.io", "use docker.io", file=registry.file, line=registry.line))
            notes.append(Change(host_path(prefix), "removed", prefix, None, "containers/image never matches this "
                                "prefix (references normalise to docker.io)"))
            continue
        if prefix == ep_rules.DOCKER_HUB_HOST or prefix.startswith(ep_rules.DOCKER_HUB_HOST + "/"):
            problems.append(Problem("warning", "hub-alias-key", f"prefix {prefix!r} matches only images named "
                                    f"{ep_rules.DOCKER_HUB_HOST}/…; Docker Hub references are docker.io/…",
                                    "use docker.io", file=registry.file, line=registry.line))
        hub_namespace = prefix.startswith("docker.io/") and "/" not in prefix[len("docker.io/"):]
        if hub_namespace and prefix != "docker.io/library":
            problems.append(Problem("info", "hub-prefix-not-normalised", f"prefix {prefix!r}: Docker Hub "
                                    "references are normalised (nginx is docker.io/library/nginx), so this prefix "
                                    "matches only repositories in that namespace", f"did you mean docker.io/library/"
                                    f"{prefix[len('docker.io/'):]}?", file=registry.file, line=registry.line))
        if not is_prefix_name(prefix) and not ep_rules.valid_hostport(prefix):
            raise InputError(f"prefix {prefix!r} is not host[:port], a namespace or *.domain", file=registry.file,
                             line=registry.line, code="registries-conf-rejected")
        if registry.blocked:
            hosts[prefix] = Host(prefix, ())
            continue
        bad = [loc for loc in [registry.location, *(m.location for m in registry.mirrors)] if not _valid_location(loc)]
        if bad:
            problems.append(Problem("error", "invalid-location", f"location {bad[0]!r} is not host[:port][/path]: "
                                    f"every pull matching {prefix!r} fails (the reference cannot be rewritten)",
                                    "write the registry's host name", file=registry.file, line=registry.line))
            notes.append(Change(host_path(prefix), "changed", bad[0], [], "containers/image cannot rewrite a reference "
                                "to this location, so every pull matching the prefix fails"))
            hosts[prefix] = Host(prefix, ())
            continue
        entries: list[Endpoint] = []
        for mirror in registry.mirrors:
            caps = _mirror_caps(registry, mirror)
            found = location_endpoints(mirror.location, mirror.insecure, caps, registry.file, registry.line)
            if caps == ("resolve",):
                notes.extend(Change(f"{host_path(prefix)}.endpoints[{e.url!r}].capabilities", "changed", "tag-only",
                                    ["resolve"], R_TAG_ONLY, targets=OTHER_FORMATS) for e in found)
            entries.extend(found)
        entries.extend(location_endpoints(registry.location, registry.insecure, ALL_CAPABILITIES, registry.file,
                                          registry.line))
        hosts[prefix] = Host(prefix, tuple(entries))
    if parsed.search is None:
        problems.append(Problem("info", "no-unqualified-search", "no unqualified-search-registries: short names "
                                "(alpine) do not resolve for Podman or CRI-O", "add unqualified-search-registries = "
                                "[\"docker.io\"]", file=name))
    if keep_rewrites:
        from .registries_conf_rewrites import fold

        hosts = fold(hosts)
    short = ShortNames(tuple(parsed.search or ()), parsed.mode, tuple(sorted(parsed.aliases.items())))
    return Config(hosts=hosts, notes=tuple(notes), problems=tuple(problems), source_format=NAME, short_names=short)


def drop_in_dir(path: str) -> str | None:
    """`registries.conf.d` beside PATH (none for standard input)."""
    if path == "-":
        return None
    return os.path.join(os.path.dirname(os.path.abspath(path)), "registries.conf.d")


def read(text: str, name: str, *, drop_ins: list[tuple[str, str]] | None = None,
         keep_rewrites: bool = False) -> Config:
    """The model containers/image builds from TEXT and DROP_INS ([(name, text)], in order)."""
    problems: list[Problem] = []
    parsed = [_File(text, name, problems).parse(forced_v2=False)] if text is not None else []
    for drop_name, drop_text in drop_ins or []:
        parsed.append(_File(drop_text, drop_name, problems).parse(forced_v2=True))
    return build(merge(parsed, problems), name, problems, keep_rewrites)


def read_path(path: str, text: str | None = None, keep_rewrites: bool = False) -> Config:
    """PATH (a file, `-`, or a registries.conf.d directory alone) with the drop-ins beside it."""
    if files.is_dir(path):
        return read(None, path, drop_ins=_drop_ins(path), keep_rewrites=keep_rewrites)  # type: ignore[arg-type]
    directory = drop_in_dir(path)
    drops = _drop_ins(directory) if directory else []
    return read(files.read_text(path) if text is None else text, path, drop_ins=drops, keep_rewrites=keep_rewrites)


def _drop_ins(directory: str) -> list[tuple[str, str]]:
    return [(path, files.read_text(path)) for path in files.files_in(directory, ".conf")]
