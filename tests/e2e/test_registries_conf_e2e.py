"""registries.conf proven by its own client: skopeo (containers/image) fetches through the
mirror a converted certs.d tree names, and containerd pulls through the mirror a converted
registries.conf names (see harness.py for the registry, the recording proxy and containerd)."""

from __future__ import annotations

import os
import subprocess

from .conftest import run_cli
from .test_e2e import start_with_tree, write


def skopeo(conf: str, home: str, *args: str) -> subprocess.CompletedProcess:
    """skopeo with only CONF (and a HOME of its own, so no user configuration joins in)."""
    env = dict(os.environ, HOME=home, CONTAINERS_REGISTRIES_CONF=conf)
    return subprocess.run(["skopeo", "--registries-conf", conf, *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_skopeo_fetches_through_the_mirror_of_a_converted_tree(tmp_path, registry, proxy):
    proxy.routes = {"/v2/hub/": f"{registry.url}/v2/", "/v2/": f"{registry.url}/v2/"}
    tree = os.path.join(str(tmp_path), "certs.d")
    os.makedirs(os.path.join(tree, "docker.io"))
    write(tmp_path, "certs.d/docker.io/hosts.toml",
          'server = "https://registry-1.docker.io"\n\n[host]\n\n'
          f'[host."http://{proxy.host}/v2/hub"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n')
    conf = os.path.join(str(tmp_path), "registries.conf")
    result = run_cli("convert", tree, "--to", "registries-conf", "-o", conf)
    with open(conf) as handle:
        text = handle.read()
    assert f'location = "{proxy.host}/hub"' in text and "insecure = true" in text
    assert "insecure = true" in result.stderr  # plain http becomes HTTPS-first: reported, not silent
    fetched = skopeo(conf, str(tmp_path), "inspect", "--raw", "docker://docker.io/library/hello:1")
    assert fetched.returncode == 0, fetched.stderr
    assert '"schemaVersion": 2' in fetched.stdout or '"schemaVersion":2' in fetched.stdout
    log = proxy.take()
    assert any(line.startswith("GET /v2/hub/library/hello/manifests/1") for line in log), log
    assert not any("?ns=" in line for line in log), log  # containers/image sends no ns marker


def test_containerd_pulls_through_the_mirror_of_a_converted_registries_conf(tmp_path, registry, proxy, containerds):
    proxy.routes = {"/v2/over/": f"{registry.url}/v2/"}
    source = write(tmp_path, "registries.conf",
                   '[[registry]]\nprefix = "registry.invalid"\nlocation = "registry.invalid"\n\n'
                   f'[[registry.mirror]]\nlocation = "{proxy.host}/over"\ninsecure = true\n')
    predicted = run_cli("resolve", "registry.invalid/team/app:1", "--config", source).stdout
    assert f"http://{proxy.host}/v2/over/team/app/manifests/1" in predicted
    daemon = start_with_tree(containerds, tmp_path, source)
    daemon.pull("registry.invalid/team/app:1")
    heads = [line for line in proxy.take() if line.startswith("HEAD ") and "/manifests/" in line]
    assert heads[0] == "HEAD /v2/over/team/app/manifests/1?ns=registry.invalid", heads


def test_skopeo_and_containerd_agree_on_a_blocked_registry(tmp_path, registry):
    source = write(tmp_path, "registries.conf", f'[[registry]]\nlocation = "{registry.host}"\nblocked = true\n')
    refused = skopeo(source, str(tmp_path), "inspect", "--raw", f"docker://{registry.host}/team/app:1")
    assert refused.returncode != 0 and "blocked" in refused.stderr
    converted = run_cli("convert", source, "--to", "certs-d", "--report", "json", check=False)
    assert converted.returncode == 0 and "cannot refuse a registry" in converted.stderr
