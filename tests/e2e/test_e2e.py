"""Each scenario proves, in a real containerd 1.6, that a translation makes it pull from the
right place (see the module docstring of harness.py for the setup)."""

from __future__ import annotations

import os

import pytest

from . import harness
from .conftest import run_cli


def start_with_tree(containerds, tmp_path, source: str, name: str = "containerd", extra: tuple[str, ...] = ()):
    """Convert SOURCE to a certs.d tree plus --cri-config into a base containerd config; start it."""
    daemon = containerds(name)
    daemon.write_config(daemon.base_config())
    certs = os.path.join(daemon.dir, "certs.d")
    run_cli("convert", source, "--to", "certs-d", "-o", certs, "--cri-config", daemon.config_file, *extra)
    return daemon.start()


def write(tmp_path, name: str, text: str) -> str:
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def test_docker_hub_mirror_over_http(tmp_path, registry, proxy, containerds):
    proxy.routes = {"/v2/": f"{registry.url}/v2/"}
    source = write(tmp_path, "registries.yaml",
                   f'mirrors:\n  docker.io:\n    endpoint: ["http://{proxy.host}"]\n')
    daemon = start_with_tree(containerds, tmp_path, source)
    daemon.pull("hello:1")
    daemon.pull("docker.io/library/hello:1")
    log = proxy.take()
    assert log[0] == "HEAD /v2/library/hello/manifests/1?ns=docker.io"
    assert all("?ns=docker.io" in line for line in log), log



def manifest_heads(log: list[str], tag: str = "1") -> list[str]:
    return [line.split(" ", 1)[1] for line in log if line.startswith("HEAD ") and f"/manifests/{tag}" in line]


def predicted_paths(config: str, image: str) -> list[str]:
    import json
    from urllib.parse import urlsplit

    hosts = json.loads(run_cli("resolve", image, "--config", config, "--json").stdout)["hosts"]
    out = []
    for host in hosts:
        parts = urlsplit(host["manifest"])
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def test_endpoint_path_becomes_override_path(tmp_path, registry, proxy, containerds):
    proxy.routes = {"/over/": f"{registry.url}/v2/", "/mirror/v2/": f"{registry.url}/v2/"}
    source = write(tmp_path, "registries.yaml",
                   "mirrors:\n"
                   f'  docker.io:\n    endpoint: ["http://{proxy.host}/over"]\n'
                   f'  registry.invalid:\n    endpoint: ["http://{proxy.host}/mirror/v2"]\n')
    daemon = start_with_tree(containerds, tmp_path, source)
    daemon.pull("hello:1")
    daemon.pull("registry.invalid/team/app:1")
    heads = manifest_heads(proxy.take())
    assert heads == ["/over/library/hello/manifests/1?ns=docker.io",
                     "/mirror/v2/team/app/manifests/1?ns=registry.invalid"]
    assert predicted_paths(source, "hello:1")[0] == heads[0]


def test_wildcard_becomes_default_directory(tmp_path, registry, proxy, containerds):
    proxy.routes = {"/wild/": f"{registry.url}/v2/"}
    source = write(tmp_path, "registries.yaml", f'mirrors:\n  "*":\n    endpoint: ["http://{proxy.host}/wild"]\n')
    daemon = start_with_tree(containerds, tmp_path, source)
    daemon.pull("registry.invalid:5000/team/app:1")
    daemon.pull("docker.io/library/hello:1")
    heads = manifest_heads(proxy.take())
    assert heads == ["/wild/team/app/manifests/1?ns=registry.invalid%3A5000",
                     "/wild/library/hello/manifests/1?ns=docker.io"]
    assert os.path.isfile(os.path.join(daemon.dir, "certs.d", "_default", "hosts.toml"))


@pytest.fixture(scope="module")
def tls_registry(certificates, tmp_path_factory):
    reg = harness.Registry(str(tmp_path_factory.mktemp("tls")), tls=certificates).start()
    try:
        harness.push_image(reg, "library/hello", "1")
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def mtls_registry(certificates, tmp_path_factory):
    reg = harness.Registry(str(tmp_path_factory.mktemp("mtls")), tls=certificates, require_client_cert=True).start()
    try:
        harness.push_image(reg, "library/hello", "1")
        yield reg
    finally:
        reg.stop()


def tls_source(tmp_path, name: str, reg: harness.Registry, tls: str) -> str:
    return write(tmp_path, name, "mirrors:\n"
                 f'  "{reg.host}":\n    endpoint: ["https://{reg.host}"]\n'
                 + (f'configs:\n  "{reg.host}":\n    tls:\n{tls}' if tls else ""))


def test_tls_with_a_private_ca(tmp_path, tls_registry, certificates, containerds):
    good = tls_source(tmp_path, "good.yaml", tls_registry, f"      ca_file: {certificates.ca}\n")
    daemon = start_with_tree(containerds, tmp_path, good, "with-ca")
    daemon.pull(f"{tls_registry.host}/library/hello:1")
    for name, tls in (("none.yaml", ""), ("other.yaml", f"      ca_file: {certificates.other_ca}\n")):
        other = start_with_tree(containerds, tmp_path, tls_source(tmp_path, name, tls_registry, tls),
                                name.replace(".yaml", ""))
        with pytest.raises(harness.PullFailed):
            other.pull(f"{tls_registry.host}/library/hello:1", timeout=30)


def test_tls_client_certificate(tmp_path, mtls_registry, certificates, containerds):
    ca = f"      ca_file: {certificates.ca}\n"
    pair = f"      cert_file: {certificates.client_cert}\n      key_file: {certificates.client_key}\n"
    daemon = start_with_tree(containerds, tmp_path, tls_source(tmp_path, "mtls.yaml", mtls_registry, ca + pair),
                             "mtls")
    daemon.pull(f"{mtls_registry.host}/library/hello:1")
    without = start_with_tree(containerds, tmp_path, tls_source(tmp_path, "ca-only.yaml", mtls_registry, ca),
                              "no-client")
    with pytest.raises(harness.PullFailed):
        without.pull(f"{mtls_registry.host}/library/hello:1", timeout=30)


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory):
    reg = harness.Registry(str(tmp_path_factory.mktemp("auth")), htpasswd=("puller", "s3cret-Pa55")).start()
    try:
        harness.push_image(reg, "library/hello", "1")
        yield reg
    finally:
        reg.stop()


def test_credentials_go_to_the_cri_config(tmp_path, auth_registry, containerds):
    source = write(tmp_path, "registries.yaml",
                   f'mirrors:\n  docker.io:\n    endpoint: ["http://{auth_registry.host}"]\n'
                   f'configs:\n  "{auth_registry.host}":\n    auth:\n      username: puller\n'
                   "      password: s3cret-Pa55\n")
    daemon = start_with_tree(containerds, tmp_path, source, "with-auth")
    assert oct(os.stat(daemon.config_file).st_mode & 0o777) in ("0o600", "0o644")
    daemon.pull("hello:1")
    # the same tree without the credentials in the containerd config: 401
    without = containerds("without-auth")
    certs = os.path.join(without.dir, "certs.d")
    result = run_cli("convert", source, "--to", "certs-d", "-o", certs)
    assert "s3cret-Pa55" not in result.stdout + result.stderr
    without.write_config(without.base_config()
                         + f'  [plugins."io.containerd.grpc.v1.cri".registry]\n    config_path = "{certs}"\n')
    without.start()
    with pytest.raises(harness.PullFailed):
        without.pull("hello:1", timeout=30)


def legacy_section(version: int, proxy: harness.LoggingProxy, tls_reg, auth_reg, ca: str) -> str:
    table = 'plugins."io.containerd.grpc.v1.cri".registry' if version == 2 else "plugins.cri.registry"
    return (f'\n[{table}.mirrors."docker.io"]\n'
            f'  endpoint = ["http://{proxy.host}/prefix", "http://{proxy.host}"]\n'
            f'[{table}.mirrors."{proxy.host}"]\n'
            f'  endpoint = ["http://{proxy.host}/a/v2", "{proxy.host}/b", "http://{proxy.host}"]\n'
            f'[{table}.mirrors."{tls_reg.host}"]\n'
            f'  endpoint = ["https://{tls_reg.host}"]\n'
            f'[{table}.mirrors."{auth_reg.host}"]\n'
            f'  endpoint = ["{auth_reg.host}"]\n'
            f'[{table}.configs."{tls_reg.host}".tls]\n'
            f'  ca_file = "{ca}"\n'
            f'[{table}.configs."{auth_reg.host}".auth]\n'
            '  username = "puller"\n  password = "s3cret-Pa55"\n')


@pytest.mark.parametrize("version", [1, 2])
def test_migrate_keeps_requests_and_order(version, tmp_path, registry, proxy, tls_registry, auth_registry,
                                          certificates, containerds):
    proxy.routes = {"/v2/": f"{registry.url}/v2/"}
    images = ["hello:1", f"{proxy.host}/team/app:1", f"{tls_registry.host}/library/hello:1",
              f"{auth_registry.host}/library/hello:1"]
    logs = {}
    for stage in ("legacy", "migrated"):
        daemon = containerds(f"v{version}-{stage}")
        daemon.write_config(daemon.base_config(version)
                            + legacy_section(version, proxy, tls_registry, auth_registry, certificates.ca))
        if stage == "migrated":
            certs = os.path.join(daemon.dir, "certs.d")
            run_cli("migrate", daemon.config_file, "--certs-dir", certs, "--write")
            assert os.path.exists(daemon.config_file + ".bak")
            assert run_cli("check", daemon.config_file, check=False).returncode == 0
        daemon.start()
        for image in images:
            daemon.pull(image)
        logs[stage] = proxy.take()
        daemon.stop()
    assert manifest_heads(logs["legacy"])[:3] == ["/prefix/library/hello/manifests/1?ns=docker.io",
                                                  "/v2/library/hello/manifests/1?ns=docker.io",
                                                  "/a/v2/team/app/manifests/1"]
    assert logs["legacy"] == logs["migrated"]


def test_certs_d_round_trip_through_registries_yaml(tmp_path, registry, proxy, containerds):
    proxy.routes = {"/flat/": f"{registry.url}/v2/"}
    tree = tmp_path / "handwritten"
    (tree / "docker.io").mkdir(parents=True)
    (tree / "docker.io" / "hosts.toml").write_text(
        'server = "https://registry-1.docker.io"\n\n'
        f'[host."http://{proxy.host}/mirror"]\n  capabilities = ["pull", "resolve"]\n\n'
        f'[host."http://{proxy.host}/flat"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n')
    expected = ["/mirror/v2/library/hello/manifests/1?ns=docker.io", "/flat/library/hello/manifests/1?ns=docker.io"]
    original = containerds("original")
    original.write_config(original.base_config()
                          + f'  [plugins."io.containerd.grpc.v1.cri".registry]\n    config_path = "{tree}"\n')
    original.start().pull("hello:1")
    first = proxy.take()
    assert manifest_heads(first) == expected
    assert predicted_paths(str(tree), "hello:1")[:2] == expected
    yaml_file = str(tmp_path / "registries.yaml")
    run_cli("convert", str(tree), "--to", "registries-yaml", "-o", yaml_file)
    again = start_with_tree(containerds, tmp_path, yaml_file, "round-trip")
    again.pull("hello:1")
    assert proxy.take() == first
