"""`resolve`: reference normalisation and the ordered host list of each source's runtime."""

from __future__ import annotations

import pytest

from translator.errors import InputError
from translator.files import listing_from_files
from translator.formats import certs_d, cri_toml, registries_yaml
from translator.reference import parse
from translator.releases import target
from translator.resolve import resolve


def old_release():
    return target("1.6.20").release

REFERENCES = [
    ("alpine:3", "docker.io", "library/alpine", "3", ""),
    ("alpine", "docker.io", "library/alpine", "latest", ""),
    ("myhost/app", "docker.io", "myhost/app", "latest", ""),
    ("docker.io/library/alpine:3", "docker.io", "library/alpine", "3", ""),
    ("index.docker.io/library/alpine", "docker.io", "library/alpine", "latest", ""),
    ("index.docker.io/alpine", "docker.io", "library/alpine", "latest", ""),
    ("localhost/app:1", "localhost", "app", "1", ""),
    ("localhost:5000/a/b/c:1.0", "localhost:5000", "a/b/c", "1.0", ""),
    ("ghcr.io/org/app@sha256:" + "a" * 64, "ghcr.io", "org/app", "", "sha256:" + "a" * 64),
    ("ghcr.io/org/app:1@sha256:" + "b" * 64, "ghcr.io", "org/app", "", "sha256:" + "b" * 64),
    ("[::1]:5000/app:2", "[::1]:5000", "app", "2", ""),
    ("registry-1.docker.io/library/x", "registry-1.docker.io", "library/x", "latest", ""),
]


@pytest.mark.parametrize("text,registry,repository,tag,digest", REFERENCES)
def test_reference_normalisation(text: str, registry: str, repository: str, tag: str, digest: str) -> None:
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


@pytest.mark.parametrize("text", ["", "docker.io/UPPER/app", "app:bad tag", "app@sha256:short", "a b",
                                  "app:" + "x" * 200])
def test_invalid_references(text: str) -> None:
    with pytest.raises(InputError):
        parse(text)


def tree(files: dict[str, str]):
    return certs_d.read(listing_from_files(files), "certs.d")


def urls(result) -> list[str]:
    return [h.url for h in result.hosts]


# containerd core/remotes/docker/config/hosts_test.go TestParseHostFile (referrers left out: < 2.2)
PARSE_HOST_FILE = '''
server = "https://test-default.registry"
ca = "/etc/path/default"
[header]
  x-custom-1 = "custom header"

[host."https://mirror.registry"]
  capabilities = ["pull"]
  ca = "/etc/certs/mirror.pem"
  skip_verify = false
  [host."https://mirror.registry".header]
    x-custom-2 = ["value1", "value2"]

[host."https://mirror-bak.registry/us"]
  capabilities = ["pull"]
  skip_verify = true

[host."http://mirror.registry"]
  capabilities = ["pull"]

[host."https://test-1.registry"]
  capabilities = ["pull", "resolve", "push"]
  ca = ["/etc/certs/test-1-ca.pem", "/etc/certs/special.pem"]
  client = [["/etc/certs/client.cert", "/etc/certs/client.key"],["/etc/certs/client.pem", ""]]

[host."https://test-2.registry"]
  client = "/etc/certs/client.pem"

[host."https://test-3.registry"]
  client = ["/etc/certs/client-1.pem", "/etc/certs/client-2.pem"]

[host."https://noncompliantmirror.registry/v2/namespaceprefix"]
  capabilities = ["pull"]
  override_path = true

[host."https://noprefixnoncompliant.registry"]
  override_path = true

[host."https://onlyheader.registry".header]
  x-custom-1 = "justaheader"

[host."https://dial-timeout.registry"]
  dial_timeout = "3s"
'''


def test_containerd_parse_host_file_cases() -> None:
    config = tree({"test-default.registry/hosts.toml": PARSE_HOST_FILE})
    digest = "test-default.registry/app@sha256:" + "c" * 64
    result = resolve(digest, config)
    got = [(h.url, h.capabilities, h.ca, h.client, h.skip_verify, h.header) for h in result.hosts]
    all_caps = ["pull", "resolve", "push"]
    assert got == [
        ("https://mirror.registry/v2", ["pull"], ["/etc/certs/mirror.pem"], [], False,
         {"x-custom-2": ["value1", "value2"]}),
        ("https://mirror-bak.registry/us/v2", ["pull"], [], [], True, {}),
        ("http://mirror.registry/v2", ["pull"], [], [], False, {}),
        ("https://test-1.registry/v2", all_caps, ["/etc/certs/test-1-ca.pem", "/etc/certs/special.pem"],
         [["/etc/certs/client.cert", "/etc/certs/client.key"], ["/etc/certs/client.pem", ""]], False, {}),
        ("https://test-2.registry/v2", all_caps, [], [["/etc/certs/client.pem", ""]], False, {}),
        ("https://test-3.registry/v2", all_caps, [], [["/etc/certs/client-1.pem", ""], ["/etc/certs/client-2.pem", ""]],
         False, {}),
        ("https://noncompliantmirror.registry/v2/namespaceprefix", ["pull"], [], [], False, {}),
        ("https://noprefixnoncompliant.registry", all_caps, [], [], False, {}),
        ("https://onlyheader.registry/v2", all_caps, [], [], False, {"x-custom-1": ["justaheader"]}),
        ("https://dial-timeout.registry/v2", all_caps, [], [], False, {}),
        ("https://test-default.registry/v2", all_caps, ["/etc/path/default"], [], False,
         {"x-custom-1": ["custom header"]}),
    ]
    manifests = [h.manifest for h in result.hosts]
    assert manifests[0] == "https://mirror.registry/v2/app/manifests/sha256:" + "c" * 64 + "?ns=test-default.registry"
    assert manifests[7] == "https://noprefixnoncompliant.registry/app/manifests/sha256:" + "c" * 64 + \
        "?ns=test-default.registry"
    assert manifests[-1] == "https://test-default.registry/v2/app/manifests/sha256:" + "c" * 64
    # a tag needs pull and resolve: the pull-only hosts are not asked
    tagged = resolve("test-default.registry/app:1", config)
    assert urls(tagged) == ["https://test-1.registry/v2", "https://test-2.registry/v2", "https://test-3.registry/v2",
                            "https://noprefixnoncompliant.registry", "https://onlyheader.registry/v2",
                            "https://dial-timeout.registry/v2", "https://test-default.registry/v2"]
    assert [s.url for s in tagged.skipped] == ["https://mirror.registry/v2", "https://mirror-bak.registry/us/v2",
                                               "http://mirror.registry/v2", "https://noncompliantmirror.registry/v2/"
                                               "namespaceprefix"]
    assert any("lack resolve" in s.reason for s in tagged.skipped)


def test_default_hosts_without_configuration() -> None:
    empty = tree({})
    assert urls(resolve("alpine:3", empty)) == ["https://registry-1.docker.io/v2"]
    assert resolve("alpine:3", empty).hosts[0].capabilities == ["pull", "resolve", "push"]
    # the newest containerd fills http + skip_verify for a localhost registry on a port, which makes it
    # try HTTPS first (SEMANTICS §2.4, §2.5); 1.6.20 uses plain http
    assert urls(resolve("localhost:5000/a:1", empty)) == ["https://localhost:5000/v2", "http://localhost:5000/v2"]
    old = certs_d.read(listing_from_files({}), "certs.d", target=target("1.6.20"))
    assert urls(resolve("localhost:5000/a:1", old.with_(release=old_release()))) == ["http://localhost:5000/v2"]


def test_directory_lookup_and_default() -> None:
    config = tree({"_default/hosts.toml": '[host."https://cache.example.com"]\n',
                   "ghcr.io/hosts.toml": '', "r.example.com_5000_/hosts.toml": '[host."https://m.example.com"]\n'})
    assert urls(resolve("quay.io/a/b:1", config)) == ["https://cache.example.com/v2", "https://quay.io/v2"]
    assert urls(resolve("ghcr.io/a/b:1", config)) == ["https://ghcr.io/v2"]  # an empty hosts.toml hides _default
    assert urls(resolve("r.example.com:5000/a:1", config)) == ["https://m.example.com/v2",
                                                               "https://r.example.com:5000/v2"]
    result = resolve("quay.io/a/b:1", config)
    assert result.hosts[0].manifest == "https://cache.example.com/v2/a/b/manifests/1?ns=quay.io"
    assert resolve("127.0.0.1:5000/a:1", config).hosts[0].manifest.endswith("?ns=127.0.0.1%3A5000")


def test_legacy_semantics() -> None:
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."*"]\n'
            '  endpoint = ["https://cache.example.com", "https://ghcr.io"]\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
            '  endpoint = ["https://m.example.com/proxy", "localhost:5000"]\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."quay.io"]\n  endpoint = []\n')
    config = cri_toml.read(text, "config.toml")
    assert urls(resolve("alpine:3", config)) == ["https://m.example.com/proxy", "http://localhost:5000/v2",
                                                 "https://registry-1.docker.io/v2"]
    assert resolve("alpine:3", config).hosts[0].manifest == \
        "https://m.example.com/proxy/library/alpine/manifests/3?ns=docker.io"
    assert urls(resolve("quay.io/a:1", config)) == ["https://quay.io/v2"]
    assert urls(resolve("gcr.io/a:1", config)) == ["https://cache.example.com/v2", "https://ghcr.io/v2",
                                                   "https://gcr.io/v2"]
    # the * list contains ghcr.io itself: legacy appends no upstream for it
    assert urls(resolve("ghcr.io/a:1", config)) == ["https://cache.example.com/v2", "https://ghcr.io/v2"]
    # legacy mirrors are pull+resolve, and from containerd 2.2 (the default, newest release) also referrers
    assert resolve("ghcr.io/a:1", config).hosts[0].capabilities == ["pull", "resolve", "referrers"]
    old = cri_toml.read(text, "config.toml", target=target("1.7"))
    assert resolve("ghcr.io/a:1", old).hosts[0].capabilities == ["pull", "resolve"]


def test_k3s_semantics_apply_rewrites() -> None:
    config = registries_yaml.read('mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n'
                                  '    rewrite:\n      "^library/(.*)": "hub/$1"\n', "registries.yaml")
    first, upstream = resolve("alpine:3", config).hosts
    assert first.manifest == "https://m.example.com/v2/hub/alpine/manifests/3?ns=docker.io"
    assert first.rewrite == {"^library/(.*)": "hub/$1"}
    assert upstream.manifest == "https://registry-1.docker.io/v2/library/alpine/manifests/3"
    no_default = registries_yaml.read('mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n',
                                      "r.yaml", no_default_endpoint=True)
    assert urls(resolve("alpine:3", no_default)) == ["https://m.example.com/v2"]


def test_seed_003_library_key_is_never_consulted() -> None:
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
            '  endpoint = ["https://atomhub.openatom.cn"]\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io/library"]\n'
            '  endpoint = ["https://atomhub.openatom.cn/library"]\n')
    config = cri_toml.read(text, "config.toml")
    for image in ("alpine:3", "docker.io/library/alpine:3"):
        assert urls(resolve(image, config)) == ["https://atomhub.openatom.cn/v2", "https://registry-1.docker.io/v2"]


def test_resolve_reads_only_the_directories_containerd_opens(tmp_path, tool) -> None:
    """containerd opens `host_port_`, the host, then `_default` (hostPaths): a broken hosts.toml of an
    unrelated registry does not stop a pull, and neither does it stop `resolve`."""
    import json

    from translator.files import host_dir_names, read_tree

    assert host_dir_names("r.example.com:5000") == ("r.example.com_5000_", "r.example.com:5000", "_default")
    assert host_dir_names("docker.io") == ("docker.io", "_default")
    root = tmp_path / "certs.d"
    for name, text in {"broken.example.com/hosts.toml": "[host.\n",
                       "r.example.com_5000_/hosts.toml": '[host."https://new.example.com"]\n',
                       "r.example.com:5000/hosts.toml": '[host."https://old.example.com"]\n',
                       "_default/hosts.toml": '[host."https://cache.example.com"]\n'}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    assert sorted(read_tree(str(root), "r.example.com:5000").entries) == ["_default", "r.example.com:5000",
                                                                          "r.example.com_5000_"]
    run = tool("resolve", "r.example.com:5000/a:1", "--config", str(root), "--format", "json")
    assert run.code == 0, run.text
    assert json.loads(run.out)["hosts"][0]["url"] == "https://new.example.com/v2"
    run = tool("resolve", "quay.io/a:1", "--config", str(root), "--format", "json")
    assert run.code == 0, run.text
    assert [h["url"] for h in json.loads(run.out)["hosts"]] == ["https://cache.example.com/v2", "https://quay.io/v2"]
    assert "empty-certs-dir" not in run.err
    assert "broken.example.com" not in run.err
    # the broken file is still reported where containerd reads it: for its own registry, and in `check`
    assert "invalid TOML" in tool("resolve", "broken.example.com/a:1", "--config", str(root)).err
    assert tool("check", str(root)).code != 0
