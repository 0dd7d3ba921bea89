"""The runtime rules, case by case: k3s's endpoint normalisation and host building (its
config_test.go cases), containerd's hosts.toml URL rule, legacy CRI lists, Go's url.Parse."""

from __future__ import annotations

import pytest

from translator import endpoints as ep
from translator import gourl
from translator.errors import InputError
from translator.files import listing_from_files
from translator.formats import certs_d, cri_toml, registries_yaml


def hosts_of(yaml_text: str, no_default: bool = False) -> dict[str, list[str]]:
    config = registries_yaml.read(yaml_text, "registries.yaml", no_default_endpoint=no_default)
    return {name: [e.url for e in host.endpoints] for name, host in config.hosts.items()}


K3S_ENDPOINTS = [
    ("registry.example.com/prefix/v2", "https://registry.example.com/prefix/v2", True),
    ("registry.example.com/v2", "https://registry.example.com/v2", False),
    ("https://registry.example.com", "https://registry.example.com/v2", False),
    ("registry.example.com:443", "https://registry.example.com:443/v2", False),
    ("1.2.3.4", "https://1.2.3.4/v2", False),
    ("1.2.3.4:443", "https://1.2.3.4:443/v2", False),
    ("localhost:5000", "http://localhost:5000/v2", False),
    ("https://localhost:5000", "https://localhost:5000/v2", False),
    ("127.0.0.1:5000", "http://127.0.0.1:5000/v2", False),
    ("https://127.0.0.1:5000", "https://127.0.0.1:5000/v2", False),
    ("localhost", "https://localhost/v2", False),
    ("127.0.0.1:443", "https://127.0.0.1:443/v2", False),
    ("docker.io", "https://registry-1.docker.io/v2", False),
    ("https://registry.example.com/project/registry", "https://registry.example.com/project/registry", True),
    ("https://m.example.com/", "https://m.example.com/v2", False),
    ("https://m.example.com/v2/", "https://m.example.com/v2", True),
]


@pytest.mark.parametrize("raw,url,override", K3S_ENDPOINTS)
def test_k3s_normalises_endpoints(raw: str, url: str, override: bool) -> None:
    normal = ep.k3s_normalize(raw)
    assert (normal.url, normal.override) == (url, override)


def test_k3s_registry_name_of_docker_hub_endpoints() -> None:
    assert ep.k3s_normalize("https://registry-1.docker.io").registry == "docker.io"
    assert ep.k3s_normalize("docker.io").registry == "docker.io"


@pytest.mark.parametrize("raw", ["https://m:x", "a b", "https://m/%zz"])
def test_k3s_skips_what_go_cannot_parse(raw: str) -> None:
    with pytest.raises(gourl.URLError):
        ep.k3s_normalize(raw)


# k3s pkg/agent/containerd/config_test.go Test_UnitGetHostConfigs, the cases without the embedded registry
K3S_CASES = [
    ("mirrors:\n  docker.io:\n", {}),
    ("mirrors:\n  docker.io:\n    endpoint: [docker.io]\n", {}),
    ("mirrors:\n  docker.io:\nconfigs:\n  docker.io:\n    auth: {username: user, password: pass}\n",
     {"docker.io": ["https://registry-1.docker.io/v2"]}),
    ("configs:\n  registry.example.com:\n    auth: {username: user, password: pass}\n",
     {"registry.example.com": ["https://registry.example.com/v2"]}),
    ("mirrors:\n  registry.example.com:\n", {}),
    ("mirrors:\n  docker.io:\n    endpoint: [registry.example.com, registry.example.com]\n",
     {"docker.io": ["https://registry.example.com/v2", "https://registry-1.docker.io/v2"]}),
    ("mirrors:\n  docker.io:\n    endpoint: [registry.example.com, 'https://registry.example.com', "
     "'https://registry.example.com/v2']\n",
     {"docker.io": ["https://registry.example.com/v2", "https://registry-1.docker.io/v2"]}),
    ("mirrors:\n  docker.io:\n    endpoint: ['https://registry.example.com', 'https://registry.example.org', "
     "'https://registry.example.com']\n",
     {"docker.io": ["https://registry.example.com/v2", "https://registry.example.org/v2",
                    "https://registry-1.docker.io/v2"]}),
    ("mirrors:\n  '*':\n", {}),
    ("mirrors:\n  '*':\n    endpoint: ['https://registry.example.com/v2']\n",
     {"*": ["https://registry.example.com/v2", ""]}),
    ("mirrors:\n  localhost:\n", {}),
    ("mirrors:\n  localhost:443:\n", {}),
    ("mirrors:\n  localhost:5000:\n", {}),
    ("mirrors:\n  localhost:5000:\n    endpoint: ['https://localhost:5000']\nconfigs:\n  localhost:5000:\n"
     "    tls: {insecure_skip_verify: true}\n",
     {"localhost:5000": ["https://localhost:5000/v2", "http://localhost:5000/v2"]}),
    ("mirrors:\n  docker.io:\n    endpoint: ['https://registry.example.com/prefix/v2']\n"
     "  registry.example.com:\n    endpoint: ['https://registry.example.com/prefix/v2']\n"
     "configs:\n  registry.example.com:\n    auth: {username: user, password: pass}\n",
     {"docker.io": ["https://registry.example.com/prefix/v2", "https://registry-1.docker.io/v2"],
      "registry.example.com": ["https://registry.example.com/prefix/v2", "https://registry.example.com/v2"]}),
]


@pytest.mark.parametrize("text,expected", K3S_CASES)
def test_k3s_host_configs(text: str, expected: dict[str, list[str]]) -> None:
    assert hosts_of(text) == expected


def test_k3s_no_default_endpoint() -> None:
    text = ("mirrors:\n  docker.io:\n    endpoint: ['https://registry.example.com/v2']\n"
            "configs:\n  registry.example.com:\n    auth: {username: user, password: pass}\n")
    assert hosts_of(text, no_default=True) == {
        "docker.io": ["https://registry.example.com/v2"],
        "registry.example.com": ["https://registry.example.com/v2"]}
    listed = "mirrors:\n  docker.io:\n    endpoint: [registry.example.com, registry.example.org, docker.io]\n"
    assert hosts_of(listed, no_default=True) == {"docker.io": [
        "https://registry.example.com/v2", "https://registry.example.org/v2", "https://registry-1.docker.io/v2"]}


def test_k3s_wildcard_config_keeps_tls_on_default() -> None:
    config = registries_yaml.read("configs:\n  '*':\n    auth: {username: u, password: p}\n"
                                  "    tls: {insecure_skip_verify: true}\n", "r.yaml")
    (only,) = config.hosts["*"].endpoints
    assert only.url == "" and only.skip_verify is True
    assert config.auth["*"].username == "u"


def test_k3s_endpoint_configs_follow_the_endpoint_host() -> None:
    config = registries_yaml.read("mirrors:\n  docker.io:\n    endpoint: ['https://m.example.com:5000', "
                                  "'https://m.example.com']\nconfigs:\n  m.example.com:5000:\n"
                                  "    tls: {ca_file: /ca.pem}\n", "r.yaml")
    first, second, default = config.hosts["docker.io"].endpoints
    assert first.ca == ("/ca.pem",) and second.ca == () and default.ca == ()


# containerd remotes/docker/config hosts.go parseHostConfig
HOSTS_URLS = [
    ("https://mirror.registry", False, "https://mirror.registry/v2"),
    ("https://mirror-bak.registry/us", False, "https://mirror-bak.registry/us/v2"),
    ("http://mirror.registry", False, "http://mirror.registry/v2"),
    ("https://noncompliantmirror.registry/v2/namespaceprefix", True,
     "https://noncompliantmirror.registry/v2/namespaceprefix"),
    ("https://noprefixnoncompliant.registry", True, "https://noprefixnoncompliant.registry"),
    ("mirror.registry", False, "https://mirror.registry/v2"),
    ("https://m/v2/ns", False, "https://m/v2/ns/v2"),
    ("https://m/v2/ns", True, "https://m/v2/ns"),
    ("https://m/over2/v2", False, "https://m/over2/v2"),
    ("https://m/a/../b/", False, "https://m/b/v2"),
]


@pytest.mark.parametrize("key,override,url", HOSTS_URLS)
def test_hosts_toml_urls(key: str, override: bool, url: str) -> None:
    assert ep.hosts_entry_url(key, override) == url


def test_hosts_toml_key_without_host_is_dropped() -> None:
    tree = listing_from_files({"docker.io/hosts.toml": '[host."httpcache.local"]\n'})
    config = certs_d.read(tree, "certs.d")
    assert [e.url for e in config.hosts["docker.io"].endpoints] == ["https://registry-1.docker.io/v2"]
    assert any(p.code == "host-without-scheme" and p.severity == "error" for p in config.problems)


UPSTREAMS = [
    ("docker.io", "https://registry-1.docker.io/v2", "https://registry-1.docker.io/v2"),
    ("localhost:5000", "http://localhost:5000/v2", "http://localhost:5000/v2"),
    ("localhost", "https://localhost/v2", "http://localhost/v2"),
    ("127.0.0.1:443", "https://127.0.0.1:443/v2", "http://127.0.0.1:443/v2"),
    ("[::1]:5000", "http://[::1]:5000/v2", "http://[::1]:5000/v2"),
    ("r.example.com:5000", "https://r.example.com:5000/v2", "https://r.example.com:5000/v2"),
]


@pytest.mark.parametrize("registry,hosts,legacy", UPSTREAMS)
def test_upstreams(registry: str, hosts: str, legacy: str) -> None:
    assert ep.hosts_upstream(registry) == hosts
    assert ep.legacy_upstream(registry) == legacy


LEGACY_LISTS = [
    (["https://m.example.com"], ["https://m.example.com/v2", "https://registry-1.docker.io/v2"]),
    (["https://m.example.com/"], ["https://m.example.com", "https://registry-1.docker.io/v2"]),
    (["https://m.example.com/proxy"], ["https://m.example.com/proxy", "https://registry-1.docker.io/v2"]),
    (["127.0.0.1:5000", "localhost"], ["http://127.0.0.1:5000/v2", "http://localhost/v2",
                                       "https://registry-1.docker.io/v2"]),
    (["https://registry-1.docker.io"], ["https://registry-1.docker.io/v2", "https://registry-1.docker.io/v2"]),
    (["https://docker.io"], ["https://docker.io/v2"]),
    ([], ["https://registry-1.docker.io/v2"]),
]


@pytest.mark.parametrize("endpoints,expected", LEGACY_LISTS)
def test_legacy_lists(endpoints: list[str], expected: list[str]) -> None:
    items = ", ".join(f'"{e}"' for e in endpoints)
    text = f'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = [{items}]\n'
    config = cri_toml.read(text, "config.toml")
    assert [e.url for e in config.hosts["docker.io"].endpoints] == expected


def test_legacy_wildcard_and_own_host() -> None:
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."*"]\n'
            '  endpoint = ["https://cache.example.com", "https://ghcr.io"]\n')
    config = cri_toml.read(text, "config.toml")
    assert [e.url for e in config.hosts["*"].endpoints] == ["https://cache.example.com/v2", "https://ghcr.io/v2", ""]
    assert [e.url for e in config.hosts["ghcr.io"].endpoints] == ["https://cache.example.com/v2",
                                                                   "https://ghcr.io/v2"]


def test_legacy_tls_applies_to_the_upstream_too() -> None:
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."r.example.com"]\n'
            '  endpoint = ["https://m.example.com"]\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example.com".tls]\n  ca_file = "/r.pem"\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.configs."m.example.com".tls]\n  ca_file = "/m.pem"\n')
    mirror, upstream = cri_toml.read(text, "config.toml").hosts["r.example.com"].endpoints
    assert mirror.ca == ("/m.pem",) and upstream.ca == ("/r.pem",)


def test_auths_folding() -> None:
    text = ('[plugins.cri.registry.auths."https://gcr.io"]\n  username = "a"\n'
            '[plugins.cri.registry.auths."quay.io"]\n  username = "b"\n'
            '[plugins.cri.registry.configs."quay.io".auth]\n  username = "overwritten"\n')
    config = cri_toml.read(text, "config.toml")
    assert config.auth["gcr.io"].username == "a" and config.auth["quay.io"].username == "b"
    with pytest.raises(InputError, match="CRI plugin fails to load"):
        cri_toml.read('[plugins.cri.registry.auths."10.0.0.1:5000"]\n  username = "x"\n', "config.toml")


@pytest.mark.parametrize("name,ok", [
    ("docker.io", True), ("r.example.com:5000", True), ("[::1]:5000", True), ("*", True), ("localhost", True),
    ("a/b", False), ("..", False), ("a b", False), ('a"b', False), ("a\nb", False), ("a:99999", False),
    ("_default", False), ("-x.com", False), ("", False), ("x]", False), ("::1", False)])
def test_registry_names(name: str, ok: bool) -> None:
    if ok:
        ep.check_registry_name(name)
    else:
        with pytest.raises(InputError):
            ep.check_registry_name(name)


@pytest.mark.parametrize("host,local", [("localhost", True), ("localhost:5000", True), ("127.0.0.1", True),
                                        ("127.1.2.3:80", True), ("[::1]:5000", True), ("::1", True),
                                        ("[::ffff:127.0.0.1]:1", True), ("10.0.0.1", False),
                                        ("localhost.example.com", False)])
def test_is_localhost(host: str, local: bool) -> None:
    assert ep.is_localhost(host) is local


GO_URLS = [
    ("https://user:pw@m.example.com:5000/a%20b?x=1#f", ("https", "m.example.com:5000", "/a b", "x=1")),
    ("//registry.example.com:443", ("", "registry.example.com:443", "", "")),
    ("gcr.io:443", ("gcr.io", "", "", "")),
    ("HTTPS://UPPER.example.com", ("https", "UPPER.example.com", "", "")),
]


@pytest.mark.parametrize("raw,parts", GO_URLS)
def test_go_url_parse(raw: str, parts: tuple[str, str, str, str]) -> None:
    url = gourl.parse(raw)
    assert (url.scheme, url.host, url.path, url.raw_query) == parts


@pytest.mark.parametrize("raw", ["10.0.0.1:5000", "//h:x", "//[::1", "https://m/%zz", "http://a\x01b", ":x",
                                 "//a b"])
def test_go_url_errors(raw: str) -> None:
    with pytest.raises(gourl.URLError):
        gourl.parse(raw)


def test_go_url_string_round_trips() -> None:
    for raw in ("https://m.example.com/v2", "https://u:p@m/a%20b?q=1", "//h:5/p", "http://[::1]:5000/v2"):
        assert gourl.parse(raw).string() == raw
