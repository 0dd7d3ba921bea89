"""`resolve --probe` against the real distribution registry (https with a private CA, mutual TLS,
htpasswd), and against containerd itself: the probe asks exactly what containerd 1.6 asks."""

from __future__ import annotations

import json
import os

import pytest

from . import harness
from .conftest import run_cli

PASSWORD = "e2e-Pr0be-secret"


@pytest.fixture(scope="module")
def secure_registry(runtime, certificates, tmp_path_factory):
    """https with the private CA, a client certificate required, htpasswd; holds team/app:1."""
    reg = harness.Registry(str(tmp_path_factory.mktemp("secure")), tls=certificates, require_client_cert=True,
                           htpasswd=("rt", PASSWORD)).start()
    try:
        harness.push_image(reg, "team/app", "1")
        yield reg
    finally:
        reg.stop()


def config_for(tmp_path, registry, host_settings: str, password: str | None) -> str:
    """A config.toml (version 2) with config_path -> a tree for the registry, and its credentials."""
    directory = tmp_path / "certs.d" / (registry.host.rsplit(":", 1)[0] + "_" + str(registry.port) + "_")
    directory.mkdir(parents=True)
    (directory / "hosts.toml").write_text(f'server = "{registry.url}"\n{host_settings}\n[host]\n')
    lines = ["version = 2", '[plugins."io.containerd.grpc.v1.cri".registry]',
             f'  config_path = "{tmp_path / "certs.d"}"']
    if password is not None:
        lines += [f'[plugins."io.containerd.grpc.v1.cri".registry.configs."{registry.host}".auth]',
                  '  username = "rt"', f'  password = "{password}"']
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return str(path)


def probe(config: str, image: str, *extra: str):
    result = run_cli("resolve", image, "--config", config, "--probe", "--json", "--timeout", "5", *extra,
                     check=False)
    assert PASSWORD not in result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def test_private_ca_client_pair_and_password(tmp_path, secure_registry, certificates):
    tls = f'ca = "{certificates.ca}"\nclient = [["{certificates.client_cert}", "{certificates.client_key}"]]'
    config = config_for(tmp_path, secure_registry, tls, PASSWORD)
    code, doc = probe(config, f"{secure_registry.host}/team/app:1", "--blob")
    assert code == 0, doc
    assert doc["used"] == f"{secure_registry.url}/v2"
    found = doc["hosts"][0]["probe"]
    assert found["tls"]["ok"] is True and found["auth"].startswith("basic")
    assert [r["status"] for r in found["requests"]][:2] == [401, 200]  # anonymous first, as containerd
    assert doc["blob"]["ok"] is True


def test_wrong_password_is_invalid_authorization(tmp_path, secure_registry, certificates):
    tls = f'ca = "{certificates.ca}"\nclient = [["{certificates.client_cert}", "{certificates.client_key}"]]'
    config = config_for(tmp_path, secure_registry, tls, "not-the-password")
    code, doc = probe(config, f"{secure_registry.host}/team/app:1")
    assert code == 1 and doc["used"] is None
    assert doc["hosts"][0]["probe"]["status"] == 401 and "rejects" in doc["hosts"][0]["probe"]["reason"]


def test_missing_client_pair_and_wrong_ca(tmp_path, secure_registry, certificates):
    no_client = config_for(tmp_path / "a", secure_registry, f'ca = "{certificates.ca}"', PASSWORD)
    code, doc = probe(no_client, f"{secure_registry.host}/team/app:1")
    assert code == 1 and doc["hosts"][0]["probe"]["outcome"] == "client cert"
    wrong_ca = config_for(tmp_path / "b", secure_registry, f'ca = "{certificates.other_ca}"', PASSWORD)
    code, doc = probe(wrong_ca, f"{secure_registry.host}/team/app:1")
    assert code == 1 and "x509: certificate signed by unknown authority" in doc["hosts"][0]["probe"]["error"]


def test_probe_asks_what_containerd_asks(tmp_path, registry, proxy, containerds):
    """The same tree for containerd 1.6 and the probe: the mirror (a logging proxy in front of the
    registry) sees the same requests, in the same order, from both."""
    proxy.routes = {"/v2/": f"{registry.url}/v2/"}
    source = tmp_path / "registries.yaml"
    source.write_text(f'mirrors:\n  docker.io:\n    endpoint: ["http://{proxy.host}"]\n')
    daemon = containerds()
    daemon.write_config(daemon.base_config())
    certs = os.path.join(daemon.dir, "certs.d")
    run_cli("convert", str(source), "--to", "certs-d", "-o", certs, "--cri-config", daemon.config_file)
    daemon.start()
    daemon.pull("docker.io/library/hello:1")
    by_containerd = proxy.take()
    code, doc = probe(daemon.config_file, "docker.io/library/hello:1", "--blob")
    by_probe = proxy.take()
    assert code == 0 and doc["used"] == f"http://{proxy.host}/v2", json.dumps(doc, indent=1)[:3000]
    assert by_probe[0] == by_containerd[0] == "HEAD /v2/library/hello/manifests/1?ns=docker.io"
    assert set(by_probe) <= set(by_containerd), (by_probe, by_containerd)
    assert by_probe[1] == by_containerd[1]  # the manifest by digest, before any blob


def test_a_mirror_that_never_answers_stalls_containerd_too(tmp_path, registry, proxy, containerds):
    """The probe's claim, checked on containerd 1.6: a mirror that accepts and never answers is
    waited on (no response deadline); the next host is never asked."""
    from tests.probe_stubs import Silent

    proxy.routes = {"/v2/": f"{registry.url}/v2/"}
    with Silent() as silent:
        source = tmp_path / "registries.yaml"
        source.write_text(f'mirrors:\n  docker.io:\n    endpoint: ["{silent.url}", "http://{proxy.host}"]\n')
        daemon = containerds()
        daemon.write_config(daemon.base_config())
        certs = os.path.join(daemon.dir, "certs.d")
        run_cli("convert", str(source), "--to", "certs-d", "-o", certs, "--cri-config", daemon.config_file)
        daemon.start()
        with pytest.raises(harness.PullFailed):
            daemon.pull("docker.io/library/hello:1", timeout=6)
        assert proxy.take() == []
        result = run_cli("resolve", "hello:1", "--config", daemon.config_file, "--probe", "--json",
                         "--timeout", "1", check=False)
    doc = json.loads(result.stdout)
    assert result.returncode == 1 and doc["used"] is None
    assert doc["hosts"][1]["probe"]["tried"] is False and proxy.take() == []
