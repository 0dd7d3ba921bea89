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

Credentials cannot live in hosts.toml; they come from the containerd config beside the tree.
Writing is in certs_d_writer.py.
"""

from __future__ import annotations

import os
import re

from .. import endpoints as ep_rules
from .. import gourl, secrets
from ..errors import InputError, Problem
from ..files import Listing
from ..model import (
    ALL_CAPABILITIES,
    IMAGE_UPSTREAM,
    WILDCARD,
    Change,
    Config,
    Endpoint,
    Host,
    endpoint_path,
    ordered_capabilities,
)
from . import toml_lines, toml_out

NAME = "certs-d"
HOST_FIELDS = ("capabilities", "ca", "client", "skip_verify", "header", "override_path", "dial_timeout")
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
}
_DURATION = re.compile(r"^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$")


# --- reading ---------------------------------------------------------------------------------

class _HostsFile:
    """One hosts.toml, parsed as containerd parses it."""

    def __init__(self, label: str, registry: str, base: str | None, flavor: str, mode: int | None) -> None:
        self.label = label
        self.registry = registry
        self.base = base
        self.flavor = flavor
        self.mode = mode
        self.problems: list[Problem] = []
        self.notes: list[Change] = []
        self.text = ""
        self._lines: dict[tuple[str, ...], int] | None = None

    @property
    def lines(self) -> dict[tuple[str, ...], int]:
        """Line numbers, found only when a message needs one (tomllib does not report them)."""
        if self._lines is None:
            self._lines = toml_lines.index(self.text)
        return self._lines

    def where(self, *path: str) -> str:
        line = toml_lines.line_of(self.lines, *path)
        return f"{self.label}:{line}" if line else self.label

    def warn(self, code: str, path: tuple[str, ...], message: str, fix: str = "",
             severity: str = "warning") -> None:
        line = toml_lines.line_of(self.lines, *path)
        self.problems.append(Problem(severity, code, message, fix, file=self.label, line=line,
                                     key=".".join(path) or None))

    def fail(self, path: tuple[str, ...], message: str, fix: str | None = None) -> InputError:
        line = toml_lines.line_of(self.lines, *path)
        return InputError(message + "; containerd ignores the whole file", file=self.label, line=line, fix=fix)

    def parse(self, data: bytes) -> list[Endpoint]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start})", file=self.label) from None
        tree = toml_out.parse(text, self.label)
        self.text = text
        hosts = tree.get("host", None)
        if hosts is None:
            self.warn("no-host-table", (), "hosts.toml has no [host] table: containerd 1.5-1.6 and 1.7.0-1.7.31 "
                      "ignore the file (server included) and use the default host (containerd#10027)",
                      "add a bare [host] line")
            hosts = {}
        if not isinstance(hosts, dict):
            raise self.fail(("host",), "host must be a table of [host.\"<url>\"] tables")
        for key in tree:
            if key not in (*HOST_FIELDS, "server", "host"):
                self.unknown(key, (key,))
        entries = []
        server_url = None
        for key, table in hosts.items():
            if not isinstance(table, dict):
                raise self.fail(("host", key), f"host {key!r} must be a table")
            for field in table:
                if field not in HOST_FIELDS and not (field == "rewrite" and self.flavor == "k3s"):
                    self.unknown(field, ("host", key, field))
            entry = self.entry(key, table, ("host", key))
            if entry is not None:
                entries.append(entry)
        server = tree.get("server", None)
        if server is not None and not isinstance(server, str):
            raise self.fail(("server",), "server must be a string")
        root = self.root(server, tree)
        if root is not None:
            server_url = root.url
            entries.append(root)
        self.check_entries(entries, server_url)
        return entries

    def unknown(self, key: str, path: tuple[str, ...]) -> None:
        code = "rewrite-on-vanilla" if key == "rewrite" else "unknown-key"
        hint = KNOWN_MISTAKES.get(key, f"containerd knows only server, {', '.join(HOST_FIELDS)}")
        self.warn(code, path, f"unknown key {key!r} is ignored by containerd", hint)

    def url(self, key: str, override: bool, path: tuple[str, ...]) -> tuple[str, str] | None:
        if "://" not in key:
            self.warn("host-without-scheme", path, f"{key!r} has no scheme: containerd assumes https://",
                      "write the scheme", severity="error" if key.startswith("http") else "warning")
        try:
            return ep_rules.hosts_entry(key, override)
        except gourl.URLError as exc:
            raise self.fail(path, f"{key!r} is not a URL ({exc})") from None
        except InputError as exc:
            if "has no host" in exc.message:
                self.notes.append(Change(f"hosts[{self.registry!r}].endpoints[{key!r}]", "removed", key, None,
                                         "containerd finds no host in this key; the entry always fails"))
                return None
            raise exc.located(self.label, toml_lines.line_of(self.lines, *path)) from None

    def entry(self, key: str, table: dict, path: tuple[str, ...]) -> Endpoint | None:
        override = self.boolean(table, "override_path", path)
        found = self.url(key, override, path)
        if found is None:
            return None
        url, raw_path = found
        if not override and raw_path not in ("", "/") and not gourl.clean_path(raw_path).endswith("/v2"):
            self.warn("path-gets-v2", path, f"{key!r} does not end in /v2, so containerd requests under "
                      f"{Endpoint(url).prefix}", "set override_path = true if the path is the API root")
        caps = self.capabilities(table, path)
        return self.settings(url, caps if caps is not None else ALL_CAPABILITIES, table, path)

    def root(self, server: str | None, tree: dict) -> Endpoint | None:
        if server:
            override = self.boolean(tree, "override_path", ())
            found = self.url(server, override, ("server",))
            if found is None:
                return None
            url = found[0]
            caps = self.capabilities(tree, ())
            return self.settings(url, caps if caps is not None else ALL_CAPABILITIES, tree, ())
        if server is None and self.flavor == "k3s":
            return None
        self.capabilities(tree, ())  # validated even though the upstream gets every capability
        url = IMAGE_UPSTREAM if self.registry == WILDCARD else ep_rules.hosts_upstream(self.registry)
        return self.settings(url, ALL_CAPABILITIES, tree, ())

    # -- typed fields ---------------------------------------------------------------------------
    def boolean(self, table: dict, field: str, path: tuple[str, ...]) -> bool:
        value = table.get(field, False)
        if not isinstance(value, bool):
            raise self.fail((*path, field), f"{field} must be true or false")
        return value

    def capabilities(self, table: dict, path: tuple[str, ...]) -> tuple[str, ...] | None:
        caps = table.get("capabilities")
        if caps is None:
            return None
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise self.fail((*path, "capabilities"), "capabilities must be a list of strings")
        for cap in caps:
            if cap.lower() not in KNOWN_CAPABILITIES:
                raise self.fail((*path, "capabilities"), f"unknown capability {cap!r}",
                                fix="use pull, resolve and push")
            if cap.lower() == "referrers":
                self.warn("referrers-capability", (*path, "capabilities"), "containerd before 2.2 rejects the "
                          "referrers capability and ignores the whole file", "drop it below containerd 2.2")
        return ordered_capabilities(caps) if caps else ALL_CAPABILITIES

    def path_value(self, raw: str, path: tuple[str, ...], url: str) -> str:
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
        resolved = os.path.join(self.base, raw)
        self.notes.append(Change(f"{endpoint_path(self.registry, url or '<upstream>')}.{path[-1]}", "changed", raw,
                                 resolved,
                                 f"relative paths were resolved against {self.base}; written as absolute"))
        return resolved

    def settings(self, url: str, caps: tuple[str, ...], table: dict, path: tuple[str, ...]) -> Endpoint:
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
        dial = table.get("dial_timeout", "")
        if not isinstance(dial, str) or (dial and not _DURATION.match(dial)):
            raise self.fail((*path, "dial_timeout"), "dial_timeout must be a duration such as \"30s\"")
        rewrite: tuple[tuple[str, str], ...] = ()
        if self.flavor == "k3s" and isinstance(table.get("rewrite"), dict):
            rewrite = tuple(sorted((str(k), str(v)) for k, v in table["rewrite"].items()))
        if url.startswith("http://") and (ca or client or skip is not None):
            self.warn("http-with-tls", path or ("server",), f"{url} is http:// but sets TLS: containerd 1.7.7+ and "
                      "2.x try HTTPS first, older versions ignore the TLS keys (containerd#11647)",
                      "write https://, or drop the TLS keys")
        return Endpoint(url=url, capabilities=caps, ca=tuple(ca), client=client, skip_verify=skip,
                        header=header, rewrite=rewrite, dial_timeout=dial)

    def client(self, raw: object, path: tuple[str, ...], url: str) -> tuple[tuple[str, str], ...]:
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

    def header(self, raw: object, path: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
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

    def check_entries(self, entries: list[Endpoint], server_url: str | None) -> None:
        seen: dict[str, Endpoint] = {}
        for index, entry in enumerate(entries):
            is_root = index == len(entries) - 1 and server_url is not None
            if entry.url in seen and entry.url:
                other = seen[entry.url]
                if is_root:
                    if entry.has_tls() != other.has_tls():
                        self.warn("server-tls-mismatch", ("server",), f"{entry.url} is both server and a "
                                  "[host] but only one of them sets TLS (containerd#7118)", "set TLS on both")
                else:
                    self.warn("duplicate-endpoint", ("host",), f"{entry.url} is listed twice and will be tried "
                              "twice", "remove one", severity="error")
            seen.setdefault(entry.url, entry)


def read(listing: Listing, name: str, *, flavor: str = "vanilla") -> Config:
    """The model containerd builds from the certs.d tree LISTING (FLAVOR "k3s": k3s's containerd,
    where a hosts.toml without `server` has no upstream fallback and `rewrite` applies)."""
    hosts: dict[str, Host] = {}
    problems: list[Problem] = []
    notes: list[Change] = []
    spelled: dict[str, str] = {}
    has_default = "_default" in listing.entries and listing.entries["_default"].kind == "dir"
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
        if registry != WILDCARD and not ep_rules.valid_hostport(registry):
            problems.append(Problem("warning", "not-a-host-directory", f"{dirname!r} is not a registry "
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
        parser = _HostsFile(file_label, registry, base, flavor, entry.hosts_toml_mode)
        if entry.hosts_toml:
            endpoints = parser.parse(entry.hosts_toml)
        else:
            endpoints = [_certificate_layout(registry, entry.names, base, flavor)]
            if registry != WILDCARD and has_default and not _has_certificates(entry.names):
                problems.append(Problem("warning", "empty-host-dir-hides-default",
                                        "a directory with no (or an empty) hosts.toml hides _default for "
                                        f"{registry}", "remove it, or write a hosts.toml", file=label))
        problems.extend(parser.problems)
        notes.extend(parser.notes)
        hosts[registry] = Host(name=registry, endpoints=tuple(e for e in endpoints if e is not None))
    if listing.root and not any(entry.kind == "dir" for entry in listing.entries.values()):
        problems.append(Problem("warning", "empty-certs-dir", f"no host directory under {name}: containerd finds "
                                "no hosts.toml here and uses every registry's defaults",
                                "pass the certs.d directory itself (e.g. /etc/containerd/certs.d)", file=name))
    ordered = dict(sorted(hosts.items(), key=lambda kv: (kv[0] == WILDCARD, kv[0])))
    return Config(hosts=ordered, notes=tuple(notes), problems=tuple(problems), source_format=NAME)


def _has_certificates(names: tuple[str, ...]) -> bool:
    return any(n.endswith((".crt", ".cert")) for n in names)


def _certificate_layout(registry: str, names: tuple[str, ...], base: str | None, flavor: str) -> Endpoint:
    """containerd's `loadCertFiles`: *.crt are CAs, x.cert a client cert with x.key if present."""
    directory = base or ""
    ca = tuple(os.path.join(directory, n) for n in names if n.endswith(".crt"))
    client = []
    for n in names:
        if n.endswith(".cert"):
            key = n[:-5] + ".key"
            client.append((os.path.join(directory, n), os.path.join(directory, key) if key in names else ""))
    url = IMAGE_UPSTREAM if registry == WILDCARD else ep_rules.hosts_upstream(registry)
    return Endpoint(url=url, capabilities=ALL_CAPABILITIES, ca=ca, client=tuple(client))
