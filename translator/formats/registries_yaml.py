"""registries-yaml: k3s / RKE2 `/etc/rancher/k3s/registries.yaml`.

Read the way k3s reads it (wharfie's schema through gopkg.in/yaml.v2, then
`pkg/agent/containerd/config.go getHostConfigs`), so the model is exactly the host lists
that k3s renders into hosts.toml, quirks included (SEMANTICS.md §4):

    mirrors:
      docker.io:
        endpoint: ["https://mirror.example.com", "registry-1.docker.io"]
        rewrite: {"^library/(.*)": "mirror/$1"}
    configs:
      mirror.example.com:
        auth: {username: u, password: p}
        tls: {ca_file: /etc/ssl/mirror.pem, insecure_skip_verify: false}

Covers k3s v1.26+ (hosts.toml generation) and RKE2, which share the code.
Writing is in registries_yaml_writer.py.
"""

from __future__ import annotations

import yaml

from .. import endpoints as ep_rules
from .. import gourl, secrets
from ..errors import InputError, Problem
from ..model import (
    ALL_CAPABILITIES,
    IMAGE_UPSTREAM,
    MIRROR_CAPABILITIES,
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
from . import yaml_in
from .yaml_in import BOOL, NULL, Budget, line_of, mapping_items

NAME = "registries-yaml"

ROOT_KEYS = ("mirrors", "configs", "auths")
MIRROR_KEYS = ("endpoint", "rewrite")
CONFIG_KEYS = ("auth", "tls")
AUTH_KEYS = ("username", "password", "auth", "identity_token")
TLS_KEYS = ("ca_file", "cert_file", "key_file", "insecure_skip_verify")
KNOWN_MISTAKES = {
    "token": "the field is identity_token",
    "identitytoken": "registries.yaml spells it identity_token",
    "endpoints": "the key is endpoint (singular)",
    "skip_verify": "registries.yaml spells it insecure_skip_verify",
    "insecure": "registries.yaml spells it insecure_skip_verify",
    "ca": "registries.yaml spells it ca_file",
    "rewrites": "the key is rewrite (singular)",
}


# --- reading ---------------------------------------------------------------------------------

@record(mutable=True)
class _Tls:
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False


@record(mutable=True)
class _RegistryConfig:
    auth: Auth | None = None
    tls: _Tls | None = None


@record(mutable=True)
class _Ep:
    url: str
    url_string: str
    override: bool
    config: _RegistryConfig
    rewrites: dict[str, str]


@record(mutable=True)
class _Entry:
    default: _Ep | None
    endpoints: list[_Ep] = field(default_factory=list)


class _Reader:
    def __init__(self, name: str, no_default_endpoint: bool) -> None:
        self.name = name
        self.no_default = no_default_endpoint
        self.budget = Budget(name)
        self.problems: list[Problem] = []
        self.notes: list[Change] = []

    # -- diagnostics ------------------------------------------------------------------------
    def where(self, node: yaml.Node | None) -> str:
        line = line_of(node)
        return f"{self.name}:{line}" if line else self.name

    def warn(self, code: str, node: yaml.Node | None, message: str, fix: str = "",
             severity: str = "warning") -> None:
        self.problems.append(Problem(severity, code, message, fix, file=self.name, line=line_of(node)))

    def fail(self, node: yaml.Node | None, message: str, fix: str | None = None,
             code: str = "invalid-input") -> InputError:
        return InputError(message, file=self.name, line=line_of(node), fix=fix, code=code)

    # -- typed access, as gopkg.in/yaml.v2 decodes into wharfie's structs ------------------
    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            return []
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping, not {_kind(node)}")
        return [(k.value, k, v) for k, v in mapping_items(node, self.name, self.budget)]

    def string(self, node: yaml.Node, what: str) -> str:
        self.budget.spend(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == BOOL:
                raise self.fail(node, f"{what} is the boolean {node.value}, not text",
                                fix=f'quote it ("{node.value}") if you mean the text')
            return "" if node.tag == NULL else node.value
        raise self.fail(node, f"{what} must be a string, not {_kind(node)}")

    def boolean(self, node: yaml.Node, what: str) -> bool:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == NULL:
                return False
            if node.tag == BOOL:
                return node.value.lower() in ("true", "yes", "on", "y")
            if node.value.lower() in ("true", "false", "yes", "no", "on", "off"):
                raise self.fail(node, f"{what} is the quoted string {node.value!r}, not a boolean",
                                fix="write true or false without quotes")
        raise self.fail(node, f"{what} must be true or false", fix="write true or false")

    def unknown(self, key: str, node: yaml.Node, where: str, known: tuple[str, ...]) -> None:
        hint = KNOWN_MISTAKES.get(key, f"k3s knows only {', '.join(known)}")
        self.warn("unknown-key", node, f"unknown key {key!r} in {where} is ignored by k3s", hint)
        self.notes.append(Change(f"{where}.{key}" if where != "the document" else key, "removed", key, None,
                                 f"k3s does not read {key!r}; a conversion does not carry it"))

    # -- the document -------------------------------------------------------------------------
    def read(self, text: str) -> Config:
        root = yaml_in.compose(text, self.name)
        if root is None:
            return Config(source_format=NAME)
        mirrors: dict[str, tuple[yaml.Node, list[str], list[yaml.Node], dict[str, str]]] = {}
        configs: dict[str, tuple[yaml.Node, _RegistryConfig]] = {}
        for key, knode, value in self.mapping(root, "the document"):
            if key == "mirrors":
                for mkey, mknode, mvalue in self.mapping(value, "mirrors"):
                    parsed = self.mirror(mkey, mvalue)
                    if mkey in ROOT_KEYS and not parsed[0]:
                        self.warn("misplaced-section", mknode, f"{mkey!r} is indented under mirrors, so k3s reads it "
                                  f"as a mirror of a registry named {mkey!r} and does nothing with it",
                                  f"move {mkey}: to the top level (no indentation)")
                    if self.registry_key(mkey, mknode, "mirrors"):
                        mirrors[mkey] = (mknode, *parsed)
            elif key == "configs":
                for ckey, cknode, cvalue in self.mapping(value, "configs"):
                    parsed_config = self.registry_config(ckey, cvalue)
                    if self.registry_key(ckey, cknode, "configs"):
                        configs[ckey] = (cknode, parsed_config)
            elif key == "auths":
                if self.mapping(value, "auths"):
                    self.warn("auths-deprecated", knode, "k3s never uses the auths section of registries.yaml",
                              "move the credentials to configs.<host>.auth")
                    self.notes.append(Change("auths", "removed", "(auths section)", None,
                                             "k3s never uses registries.yaml auths"))
            else:
                self.unknown(key, knode, "the document", ROOT_KEYS)
        return self.build(mirrors, configs)

    def registry_key(self, key: str, node: yaml.Node, section: str) -> bool:
        """Whether KEY names a registry k3s configures. A key with a path or scheme, or one that is no
        host name, is skipped (k3s logs it, or writes a directory nobody looks in): a problem, not a
        refusal of the file."""
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (yaml_in.STR, yaml_in.INT, yaml_in.FLOAT):
            raise self.fail(node, f"{section} key must be a registry host name")
        problem = ep_rules.name_problem(key)
        if problem:
            self.warn("mirror-key-has-path", node, f"{section} key {key!r} {problem}: k3s and containerd only match "
                      "registry host names, so it is never consulted", "use the bare host[:port], e.g. 'docker.io'",
                      severity="error")
            self.notes.append(Change(host_path(key), "removed", key, None, "containerd never consults this key"))
            return False
        if key != WILDCARD and not ep_rules.valid_hostport(key):
            self.warn("mirror-key-not-a-registry", node, f"{section} key {key!r} is not a registry host[:port]: "
                      "k3s skips it (or writes a directory containerd never looks in)",
                      "use the registry's host name and port only, e.g. registry.example.com:5000",
                      severity="error")
            self.notes.append(Change(host_path(key), "removed", key, None, "k3s and containerd never use this key"))
            return False
        if key in ep_rules.HUB_ALIASES and section == "mirrors":
            self.warn("hub-alias-key", node, f"mirrors key {key!r} is never used: image references "
                      "normalise to docker.io", "use the key docker.io")
        return True

    def mirror(self, key: str, node: yaml.Node) -> tuple[list[str], list[yaml.Node], dict[str, str]]:
        endpoints: list[str] = []
        nodes: list[yaml.Node] = []
        rewrites: dict[str, str] = {}
        for field_name, fknode, value in self.mapping(node, f"mirrors.{key}"):
            if field_name == "endpoint":
                if isinstance(value, yaml.ScalarNode) and value.tag == NULL:
                    continue
                if not isinstance(value, yaml.SequenceNode):
                    example = value.value if isinstance(value, yaml.ScalarNode) else "https://mirror.example.com"
                    raise self.fail(value, f"mirrors.{key}.endpoint must be a list of URLs, not {_kind(value)}",
                                    fix=f'write endpoint: ["{example}"]')
                for item in value.value:
                    endpoints.append(self.string(item, f"an endpoint of mirrors.{key}"))
                    nodes.append(item)
            elif field_name == "rewrite":
                for pattern, _pnode, replacement in self.mapping(value, f"mirrors.{key}.rewrite"):
                    rewrites[pattern] = self.string(replacement, f"the rewrite of {pattern!r}")
            else:
                self.unknown(field_name, fknode, f"mirrors.{key}", MIRROR_KEYS)
        return endpoints, nodes, rewrites

    def registry_config(self, key: str, node: yaml.Node) -> _RegistryConfig:
        config = _RegistryConfig()
        for field_name, fknode, value in self.mapping(node, f"configs.{key}"):
            if field_name == "auth":
                if isinstance(value, yaml.ScalarNode) and value.tag == NULL:
                    continue
                fields = {}
                for akey, aknode, avalue in self.mapping(value, f"configs.{key}.auth"):
                    if akey in AUTH_KEYS:
                        fields[akey] = self.string(avalue, f"configs.{key}.auth.{akey}")
                    else:
                        self.unknown(akey, aknode, f"configs.{key}.auth", AUTH_KEYS)
                config.auth = Auth(username=fields.get("username", ""), password=fields.get("password", ""),
                                   auth=fields.get("auth", ""), identitytoken=fields.get("identity_token", ""))
                for secret in (config.auth.password, config.auth.auth, config.auth.identitytoken):
                    secrets.remember(secret)
                if key in ("docker.io", "index.docker.io") and any(config.auth.as_dict().values()):
                    self.warn("hub-auth-key", fknode, f"credentials keyed {key!r} are looked up as "
                              "registry-1.docker.io by containerd (containerd#7795)",
                              "key Docker Hub credentials registry-1.docker.io")
                if key == WILDCARD:
                    self.warn("wildcard-auth", fknode, "configs.\"*\".auth is never used: credentials are "
                              "matched by exact endpoint host", "add one configs entry per host")
            elif field_name == "tls":
                if isinstance(value, yaml.ScalarNode) and value.tag == NULL:
                    continue
                tls = _Tls()
                for tkey, tknode, tvalue in self.mapping(value, f"configs.{key}.tls"):
                    if tkey == "insecure_skip_verify":
                        tls.insecure_skip_verify = self.boolean(tvalue, f"configs.{key}.tls.insecure_skip_verify")
                    elif tkey in TLS_KEYS:
                        setattr(tls, tkey, self.string(tvalue, f"configs.{key}.tls.{tkey}"))
                        if getattr(tls, tkey) and not getattr(tls, tkey).startswith("/"):
                            self.warn("relative-cert-path", tvalue, f"configs.{key}.tls.{tkey} is a relative "
                                      "path; containerd resolves it against the certs.d host directory",
                                      "use an absolute path")
                    else:
                        self.unknown(tkey, tknode, f"configs.{key}.tls", TLS_KEYS)
                if bool(tls.cert_file) != bool(tls.key_file):
                    self.warn("lone-cert-or-key", fknode, f"configs.{key}.tls sets only one of cert_file and "
                              "key_file; k3s writes a broken client pair", "set both", severity="error")
                config.tls = tls
            else:
                self.unknown(field_name, fknode, f"configs.{key}", CONFIG_KEYS)
        return config

    # -- k3s getHostConfigs ---------------------------------------------------------------------
    def config_for_host(self, configs: dict[str, _RegistryConfig], host: str) -> _RegistryConfig:
        alias = ep_rules.default_host(host)
        if alias != host and alias in configs:
            return configs[alias]
        return configs.get(host, _RegistryConfig())

    def default_entry(self, key: str, config: _RegistryConfig) -> _Entry:
        if key == WILDCARD:
            return _Entry(default=_Ep(IMAGE_UPSTREAM, "", False, config, {}))
        normal = ep_rules.k3s_normalize(key)
        return _Entry(default=_Ep(normal.url, normal.url_string, False, config, {}))

    def build(self, mirrors: dict, configs_nodes: dict[str, tuple[yaml.Node, _RegistryConfig]]) -> Config:
        configs = {k: c for k, (_n, c) in configs_nodes.items()}
        entries: dict[str, _Entry] = {}
        from_configs: set[str] = set()
        for key, config in configs.items():
            entries["_default" if key == WILDCARD else key] = self.default_entry(key, config)
            from_configs.add("_default" if key == WILDCARD else key)
        for key, (knode, raw_endpoints, nodes, rewrites) in mirrors.items():
            entry = entries.get(key)  # k3s looks "*" up as "*", though it stored it as "_default"
            if entry is None:
                entry = self.default_entry(key, self.config_for_host(configs, key))
                if self.no_default:
                    entry.default = None
                elif key == WILDCARD:
                    if WILDCARD in configs and configs[WILDCARD].tls is not None:
                        self.warn("wildcard-tls-dropped", knode, "k3s rebuilds _default from mirrors[\"*\"] and "
                                  "drops configs[\"*\"].tls", "repeat the TLS settings per endpoint host")
                        self.notes.append(Change(f"{host_path('*')}.tls", "removed", "configs[\"*\"].tls", None,
                                                 "k3s rebuilds _default from mirrors[\"*\"] and drops "
                                                 "configs[\"*\"].tls"))
                    entry.default = _Ep(IMAGE_UPSTREAM, "", False, _RegistryConfig(), {})
            elif self.no_default and key in from_configs:
                self.warn("no-default-ignored", knode, f"--no-default-endpoint does not apply to {key!r}: it "
                          "also has a configs entry (a k3s quirk)", "expect the upstream to be tried last")
            seen: set[str] = set()
            for index, (raw, node) in enumerate(zip(raw_endpoints, nodes)):
                try:
                    normal = ep_rules.k3s_normalize(raw)
                except gourl.URLError as exc:
                    self.warn("invalid-endpoint", node, f"endpoint {raw!r} of {key!r} is skipped by k3s: {exc}",
                              "fix the URL")
                    self.notes.append(Change(endpoint_path(key, raw), "removed", raw, None,
                                             f"k3s skips an invalid endpoint URL ({exc})"))
                    continue
                except InputError as exc:  # a host containerd could never reach: k3s skips it too
                    self.warn("invalid-endpoint", node, f"endpoint {raw!r} of {key!r} is skipped: {exc.message}",
                              exc.fix or "fix the URL", severity="error")
                    self.notes.append(Change(endpoint_path(key, raw), "removed", raw, None,
                                             f"k3s skips an endpoint it cannot use ({exc.message})"))
                    continue
                if normal.url_string in seen:
                    self.warn("duplicate-endpoint", node, f"endpoint {raw!r} of {key!r} is a duplicate; "
                              "k3s skips it", "remove it")
                    continue
                seen.add(normal.url_string)
                endpoint = _Ep(normal.url, normal.url_string, normal.override,
                               self.config_for_host(configs, normal.registry), rewrites)
                default = entry.default
                if (index + 1 == len(raw_endpoints) and default is not None
                        and default.url_string == normal.url_string):
                    entry.default = endpoint
                    if rewrites:
                        self.notes.append(Change(f"{endpoint_path(key, normal.url)}.rewrite", "removed",
                                                 dict(sorted(rewrites.items())), None,
                                                 "k3s never applies rewrites to the default endpoint"))
                else:
                    entry.endpoints.append(endpoint)
            entries["_default" if key == WILDCARD else key] = entry
        order = list(mirrors) + [k for k in configs if k not in mirrors]
        hosts: dict[str, Host] = {}
        for key in order:
            entry = entries.get("_default" if key == WILDCARD else key)
            if entry is None or (not entry.endpoints and not _has_config(entry.default)):
                continue
            hosts[key] = self.host(key, entry)
        auth = {k: c.auth for k, c in configs.items() if c.auth is not None}
        return Config(hosts=hosts, auth=auth, notes=tuple(self.notes), problems=tuple(self.problems),
                      source_format=NAME)

    def host(self, key: str, entry: _Entry) -> Host:
        endpoints = [_endpoint(e, MIRROR_CAPABILITIES, e.rewrites) for e in entry.endpoints]
        if entry.default is not None:
            endpoints.append(_endpoint(entry.default, ALL_CAPABILITIES, {}))
        return Host(name=key, endpoints=tuple(endpoints))


def _has_config(default: _Ep | None) -> bool:
    if default is None:
        return False
    return bool(default.override or default.config.auth is not None or default.config.tls is not None
                or default.rewrites)


def _endpoint(e: _Ep, capabilities: tuple[str, ...], rewrites: dict[str, str]) -> Endpoint:
    tls = e.config.tls
    ca: tuple[str, ...] = ()
    client: tuple[tuple[str, str], ...] = ()
    skip: bool | None = None
    if tls is not None:
        if tls.ca_file:
            ca = (tls.ca_file,)
        if tls.cert_file or tls.key_file:
            key = "" if tls.key_file == tls.cert_file else tls.key_file
            client = ((tls.cert_file, key),)
        if tls.insecure_skip_verify:
            skip = True
    return Endpoint(url=e.url, capabilities=capabilities, ca=ca, client=client, skip_verify=skip,
                    rewrite=tuple(sorted(rewrites.items())) if rewrites else ())


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == NULL:
        return "empty"
    return f"the value {node.value!r}" if len(node.value) < 40 else "a value"


def read(text: str, name: str, *, no_default_endpoint: bool = False) -> Config:
    """The model k3s builds from a registries.yaml."""
    return _Reader(name, no_default_endpoint).read(text)
