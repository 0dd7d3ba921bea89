"""One `hosts.toml`, parsed as a given containerd release parses it (`remotes/docker/config/hosts.go`).

    server = "https://registry-1.docker.io"
    capabilities = ["pull", "resolve"]

    [host."https://mirror.example.com"]
      capabilities = ["pull", "resolve"]
      ca = "/etc/certs/mirror.pem"

What containerd rejects with a parse error (`failed to decode`) makes it ignore the whole file,
`server` included, and fall back to the directory's certificate files: `parse` raises `Ignored`
for those, and the tree reader (certs_d.py) does what containerd does. Which errors there are
depends on the release (`referrers` before 2.2, a missing `[host]` table in 1.5-1.7.31, a bad
`dial_timeout` from 2.0.7), and so do the upstream filled in for a localhost registry and the way
`[host."…"]` tables are listed (2.x lists table headers only): all looked up in translator/releases.py.
"""

from __future__ import annotations

import functools
import os
import re

from .. import endpoints as ep_rules
from .. import gourl, secrets
from ..errors import InputError, Problem
from ..model import ALL_CAPABILITIES, IMAGE_UPSTREAM, WILDCARD, Change, Endpoint, endpoint_path, ordered_capabilities
from ..patterns import lazy
from ..releases import DEFAULT_TARGET, Release, Target
from . import toml_out

HOST_FIELDS = ("capabilities", "ca", "client", "skip_verify", "header", "override_path", "dial_timeout")
_ROOT_FIELDS = frozenset((*HOST_FIELDS, "server", "host"))
KNOWN_CAPABILITIES = ("pull", "resolve", "push", "referrers")
KNOWN_MISTAKES = {
    "skip-verify": "the key is skip_verify",
    "insecure_skip_verify": "hosts.toml spells it skip_verify",
    "username": "hosts.toml cannot hold credentials; put them in the containerd config",
    "password": "hosts.toml cannot hold credentials; put them in the containerd config",
    "auth": "hosts.toml cannot hold credentials; put them in the containerd config",
    "plain_http": "containerd has no plain_http key; write the host as http://…",
    "rewrite": "only k3s's containerd applies rewrite; use an override_path URL",
    "headers": "the table is header (singular)",
    "ca_file": "hosts.toml spells it ca",
    "proxy": "no released containerd reads proxy (containerd PR #13359 is not merged); set HTTPS_PROXY for "
             "the containerd service",
}
# a header of a simple hosts.toml (every file this tool writes): [host."<url>"] or [host."<url>".<table>]
_SIMPLE_HOST_HEADER = lazy(r'\[host\."([^"\\\x00-\x1f\x7f]*)"(?:\.[A-Za-z0-9_-]+)?\][ \t]*(?:#[^\n]*)?')
# the keys of a table that `settings` does not read: such a table is an endpoint without settings
_NO_SETTINGS = frozenset({"capabilities", "override_path", "server", "host"})
_PLAIN_HOST_FIELDS = frozenset({"capabilities", "override_path"})
# capability lists already validated and ordered (without referrers, whose check depends on the release)
_KNOWN_CAPABILITY_LISTS: dict[tuple[str, ...], tuple[str, ...]] = {}
_BARE_HOST_HEADER = lazy(r"\[host\][ \t]*(?:#[^\n]*)?")
# every line that starts with `[` (after blanks): each a table header when there is no multi-line string
_HEADER_LINE = lazy(r"^[ \t]*\[[^\n]*", re.M)


def _host_headers(text: str) -> list[tuple[str, ...]]:
    """The paths of the `[host…]` table headers of TEXT (parsed TOML), in order. A file without
    multi-line strings, whose every header is a simple one, is read with one regular expression
    (every line that starts with `[` is then a header); anything else by the full line scanner."""
    if "\"\"\"" not in text and "\'\'\'" not in text:
        simple: list[tuple[str, ...]] | None = []
        for line in _HEADER_LINE.findall(text):
            header = _SIMPLE_HOST_HEADER.fullmatch(line)
            if header is not None:
                simple.append(("host", header.group(1)))  # type: ignore[union-attr]
            elif _BARE_HOST_HEADER.fullmatch(line) is None:
                simple = None  # another table, or a header this expression does not read: the scanner decides
                break
        if simple is not None:
            return simple
    from . import toml_lines  # the line scanner loads only for a file it is needed for

    return [entry.path for entry in toml_lines.scan(text)
            if entry.kind == "table" and len(entry.path) >= 2 and entry.path[0] == "host"]


def _one_header_per_key(text: str, hosts: dict) -> bool:
    """Whether 2.x lists HOSTS (from TEXT, parsed TOML) simply in their order: every key has a line of
    its own `[host."<key>"]` and no host holds a table (so no sub-table header lists a host again,
    and no key was made before its header), outside any multi-line string. A file tomllib accepted
    cannot define one of those tables twice, so these are its only host headers, in dict order."""
    if "\"\"\"" in text or "\'\'\'" in text:
        return False
    for key, table in hosts.items():
        if type(table) is not dict or '"' in key or "\\" in key or not key.isprintable():
            return False
        if f'\n[host."{key}"]\n' not in text:
            return False
        for value in table.values():
            if type(value) is dict:
                return False
    return True


_DURATION = lazy(r"^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$")

Path = tuple[str, ...]


class Ignored(InputError):
    """containerd fails to decode the file and ignores it, `server` included."""


def localhost_fill(registry: str, target: Target) -> Endpoint:
    """The upstream containerd fills in for REGISTRY when no `server` names one (SEMANTICS §2.4):
    Docker Hub's registry-1, a localhost registry by the release's rules (scheme by port, and a
    forced skip_verify), otherwise https://<registry>."""
    url, skip = ep_rules.upstream_fill(registry, target.release)
    return Endpoint(url, ALL_CAPABILITIES, skip_verify=skip)


@functools.cache
def _reading_rules(release: Release) -> tuple[bool, bool]:
    """(override_path is read, every `host` key is listed in line order) for RELEASE: looked up once
    per release, not once per file of a fleet."""
    return release.supports("override_path"), release.host_listing() == "line-order-unique"


class HostsFile:
    """One hosts.toml of registry REGISTRY, read for TARGET (FLAVOR "k3s": k3s's containerd, where
    a file without `server` has no upstream and `rewrite` applies)."""

    def __init__(self, label: str, registry: str, base: str | None, flavor: str, mode: int | None,
                 target: Target = DEFAULT_TARGET) -> None:
        self.label = label
        self.registry = registry
        self.base = base
        self.flavor = flavor
        self.mode = mode
        self.target = target
        self.release = target.release
        self.reads_override_path, self.lists_every_key = _reading_rules(target.release)
        self.problems: list[Problem] = []
        self.notes: list[Change] = []
        self.text = ""
        self._lines: dict[Path, int] | None = None

    @property
    def lines(self) -> dict[Path, int]:
        """Line numbers, found only when a message needs one (tomllib does not report them)."""
        if self._lines is None:
            from . import toml_lines

            self._lines = toml_lines.index(self.text)
        return self._lines

    def warn(self, code: str, path: Path, message: str, fix: str = "", severity: str = "warning") -> None:
        line = _line_of(self.lines, path)
        self.problems.append(Problem(severity, code, message, fix, file=self.label, line=line,
                                     key=".".join(path) or None))

    def fail(self, path: Path, message: str, fix: str | None = None, code: str = "hosts-toml-ignored") -> Ignored:
        line = _line_of(self.lines, path)
        return Ignored(message + "; containerd ignores the whole file", file=self.label, line=line, fix=fix,
                       code=code)

    # -- the file -------------------------------------------------------------------------------
    def parse(self, data: bytes) -> list[Endpoint]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Ignored(f"not UTF-8 text (byte {exc.start}); containerd ignores the whole file",
                          file=self.label, code="syntax-error") from None
        try:
            tree = toml_out.parse(text, self.label)
        except InputError as exc:
            raise Ignored(exc.message + "; containerd ignores the whole file", file=self.label, line=exc.line,
                          fix="fix the TOML syntax", code="syntax-error") from None
        self.text = text
        hosts = tree.get("host", None)
        if hosts is None:
            self.no_host_table()
            hosts = {}
        if not isinstance(hosts, dict):
            raise self.fail(("host",), "host must be a table of [host.\"<url>\"] tables")
        for key in tree:
            if key not in _ROOT_FIELDS:
                self.unknown(key, (key,))
        entries = []
        for key in self.listed(hosts):
            table = hosts[key]
            if not isinstance(table, dict):
                raise self.fail(("host", key), f"host {key!r} must be a table")
            if not table.keys() <= _PLAIN_HOST_FIELDS:  # more than capabilities and override_path: check each
                for field in table:
                    if field not in HOST_FIELDS and not (field == "rewrite" and self.flavor == "k3s"):
                        self.unknown(field, ("host", key, field))
            entry = self.entry(key, table, ("host", key))
            if entry is not None:
                entries.append(entry)
        server = tree.get("server", None)
        if server is not None and not isinstance(server, str):
            raise self.fail(("server",), "server must be a string")
        root, explicit = self.root(server, tree)
        if root is not None:
            entries.append(root)
        self.check_entries(entries, explicit)
        return entries

    def no_host_table(self) -> None:
        target = self.target
        if target.has("requires_host_table"):
            raise self.fail((), f"no [host] table: {target.who('requires_host_table')} rejects the file with "
                                "\"invalid `host` tree\" (containerd#10027)", fix="add a bare [host] line",
                            code="no-host-table")
        if target.concerns("requires_host_table"):
            self.warn("no-host-table", (), f"hosts.toml has no [host] table: {target.who('requires_host_table')} "
                      f"{target.verb('ignore')} the file (server included) and use the default host "
                      "(containerd#10027)",
                      "add a bare [host] line")

    def listed(self, hosts: dict) -> list[str]:
        """The `[host."…"]` keys in the order the release lists them: 1.x every key once, in line
        order; 2.x only table headers, a host listed again when its sub-table follows another host."""
        if self.lists_every_key or _one_header_per_key(self.text, hosts):
            return list(hosts)
        listed: list[str] = []
        previous = None
        for path in _host_headers(self.text):
            if path[1] != previous and path[1] in hosts:
                listed.append(path[1])
            previous = path[1]
        headers = set(listed)
        for key in hosts:
            if key not in headers:
                self.warn("host-not-a-table", ("host", key), f"{key!r} is written as a dotted key or an inline table: "
                          f"{self.target.who('host_listing', 'table-headers')} only {self.target.verb('list')} "
                          "[host.\"…\"] table headers, "
                          "so this host is never tried", f"write it as a [host.{toml_out.key(key)}] table",
                          severity="error" if self.target.explicit else "warning")
        return listed

    def unknown(self, key: str, path: Path) -> None:
        code = "rewrite-on-vanilla" if key == "rewrite" else "unknown-key"
        hint = KNOWN_MISTAKES.get(key, f"containerd knows only server, {', '.join(HOST_FIELDS)}")
        self.warn(code, path, f"unknown key {key!r} is ignored by containerd", hint)
        if code == "unknown-key":
            self.notes.append(Change(f"hosts[{self.registry!r}].{'.'.join(path)}", "removed", key, None,
                                     f"no released containerd reads {key!r}; a conversion does not carry it"))

    def url(self, key: str, override: bool, path: Path) -> tuple[str, str] | None:
        """(canonical URL, path as written), or None when containerd finds no host in KEY."""
        if "://" not in key:
            self.warn("host-without-scheme", path, f"{key!r} has no scheme: containerd assumes https://",
                      "write the scheme", severity="error" if key.startswith("http") else "warning")
        if override and not self.reads_override_path:
            override = False
        try:
            return ep_rules.hosts_entry(key, override)
        except gourl.URLError as exc:
            raise self.fail(path, f"{key!r} is not a URL ({exc})") from None
        except InputError as exc:
            if "has no host" in exc.message:
                return None
            raise self.fail(path, exc.message, exc.fix) from None

    def entry(self, key: str, table: dict, path: Path) -> Endpoint | None:
        override = self.boolean(table, "override_path", path)
        found = self.url(key, override, path)
        if found is None:
            self.warn("host-without-host", path, f"containerd finds no host in {key!r}: every request to this entry "
                      "fails and containerd moves on", "write the URL as https://host[:port][/path]", "error")
            self.notes.append(Change(f"hosts[{self.registry!r}].endpoints[{key!r}]", "removed", key, None,
                                     "containerd finds no host in this key; the entry always fails"))
            return None
        url, raw_path = found
        if not override and raw_path not in ("", "/") and not gourl.clean_path(raw_path).endswith("/v2"):
            self.warn("path-gets-v2", path, f"{key!r} does not end in /v2, so containerd requests under "
                      f"{Endpoint(url).prefix}", "set override_path = true if the path is the API root")
        caps = self.capabilities(table, path)
        return self.settings(url, caps if caps is not None else ALL_CAPABILITIES, table, path)

    def root(self, server: str | None, tree: dict) -> tuple[Endpoint | None, bool]:
        """The last entry, and whether `server` named it."""
        if server:
            override = self.boolean(tree, "override_path", ())
            found = self.url(server, override, ("server",))
            if found is not None:
                caps = self.capabilities(tree, ())
                return self.settings(found[0], caps if caps is not None else ALL_CAPABILITIES, tree, ()), True
            self.warn("server-without-host", ("server",), f"containerd finds no host in server = {server!r} and "
                      "uses the registry's default upstream instead", "write it as https://host[:port]", "error")
        elif server is None and self.flavor == "k3s":
            return None, False
        self.capabilities(tree, ())  # validated even though the upstream gets every capability
        if self.registry == WILDCARD:
            return self.settings(IMAGE_UPSTREAM, ALL_CAPABILITIES, tree, ()), False
        fill = localhost_fill(self.registry, self.target)
        endpoint = self.settings(fill.url, ALL_CAPABILITIES, tree, ())
        if fill.skip_verify:
            endpoint = Endpoint(endpoint.url, endpoint.capabilities, endpoint.ca, endpoint.client, True,
                                endpoint.header, endpoint.rewrite, endpoint.dial_timeout)
        return endpoint, False

    # -- typed fields ---------------------------------------------------------------------------
    def boolean(self, table: dict, field: str, path: Path) -> bool:
        value = table.get(field, False)
        if not isinstance(value, bool):
            raise self.fail((*path, field), f"{field} must be true or false")
        return value

    def capabilities(self, table: dict, path: Path) -> tuple[str, ...] | None:
        caps = table.get("capabilities")
        if caps is None:
            return None
        if type(caps) is list:
            try:
                known = _KNOWN_CAPABILITY_LISTS.get(tuple(caps))  # only valid lists of strings are kept
            except TypeError:  # a table or an array inside
                known = None
            if known is not None:
                return known
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise self.fail((*path, "capabilities"), "capabilities must be a list of strings")
        for cap in caps:
            if cap.lower() not in KNOWN_CAPABILITIES:
                raise self.fail((*path, "capabilities"), f"unknown capability {cap!r}",
                                fix="use pull, resolve and push")
            if cap.lower() == "referrers":
                self.referrers(path)
        ordered = ordered_capabilities(caps) if caps else ALL_CAPABILITIES
        if "referrers" not in {cap.lower() for cap in caps} and len(_KNOWN_CAPABILITY_LISTS) < 256:
            _KNOWN_CAPABILITY_LISTS[tuple(caps)] = ordered  # valid, and the same for every file and release
        return ordered

    def referrers(self, path: Path) -> None:
        target = self.target
        if not target.has("referrers"):
            raise self.fail((*path, "capabilities"), f"{target.who('referrers', False)} rejects the referrers "
                            "capability", fix="drop referrers for containerd before 2.2", code="referrers-capability")
        if target.concerns("referrers", False):
            self.warn("referrers-capability", (*path, "capabilities"),
                      f"{target.who('referrers', False)} {target.verb('reject')} the referrers capability and "
                      f"{target.verb('ignore')} the whole file", "drop it below containerd 2.2")

    def path_value(self, raw: str, path: Path, url: str) -> str:
        if raw == "":
            self.warn("relative-cert-path", path, "an empty path resolves to the host directory itself: containerd "
                      "fails to load it and every pull through this host fails", "remove it, or write the file's "
                      "absolute path", severity="error")
            return raw
        if os.path.isabs(raw):
            return raw
        self.warn("relative-cert-path", path, f"{raw!r} is relative: containerd resolves it against the host "
                  "directory", "use an absolute path")
        if self.base is None:
            return raw
        resolved = os.path.normpath(os.path.join(self.base, raw))  # Go's filepath.Join cleans the path
        self.notes.append(Change(f"{endpoint_path(self.registry, url or '<upstream>')}.{path[-1]}", "changed", raw,
                                 resolved,
                                 f"relative paths were resolved against {self.base}; written as absolute"))
        return resolved

    def dial_timeout(self, table: dict, path: Path) -> str:
        dial = table.get("dial_timeout", "")
        if "dial_timeout" not in table:
            return ""
        if not self.target.has("dial_timeout"):
            self.warn("unknown-key", (*path, "dial_timeout"),
                      f"{self.target.who('dial_timeout', False)} {self.target.verb('do')} not know dial_timeout and "
                      f"{self.target.verb('ignore')} it", "it takes effect from containerd 2.0.7 / 2.1.0")
            return ""
        if not isinstance(dial, str) or (dial and not _DURATION.match(dial)):
            raise self.fail((*path, "dial_timeout"), "dial_timeout must be a duration such as \"30s\"")
        if self.target.concerns("dial_timeout", False) and not self.target.explicit:
            self.warn("dial-timeout-unsupported", (*path, "dial_timeout"), f"{self.target.who('dial_timeout', False)} "
                      "ignore dial_timeout", "keep it only for containerd 2.0.7 / 2.1.0 and later", "info")
        return dial

    def settings(self, url: str, caps: tuple[str, ...], table: dict, path: Path) -> Endpoint:
        if table.keys() <= _NO_SETTINGS:
            return Endpoint(url=url, capabilities=caps)  # what the lines below give for a table without settings
        ca_raw = table.get("ca")
        ca: list[str] = []
        if isinstance(ca_raw, str):
            ca = [self.path_value(ca_raw, (*path, "ca"), url)]
        elif isinstance(ca_raw, list) and all(isinstance(c, str) for c in ca_raw):
            ca = [self.path_value(c, (*path, "ca"), url) for c in ca_raw]
        elif ca_raw is not None:
            raise self.fail((*path, "ca"), "ca must be a path or a list of paths")
        client = self.client(table.get("client"), (*path, "client"), url)
        skip = table.get("skip_verify")
        if skip is not None and not isinstance(skip, bool):
            raise self.fail((*path, "skip_verify"), "skip_verify must be true or false")
        header = self.header(table.get("header"), (*path, "header"))
        dial = self.dial_timeout(table, path)
        rewrite: tuple[tuple[str, str], ...] = ()
        if self.flavor == "k3s" and isinstance(table.get("rewrite"), dict):
            rewrite = tuple(sorted((str(k), str(v)) for k, v in table["rewrite"].items()))
        if url.startswith("http://") and (ca or client or skip is not None):
            self.http_with_tls(path or ("server",), url)
        return Endpoint(url=url, capabilities=caps, ca=tuple(ca), client=client, skip_verify=skip,
                        header=header, rewrite=rewrite, dial_timeout=dial)

    def http_with_tls(self, path: Path, url: str) -> None:
        port = ep_rules.split_host_port(ep_rules.url_hostport(url))[1]
        if self.target.explicit:
            if self.release.https_first(port, True):
                self.warn("http-with-tls", path, f"{url} is http:// but sets TLS: containerd {self.release} tries "
                          "HTTPS first and falls back to http on a TLS error (containerd#11647)",
                          "write https://, or drop the TLS keys")
            else:
                self.warn("http-with-tls", path, f"{url} is http:// but sets TLS: containerd {self.release} ignores "
                          "the TLS keys and uses plain http, newer releases try HTTPS first (containerd#11647)",
                          "write https://, or drop the TLS keys", "info")
            return
        self.warn("http-with-tls", path, f"{url} is http:// but sets TLS: containerd 1.7.7, "
                  f"{'1.6.25–1.6.39 and 1.7.8–1.7.23 (only with a port)' if port not in ('', '80') else ''}"
                  f"{', ' if port not in ('', '80') else ''}1.7.24 and later try HTTPS first"
                  f"{' (not on port 80)' if port == '80' else ''}; older releases ignore the TLS keys "
                  "(containerd#11647)", "write https://, or drop the TLS keys")

    def client(self, raw: object, path: Path, url: str) -> tuple[tuple[str, str], ...]:
        if raw is None:
            return ()
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list):
            raise self.fail(path, "client must be a path, a list of paths or a list of [cert, key] pairs")
        pairs = []
        for item in items:
            if isinstance(item, str):
                pairs.append((self.path_value(item, path, url), ""))
            elif isinstance(item, list) and len(item) == 2 and all(isinstance(p, str) for p in item):
                cert, key = item
                if key == "":
                    self.warn("client-empty-key", path, f"client pair [{cert!r}, \"\"]: containerd turns the empty "
                              "key into the host directory and fails to load the pair",
                              f"write client = {cert!r} for a combined PEM", severity="error")
                    self.notes.append(Change(f"{endpoint_path(self.registry, url or '<upstream>')}.client",
                                             "changed", [cert, ""], cert,
                                             "an empty key in a [cert, \"\"] pair becomes the host directory; "
                                             "written as a combined PEM"))
                cert_path = self.path_value(cert, path, url)
                key_path = self.path_value(key, path, url) if key else ""
                pairs.append((cert_path, "" if key_path == cert_path else key_path))
            else:
                raise self.fail(path, "client must be a path, a list of paths or a list of [cert, key] pairs")
        return tuple(pairs)

    def header(self, raw: object, path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise self.fail(path, "header must be a table")
        out = []
        for name, value in raw.items():
            if isinstance(value, str):
                values: tuple[str, ...] = (value,)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                values = tuple(value)
            else:
                raise self.fail((*path, name), f"header {name!r} must be a string or a list of strings")
            if secrets.is_secret_header(name):
                for v in values:
                    secrets.remember(v)
                    secrets.remember(v.split(" ", 1)[-1])
                if self.mode is not None and self.mode & 0o077:
                    self.warn("plaintext-password-world-readable", (*path, name), f"header {name!r} holds a "
                              f"credential in a file with mode {self.mode:04o}", f"chmod 600 {self.label}")
            out.append((name, values))
        return tuple(out)

    def check_entries(self, entries: list[Endpoint], explicit_server: bool) -> None:
        seen: dict[str, Endpoint] = {}
        for index, entry in enumerate(entries):
            is_root = index == len(entries) - 1 and explicit_server
            if entry.url in seen and entry.url:
                other = seen[entry.url]
                if is_root:
                    if entry.has_tls() != other.has_tls():
                        self.warn("server-tls-mismatch", ("server",), f"{entry.url} is both server and a "
                                  "[host] but only one of them sets TLS (containerd#7118)", "set TLS on both")
                    else:
                        self.warn("duplicate-endpoint", ("server",), f"{entry.url} is both a [host] and the server: "
                                  "containerd tries it twice", "remove the [host] table, or name another server")
                else:
                    self.warn("duplicate-endpoint", ("host",), f"{entry.url} is listed twice and will be tried "
                              "twice", "remove one", severity="error")
            seen.setdefault(entry.url, entry)


def _line_of(lines: dict[Path, int], path: Path) -> int | None:
    from . import toml_lines

    return toml_lines.line_of(lines, *path)
