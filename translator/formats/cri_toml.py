"""cri-v1, cri-v2, cri-v3: the registry section of a containerd `config.toml`.

A whole real config.toml is read (the seeds' complete `containerd config dump` included);
only the CRI registry table of the file's own version counts, as containerd reads it
(SEMANTICS.md §3):

    version = 2
    [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
      endpoint = ["https://mirror.example.com", "https://registry-1.docker.io"]
    [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com".tls]
      ca_file = "/etc/ssl/mirror.pem"

The model follows the legacy rules exactly: `mirrors[registry]` by exact key (`*` only when
the key is absent), the scheme from the endpoint's own host, the path verbatim, the upstream
appended unless an endpoint is on the registry's own host, and TLS and credentials keyed by
endpoint host (so TLS for a host applies to every use of it, the upstream included).
Versions: 1 (no `version`, `[plugins.cri]`), 2 (1.x and 2.x), 3 and 4 (2.x).
Writing is in cri_toml_writer.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .. import endpoints as ep_rules
from .. import gourl, secrets
from ..errors import InputError, Problem
from ..model import (
    IMAGE_UPSTREAM,
    WILDCARD,
    Auth,
    Change,
    Config,
    Endpoint,
    Host,
    endpoint_path,
    host_path,
)
from ..record import field, record
from ..releases import DEFAULT_TARGET, Target
from . import toml_lines, toml_out

PLUGIN = {"cri-v1": "cri", "cri-v2": "io.containerd.grpc.v1.cri", "cri-v3": "io.containerd.cri.v1.images"}
VERSION_FORMAT = {0: "cri-v1", 1: "cri-v1", 2: "cri-v2", 3: "cri-v3", 4: "cri-v3"}
REGISTRY_KEYS = ("config_path", "mirrors", "configs", "auths", "headers")
CONFIG_KEYS = ("auth", "tls")
AUTH_KEYS = ("username", "password", "auth", "identitytoken")
TLS_KEYS = ("ca_file", "cert_file", "key_file", "insecure_skip_verify")
KNOWN_MISTAKES = {
    "identity_token": "config.toml spells it identitytoken",
    "token": "config.toml spells it identitytoken",
    "endpoints": "the key is endpoint (singular)",
    "skip_verify": "config.toml spells it insecure_skip_verify",
    "signature": "containerd has no registry signature policy",
    "garbage_collection": "containerd has no registry garbage_collection; see the gc scheduler plugin",
}


def registry_path(fmt: str) -> tuple[str, str, str]:
    return ("plugins", PLUGIN[fmt], "registry")


def format_of_version(version: object, name: str) -> str:
    if isinstance(version, bool) or not isinstance(version, int) or version not in VERSION_FORMAT:
        raise InputError(f"unsupported config version {version!r}", file=name,
                         fix="containerd reads versions 1, 2, 3 and 4")
    return VERSION_FORMAT[version]


def detect(tree: dict, name: str) -> str:
    return format_of_version(tree.get("version", 1), name)


def parse_toml(text: str, name: str) -> dict:
    return toml_out.parse(text, name)


def _dig(tree: dict, path: tuple[str, ...]) -> object:
    node: object = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


# --- reading ---------------------------------------------------------------------------------

@record(mutable=True)
class _Tls:
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False


@record(mutable=True)
class _Registry:
    config_path: str = ""
    mirrors: dict[str, list[str]] = field(default_factory=dict)
    rewrites: dict[str, dict[str, str]] = field(default_factory=dict)
    tls: dict[str, _Tls] = field(default_factory=dict)
    auth: dict[str, Auth] = field(default_factory=dict)
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)


class _Reader:
    def __init__(self, text: str, name: str, fmt: str, flavor: str, target: Target = DEFAULT_TARGET) -> None:
        self.name = name
        self.fmt = fmt
        self.flavor = flavor
        self.target = target
        self.release = target.release
        self.lines = toml_lines.index(text)
        self.problems: list[Problem] = []
        self.notes: list[Change] = []
        self.base: tuple[str, ...] = registry_path(fmt)
        self.failing: dict[str, str] = {}

    def where(self, *path: str) -> str:
        line = toml_lines.line_of(self.lines, *self.base, *path)
        return f"{self.name}:{line}" if line else self.name

    def warn(self, code: str, path: tuple[str, ...], message: str, fix: str = "",
             severity: str = "warning", absolute: bool = False) -> None:
        full = path if absolute else (*self.base, *path)
        line = toml_lines.line_of(self.lines, *full)
        self.problems.append(Problem(severity, code, message, fix, file=self.name, line=line,
                                     key=".".join(full) or None))

    def fail(self, path: tuple[str, ...], message: str, fix: str | None = None,
             code: str = "invalid-input") -> InputError:
        return InputError(message, file=self.name, line=toml_lines.line_of(self.lines, *self.base, *path),
                          fix=fix, code=code)

    def table(self, value: object, path: tuple[str, ...]) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"{'.'.join(path)} must be a table; containerd refuses to start")
        return value

    def string(self, value: object, path: tuple[str, ...]) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"{'.'.join(path)} must be a string; containerd refuses to start")
        return value

    def unknown(self, key: str, path: tuple[str, ...], known: tuple[str, ...]) -> None:
        hint = KNOWN_MISTAKES.get(key, f"containerd knows only {', '.join(known)} here")
        self.warn("unknown-key", (*path, key), f"unknown key {'.'.join((*path, key))!r} is ignored by containerd",
                  hint)
        self.notes.append(Change(".".join((*path, key)), "removed", key, None,
                                 f"containerd does not read {key!r}; a conversion does not carry it"))

    def refused(self, path: tuple[str, ...], message: str, fix: str, code: str) -> InputError:
        return InputError(message, file=self.name, line=toml_lines.line_of(self.lines, *path), fix=fix, code=code)

    def locate(self, tree: dict) -> tuple[str, ...] | None:
        """The registry table this release reads in this file (None: it reads none), after the
        checks of the file's version that containerd makes at start-up (SEMANTICS §3.1)."""
        target, release = self.target, self.release
        plugins = tree.get("plugins") if isinstance(tree.get("plugins"), dict) else {}
        v2, v3 = PLUGIN["cri-v2"], PLUGIN["cri-v3"]
        version = tree.get("version", 1) or 1
        behaviour = release.config_version_behaviour(version)
        fact = f"config_v{version}" if version in (3, 4) else ""
        if behaviour == "refused":
            raise self.refused(("version",), f"containerd {release} refuses to start with version = {version}",
                               "write version = 2, which every 1.x and 2.x release reads",
                               "config-version-unsupported")
        if fact and target.concerns(fact, "refused") and not target.explicit:
            self.warn("config-version-unsupported", ("version",), f"version = {version}: "
                      f"{target.who(fact, 'refused')} refuse to start; {target.who(fact, 'unused')} read it as "
                      "version 2 and never use this registry table", "write version = 2 for a fleet with 1.x nodes",
                      absolute=True)
        if self.fmt == "cri-v3" and behaviour == "unused":
            self.warn("config-version-unsupported", ("version",), f"containerd {release} reads version = {version} "
                      f"as version 2: the registry table under plugins.\"{v3}\" is never used",
                      "write version = 2", severity="error", absolute=True)
            return registry_path("cri-v2")
        if self.fmt == "cri-v3" and isinstance(_dig(plugins, (v2, "registry")), dict):
            self.warn("v3-file-with-v2-keys", ("plugins", v2, "registry"), f"version >= 3 with "
                      f"plugins.\"{v2}\".registry: containerd 2.x ignores it (containerd#9886)",
                      f"move it to plugins.\"{v3}\".registry", severity="error", absolute=True)
        if self.fmt == "cri-v2" and "cri" in plugins:
            if release.short_key_in_v2() == "refused":
                raise self.refused(("plugins", "cri"), f"version = 2 with [plugins.cri…]: containerd {release} "
                                   "refuses to start", f"use the full plugin id plugins.\"{v2}\"",
                                   "short-plugin-key-in-v2")
            severity = "error" if target.concerns("short_key_in_v2", "refused") else "warning"
            self.warn("short-plugin-key-in-v2", ("plugins", "cri"), "version = 2 with [plugins.cri…]: "
                      f"{target.who('short_key_in_v2', 'refused')} {target.verb('refuse')} to start"
                      + ("" if target.explicit else "; 2.x ignores the table"),
                      f"use the full plugin id plugins.\"{v2}\"", severity=severity, absolute=True)
        if self.fmt != "cri-v1":
            return self.base
        short = ("plugins", "cri", "registry")
        full = ("plugins", v2, "registry")
        has_full = isinstance(_dig(tree, full), dict)
        short_rule, full_rule = release.versionless_short_keys(), release.versionless_v2_keys()
        if has_full and target.concerns("versionless_v2_keys", "ignored"):
            self.warn("v1-file-with-v2-keys", ("plugins", v2), "a version 1 file (no version key) with "
                      f"plugins.\"{v2}\": {target.who('versionless_v2_keys', 'ignored')} "
                      f"{target.verb('ignore')} it (containerd#5236)",
                      "add version = 2", absolute=True)
        if short_rule == "ignored" and full_rule == "ignored":
            if isinstance(_dig(tree, short), dict) or has_full:
                self.warn("versionless-config-ignored", (), f"a file without version: containerd {release} "
                          "ignores its registry section (runtime unconfirmed: read from the source)",
                          "add version = 2", severity="error" if target.explicit else "warning", absolute=True)
            return None
        if not target.explicit and target.concerns("versionless_short_keys", "ignored") and (
                isinstance(_dig(tree, short), dict) or has_full):
            self.warn("versionless-config-ignored", (), f"a file without version: "
                      f"{target.who('versionless_short_keys', 'ignored')} ignore its registry section "
                      "(read from the source, runtime unconfirmed)", "add version = 2", absolute=True)
        if full_rule == "migrated" and has_full:
            if isinstance(_dig(tree, short), dict):
                self.warn("v1-file-with-v2-keys", ("plugins", "cri"), "both plugins.cri and "
                          f"plugins.\"{v2}\" in a file without version: which one containerd {release} keeps is "
                          "not defined", "keep one, and add version = 2", absolute=True)
            return full
        return short

    def section(self, tree: dict) -> _Registry:
        registry = _Registry()
        raw = self.table(_dig(tree, self.base), ())
        # containerd folds `auths` in after reading `configs`, so they overwrite configs.<host>.auth
        raw = {k: v for k, v in raw.items() if k != "auths"} | ({"auths": raw["auths"]} if "auths" in raw else {})
        for key, value in raw.items():
            if key == "config_path":
                registry.config_path = self.string(value, (key,))
            elif key == "mirrors":
                for mkey, mirror in self.table(value, (key,)).items():
                    self.mirror(registry, mkey, self.table(mirror, (key, mkey)))
            elif key == "configs":
                for ckey, config in self.table(value, (key,)).items():
                    self.config(registry, ckey, self.table(config, (key, ckey)))
            elif key == "auths":
                for akey, auth in self.table(value, (key,)).items():
                    self.auths(registry, akey, self.table(auth, (key, akey)))
            elif key == "headers":
                for hkey, values in self.table(value, (key,)).items():
                    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                        raise self.fail((key, hkey), f"headers.{hkey} must be a list of strings; containerd "
                                                     "refuses to start")
                    if secrets.is_secret_header(hkey):
                        for v in values:
                            secrets.remember(v)
                    registry.headers[hkey] = tuple(values)
            else:
                self.unknown(key, (), REGISTRY_KEYS)
        return registry

    def mirror(self, registry: _Registry, key: str, mirror: dict) -> None:
        endpoints = mirror.get("endpoint", [])
        if not isinstance(endpoints, list) or not all(isinstance(e, str) for e in endpoints):
            raise self.fail(("mirrors", key, "endpoint"), f"mirrors.\"{key}\".endpoint must be a list of URLs; "
                            "containerd refuses to start", fix=f"write endpoint = [\"{endpoints}\"]"
                            if isinstance(endpoints, str) else None)
        for field_name, value in mirror.items():
            if field_name == "rewrite" and isinstance(value, dict):
                if self.flavor == "k3s":
                    registry.rewrites[key] = {str(k): str(v) for k, v in value.items()}
                else:
                    self.warn("rewrite-on-vanilla", ("mirrors", key, "rewrite"), "rewrite is honoured only by "
                              "k3s's containerd", "use an endpoint URL with the path instead")
            elif field_name != "endpoint":
                self.unknown(field_name, ("mirrors", key), ("endpoint",))
        problem = ep_rules.name_problem(key)
        if problem:
            self.warn("mirror-key-has-path", ("mirrors", key), f"mirrors key {key!r} {problem}: containerd only "
                      "looks mirrors up by registry host, so it is never consulted", "use the bare host[:port]",
                      severity="error")
            self.notes.append(Change(host_path(key), "removed", list(endpoints), None,
                                     "containerd never consults this key"))
            return
        if key != WILDCARD and not ep_rules.valid_hostport(key):
            self.warn("mirror-key-not-a-registry", ("mirrors", key), f"mirrors key {key!r} is not a registry "
                      "host[:port]: no image reference ever matches it, so containerd never consults it",
                      "use the registry's host name and port only, e.g. registry.example.com:5000")
            self.notes.append(Change(host_path(key), "removed", list(endpoints), None,
                                     "containerd never consults this key"))
            return
        if key in ep_rules.HUB_ALIASES:
            self.warn("hub-alias-key", ("mirrors", key), f"mirrors key {key!r} is never used: image references "
                      "normalise to docker.io", "use the key docker.io")
        registry.mirrors[key] = list(endpoints)

    def tls_path(self, value: str, path: tuple[str, ...], key: str) -> str:
        if not value or value.startswith("/"):
            return value
        self.warn("relative-cert-path", path, f"{value!r} is relative: containerd resolves it against its "
                  "working directory (normally /)", "use an absolute path")
        resolved = os.path.join("/", value)
        self.notes.append(Change(f"configs[{key!r}].tls.{path[-1]}", "changed", value, resolved,
                                 "relative paths were resolved against /; written as absolute"))
        return resolved

    def config(self, registry: _Registry, key: str, config: dict) -> None:
        _check_key_text(key, self, ("configs", key))
        for field_name, value in config.items():
            path = ("configs", key, field_name)
            if field_name == "auth":
                registry.auth[key] = self.auth(self.table(value, path), path)
                if key in ("docker.io", "index.docker.io", "https://index.docker.io/v1/") and any(
                        registry.auth[key].as_dict().values()):
                    self.warn("hub-auth-key", path, f"credentials keyed {key!r} are looked up as "
                              "registry-1.docker.io (containerd#7795)", "use configs.\"registry-1.docker.io\"")
                if key == WILDCARD:
                    self.warn("wildcard-auth", path, "configs.\"*\".auth is never used: credentials are "
                              "matched by exact endpoint host", "add one configs entry per host")
            elif field_name == "tls":
                tls = _Tls()
                for tkey, tvalue in self.table(value, path).items():
                    if tkey == "insecure_skip_verify":
                        if not isinstance(tvalue, bool):
                            raise self.fail((*path, tkey), "insecure_skip_verify must be true or false")
                        tls.insecure_skip_verify = tvalue
                    elif tkey in TLS_KEYS:
                        setattr(tls, tkey, self.tls_path(self.string(tvalue, (*path, tkey)), (*path, tkey), key))
                    else:
                        self.unknown(tkey, path, TLS_KEYS)
                if bool(tls.cert_file) != bool(tls.key_file):
                    self.warn("lone-cert-or-key", path, f"configs.\"{key}\".tls sets only one of cert_file and "
                              "key_file: containerd fails every pull through this host", "set both",
                              severity="error")
                if key in ("docker.io", "index.docker.io"):
                    self.warn("hub-auth-key", path, f"TLS keyed {key!r} never applies to Docker Hub, whose "
                              "endpoint host is registry-1.docker.io", "use configs.\"registry-1.docker.io\"")
                registry.tls[key] = tls
            else:
                self.unknown(field_name, ("configs", key), CONFIG_KEYS)

    def auth(self, table: dict, path: tuple[str, ...]) -> Auth:
        fields = {}
        for akey, avalue in table.items():
            if akey in AUTH_KEYS:
                fields[akey] = self.string(avalue, (*path, akey))
                if akey != "username":
                    secrets.remember(fields[akey])
            else:
                self.unknown(akey, path, AUTH_KEYS)
        return Auth(**fields)

    def auths(self, registry: _Registry, key: str, table: dict) -> None:
        path = ("auths", key)
        auth = self.auth(table, path)
        try:
            parsed = gourl.parse(key)
        except gourl.URLError:
            raise self.fail(path, f"auths key {key!r} does not parse as a URL: the CRI plugin fails to load",
                            fix=f"write it as https://{key}, or move it to configs.\"{key}\".auth",
                            code="auths-deprecated") from None
        host = parsed.host if parsed.scheme else key
        if parsed.scheme and not parsed.host:
            self.warn("auths-deprecated", path, f"auths key {key!r} is read as scheme {parsed.scheme!r} with no "
                      "host: the credentials are never used", f"move them to configs.\"{key}\".auth",
                      severity="error")
            self.notes.append(Change(f"auths[{key!r}]", "removed", secrets.MASK, None,
                                     "containerd misparses this auths key and never uses it"))
            return
        self.warn("auths-deprecated", path, "registry.auths is deprecated since containerd 1.3",
                  f"move it to configs.\"{host}\".auth")
        _check_key_text(host, self, path)
        registry.auth[host] = auth

    def build(self, tree: dict, load_tree: Callable[[str], Config] | None) -> Config:
        located = self.locate(tree)
        if located is None:
            return Config(notes=tuple(self.notes), problems=tuple(self.problems), source_format=self.fmt,
                          release=self.release, semantics="legacy")
        self.base = located
        registry = self.section(tree)
        target, release = self.target, self.release
        if _dig(tree, self.base) is not None:
            self.warn("ctr-ignores-cri", (), "ctr and nerdctl ignore the CRI registry section "
                      "(containerd#6285); only CRI pulls (kubelet, crictl) use it",
                      "use ctr --hosts-dir / nerdctl --hosts-dir with a certs.d tree", severity="info")
        if registry.mirrors or registry.auth:
            self.deprecations(registry)
        tls_inert = bool(registry.tls) and not release.legacy_tls()
        if registry.tls:
            self.tls_problems(registry)
        unusable = ""
        if registry.config_path and registry.mirrors and release.mirrors_config_path_conflict():
            self.warn("mirrors-with-config-path", ("config_path",), "mirrors together with config_path: "
                      "the CRI plugin fails to load (containerd#12612)", "run migrate", severity="error")
            unusable = ("mirrors together with config_path: containerd's CRI plugin fails to load, so every CRI pull "
                        "fails (containerd#12612); run migrate")
        if registry.config_path and registry.tls and target.concerns("tls_config_path_conflict"):
            severity = "error" if release.tls_config_path_conflict() else "warning"
            self.warn("tls-with-config-path", ("config_path",), "configs.*.tls together with config_path: "
                      f"{target.who('tls_config_path_conflict')} {target.verb('fail')} to load the CRI plugin",
                      "move TLS into hosts.toml", severity=severity)
            if release.tls_config_path_conflict() and not unusable:
                unusable = (f"configs.*.tls together with config_path: containerd {release}'s CRI plugin fails to "
                            "load, so every CRI pull fails; move the TLS settings into hosts.toml")
        if registry.mirrors and not registry.config_path:
            if release.default_config_path(has_mirrors=True):
                unusable = unusable or (f"containerd {release} sets config_path by default "
                                        "(/etc/containerd/certs.d:/etc/docker/certs.d), and beside mirrors the CRI "
                                        "plugin fails to load (containerd#12612)")
            early = (_DEFAULT_DIRS, "unless-windows")
            if target.concerns("default_config_path", early):
                who = target.who("default_config_path", early)
                self.warn("mirrors-with-config-path", ("mirrors",), f"{who} default config_path to {_DEFAULT_DIRS}, "
                          "which beside mirrors makes the CRI plugin fail to load (containerd#12612)", "run migrate",
                          severity="error" if target.explicit else "warning")
        local_pull = bool(registry.mirrors or registry.auth or registry.tls) or not release.transfer_service()
        config_path = registry.config_path
        default_path = ""
        if not config_path and not registry.mirrors:
            default_path = release.default_config_path(has_mirrors=False)
            if default_path:
                self.warn("default-config-path", (), f"no config_path and no mirrors: containerd {release} reads "
                          f"hosts.toml files from {default_path} on the node", "set config_path to say which "
                          "directory", severity="info")
        if ":" in config_path and target.concerns("transfer_splits_config_path", False):
            severity = "error" if (not local_pull and not release.transfer_splits_config_path()) else "warning"
            self.warn("colon-config-path", ("config_path",), "config_path lists several directories: "
                      f"transfer-service pulls ({target.who('transfer_splits_config_path', False)}, when no "
                      "mirrors, configs or auths are set) find nothing (containerd#12636)", "use one directory",
                      severity=severity)
        semantics = "hosts" if (config_path or default_path or not local_pull) else "legacy"
        if config_path and not registry.mirrors and load_tree is not None:
            # transfer-service pulls (2.1+, no mirrors/configs/auths) take the list as one directory
            splits = local_pull or release.transfer_splits_config_path()
            roots = config_path if (splits or ":" not in config_path) else None
            tree_config = load_tree(roots) if roots else Config()
            hosts = dict(tree_config.hosts)
            self.notes.extend(tree_config.notes)
            self.problems.extend(tree_config.problems)
        elif semantics == "legacy" or tls_inert:
            # on 2.x the TLS settings do nothing, but conversions carry them over: keep the hosts they name
            hosts = self.legacy_hosts(registry)
        else:
            hosts = {}
        return Config(hosts=hosts, auth=registry.auth, headers=registry.headers,
                      config_path=registry.config_path, notes=tuple(self.notes), problems=tuple(self.problems),
                      source_format=self.fmt, unusable=unusable, failing=dict(self.failing), release=release,
                      semantics=semantics, tls_inert=tls_inert)

    def deprecations(self, registry: _Registry) -> None:
        """containerd 2.x still reads mirrors and configs.*.auth, with a deprecation warning in its log."""
        from ..releases import facts_named

        deprecated = [row for row in facts_named("legacy_keys") if "deprecation" in dict(row.value)["mirrors"]]
        if not deprecated or not (self.target.concerns("legacy_keys", deprecated[-1].value)
                                  or any(self.target.has("legacy_keys", row.value) for row in deprecated)):
            return
        when = "containerd " + (str(self.release) if self.target.explicit else "2.0.0 and later")
        status = dict(self.release.mirrors_status())["mirrors"] if self.target.explicit else (
            "read; removal announced, not done as of 2.3.4 and 2.4.0-beta.0")
        path = ("mirrors",) if registry.mirrors else ("configs",)
        self.warn("mirrors-deprecated", path, f"{when} log a deprecation warning for registry.mirrors and "
                  f"registry.configs ({status})", "migrate to config_path and hosts.toml", severity="info")

    def tls_problems(self, registry: _Registry) -> None:
        """configs.*.tls: read by 1.x, dropped by 2.x (containerd#11624)."""
        target = self.target
        for key in registry.tls:
            if self.fmt == "cri-v3":
                self.warn("tls-ignored-in-v3", ("configs", key, "tls"), "containerd 2.x removed "
                          "registry.configs.<host>.tls and ignores it; private-CA pulls fail (containerd#11624)",
                          "move the TLS settings to a hosts.toml (ca, client, skip_verify)", severity="error")
            if not self.release.legacy_tls():
                self.notes.append(Change(f"configs[{key!r}].tls", "removed", f"ignored by containerd {self.release}",
                                         None, "a version 3 config cannot hold registry TLS (containerd 2.x ignored it "
                                         "anyway); hosts.toml can", targets=frozenset({"cri-v3"})))
            if self.fmt != "cri-v3" and target.concerns("legacy_tls", False):
                self.warn("legacy-tls-ignored", ("configs", key, "tls"),
                          f"{target.who('legacy_tls', False)} {target.verb('drop')} registry.configs.<host>.tls; "
                          "private-CA and client-certificate pulls fail there (containerd#11624)",
                          "migrate: TLS goes into hosts.toml",
                          severity="error" if not self.release.legacy_tls() else "warning")

    # -- the legacy host lists ---------------------------------------------------------------
    def endpoint(self, registry: _Registry, raw: str, key: str) -> Endpoint | None:
        try:
            url = ep_rules.legacy_entry_url(raw, self.release)
        except (gourl.URLError, InputError) as exc:
            why = exc.message if isinstance(exc, InputError) else str(exc)
            self.warn("invalid-endpoint", ("mirrors", key, "endpoint"), f"endpoint {raw!r} of mirrors.\"{key}\" "
                      f"cannot be used ({why}): containerd fails every pull from {key}", "fix the URL",
                      severity="error")
            self.failing.setdefault(key, f"endpoint {raw!r} of mirrors.{key!r} cannot be used ({why}): containerd "
                                         f"fails every pull from {key}")
            return None
        prefix = Endpoint(url).prefix
        if prefix != "/v2" and not prefix.endswith("/v2"):
            self.warn("legacy-root-path", ("mirrors", key, "endpoint"),
                      f"endpoint {raw!r} is used with its path verbatim: requests go to "
                      f"{prefix or ''}/<repository>/… without /v2 (containerd#7068, #6634)",
                      "add /v2 to the path if the registry serves the API there")
        return self.with_tls(registry, Endpoint(url=url, capabilities=self.release.legacy_capabilities(),
                                                rewrite=tuple(sorted(registry.rewrites.get(key, {}).items()))), key)

    def with_tls(self, registry: _Registry, endpoint: Endpoint, owner: str) -> Endpoint:
        tls = registry.tls.get(endpoint.hostport)
        if tls is None:
            return endpoint
        if endpoint.scheme == "http":
            self.notes.append(Change(f"{endpoint_path(owner, endpoint.url or '<upstream>')}.tls", "removed",
                                     f"configs[{endpoint.hostport!r}].tls", None,
                                     "legacy ignored TLS on http endpoints; hosts.toml would try HTTPS first",
                                     targets=frozenset({"certs-d"})))
            return endpoint
        client: tuple[tuple[str, str], ...] = ()
        if tls.cert_file and tls.key_file:
            client = ((tls.cert_file, "" if tls.key_file == tls.cert_file else tls.key_file),)
        return Endpoint(url=endpoint.url, capabilities=endpoint.capabilities,
                        ca=(tls.ca_file,) if tls.ca_file else (), client=client,
                        skip_verify=True if tls.insecure_skip_verify else None, rewrite=endpoint.rewrite)

    def host_list(self, registry: _Registry, name: str, raws: list[str], key: str) -> list[Endpoint]:
        found = [self.endpoint(registry, raw, key) for raw in raws]
        if any(e is None for e in found):
            return []  # containerd fails every pull from this registry
        entries = [e for e in found if e is not None]
        caps = self.release.legacy_capabilities()
        if name == WILDCARD:
            entries.append(Endpoint(IMAGE_UPSTREAM, caps))
        elif not any(e.hostport == name for e in entries):
            upstream = Endpoint(ep_rules.legacy_upstream(name, self.release), caps)
            entries.append(self.with_tls(registry, upstream, name))
        if name == ep_rules.DOCKER_HUB and any(e.hostport == ep_rules.DOCKER_HUB_HOST for e in entries[:-1]):
            self.warn("registry-1-twice", ("mirrors", key, "endpoint"), "the docker.io list contains "
                      "registry-1.docker.io, and containerd appends the upstream anyway: it is tried twice",
                      "remove registry-1.docker.io from the list")
        return entries

    def legacy_hosts(self, registry: _Registry) -> dict[str, Host]:
        hosts: dict[str, Host] = {}
        for key, raws in registry.mirrors.items():
            hosts[key] = Host(key, tuple(self.host_list(registry, key, raws, key)))
            urls = [e.url for e in hosts[key].endpoints[:len(raws)]]
            if len(set(urls)) != len(urls):
                self.warn("duplicate-endpoint", ("mirrors", key, "endpoint"), f"mirrors.\"{key}\" tries the "
                          "same URL twice", "remove one")
        star = registry.mirrors.get(WILDCARD)
        implied: list[str] = []
        for key in registry.tls:
            if key == ep_rules.DOCKER_HUB_HOST:
                implied.append(ep_rules.DOCKER_HUB)
            implied.append(key)
        if star is not None:
            implied.extend(e.hostport for e in hosts[WILDCARD].endpoints if e.url)
        star_body = list(hosts[WILDCARD].endpoints[:-1]) if star is not None and hosts[WILDCARD].endpoints else []
        for name in implied:
            if name in hosts or name == WILDCARD or not ep_rules.valid_hostport(name):
                continue
            entries = self.host_list(registry, name, star or [], WILDCARD)
            # what the model's `*` entry (or, without one, the default) gives this registry
            generic = [*star_body, Endpoint(ep_rules.legacy_upstream(name, self.release),
                                            self.release.legacy_capabilities())]
            if entries != generic:
                hosts[name] = Host(name, tuple(entries))
        return hosts


_DEFAULT_DIRS = "/etc/containerd/certs.d:/etc/docker/certs.d"


def _check_key_text(key: str, reader: _Reader, path: tuple[str, ...]) -> None:
    if not key or len(key) > 255 or any(ord(c) < 0x21 or c in "\"'\\" or ord(c) == 0x7F for c in key):
        raise reader.fail(path, f"key {key!r} is not a host name", fix="use the endpoint's host[:port]")


def read(text: str, name: str, *, fmt: str | None = None, flavor: str = "vanilla",
         load_tree: Callable[[str], Config] | None = None, target: Target = DEFAULT_TARGET) -> Config:
    """The model TARGET's containerd builds from the registry section of a config.toml.

    FMT forces a version (`--from`); LOAD_TREE reads the certs.d tree that `config_path`
    points at, when the section uses one instead of mirrors.
    """
    tree = parse_toml(text, name)
    detected = detect(tree, name)
    if fmt is not None and fmt != detected:
        raise InputError(f"the file is {detected} (version = {tree.get('version', 1)}), not {fmt}", file=name,
                         fix=f"pass --from {detected}, or omit --from")
    return _Reader(text, name, detected, flavor, target).build(tree, load_tree)
