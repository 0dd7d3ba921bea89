"""Every row of translator/releases.py that holds for containerd 1.6.20 (Debian's package), shown
on the running daemon: for each, the requests containerd makes are compared with what
`resolve --containerd 1.6.20` predicts, or containerd's refusal with the tool's. `make mutate`
breaks each row in turn and expects the test named for it to fail.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import pytest

from . import harness
from .conftest import run_cli
from .test_e2e import manifest_heads

RELEASE = "1.6.20"
V2 = 'plugins."io.containerd.grpc.v1.cri".registry'
IMAGE = "team/app:1"


@pytest.fixture
def upstream(registry):
    """The image's own registry on 127.0.0.1 (a logging proxy in front of the real registry)."""
    server = harness.LoggingProxy(routes={"/v2/": f"{registry.url}/v2/"}).start()
    try:
        yield server
    finally:
        server.stop()


def predicted(config: str, image: str) -> list[tuple[str, str]]:
    """(scheme://host, path?query) of each manifest request `resolve --containerd 1.6.20` predicts."""
    hosts = json.loads(run_cli("resolve", image, "--config", config, "--json", "--containerd", RELEASE).stdout)
    out = []
    for host in hosts["hosts"]:
        parts = urlsplit(host["manifest"])
        out.append((f"{parts.scheme}://{parts.netloc}", parts.path + (f"?{parts.query}" if parts.query else "")))
    return out


def observed(*servers: harness.LoggingProxy) -> list[tuple[str, str]]:
    """The HEAD requests each server saw, mirror first: every server here speaks plain http."""
    return [(f"http://{s.host}", path) for s in servers for path in manifest_heads(s.take())]


def pull_through_tree(containerds, tmp_path, tree: dict[str, str], image: str) -> harness.Containerd:
    certs = tmp_path / "certs.d"
    for rel, text in tree.items():
        (certs / rel).parent.mkdir(parents=True, exist_ok=True)
        (certs / rel).write_text(text)
    certs.mkdir(exist_ok=True)
    daemon = containerds()
    daemon.write_config(daemon.base_config() + f'[{V2}]\n  config_path = "{certs}"\n')
    daemon.start()
    daemon.pull(image)
    return daemon


def test_localhost_upstream_is_plain_http(tmp_path, upstream, containerds):
    """localhost_upstream 1.6.9-1.6.24: http (with skip_verify, which does not turn on HTTPS-first
    before 1.6.25): no directory for a loopback registry -> one plain http request."""
    image = f"{upstream.host}/{IMAGE}"
    daemon = pull_through_tree(containerds, tmp_path, {}, image)
    assert observed(upstream) == predicted(daemon.config_file, image) == [
        (f"http://{upstream.host}", "/v2/team/app/manifests/1")]


def test_http_host_with_ca_stays_plain_http(tmp_path, upstream, proxy, certificates, containerds):
    """https_first_ports 1.6.20: never: an http:// host with `ca` is asked over plain http only."""
    proxy.routes = {}
    image = f"{upstream.host}/{IMAGE}"
    tree = {f"{upstream.host}/hosts.toml": f'[host."http://{proxy.host}"]\n  ca = "{certificates.ca}"\n'}
    daemon = pull_through_tree(containerds, tmp_path, tree, image)
    ns = upstream.host.replace(":", "%3A")
    assert observed(proxy, upstream) == predicted(daemon.config_file, image) == [
        (f"http://{proxy.host}", f"/v2/team/app/manifests/1?ns={ns}"),
        (f"http://{upstream.host}", "/v2/team/app/manifests/1")]


def test_default_directory_is_read(tmp_path, upstream, proxy, containerds):
    """default_dir from 1.6.17: `_default` applies to a registry without a directory."""
    proxy.routes = {}
    image = f"{upstream.host}/{IMAGE}"
    daemon = pull_through_tree(containerds, tmp_path, {"_default/hosts.toml": f'[host."http://{proxy.host}"]\n'},
                               image)
    got = observed(proxy, upstream)
    assert got[0][0] == f"http://{proxy.host}"
    assert got == predicted(daemon.config_file, image)


@pytest.mark.parametrize("case,hosts_toml", [
    ("referrers", '[host."http://{mirror}"]\n  capabilities = ["pull", "resolve", "referrers"]\n'),
    ("no_host_table", 'server = "http://{mirror}"\n'),
])
def test_a_file_the_release_cannot_decode_is_ignored(case, hosts_toml, tmp_path, upstream, proxy, containerds):
    """referrers before 2.2, and requires_host_table 1.5-1.7.31: the whole hosts.toml is ignored,
    so the pull goes to the registry itself and never to the mirror."""
    proxy.routes = {}
    image = f"{upstream.host}/{IMAGE}"
    tree = {f"{upstream.host}/hosts.toml": hosts_toml.format(mirror=proxy.host)}
    daemon = pull_through_tree(containerds, tmp_path, tree, image)
    assert observed(proxy, upstream) == predicted(daemon.config_file, image) == [
        (f"http://{upstream.host}", "/v2/team/app/manifests/1")]


def test_dial_timeout_is_an_unknown_key(tmp_path, upstream, proxy, containerds):
    """dial_timeout before 2.0.7: not read, so a value that is no duration breaks nothing."""
    proxy.routes = {}
    image = f"{upstream.host}/{IMAGE}"
    tree = {f"{upstream.host}/hosts.toml": f'[host."http://{proxy.host}"]\n  dial_timeout = "soon"\n'}
    daemon = pull_through_tree(containerds, tmp_path, tree, image)
    got = observed(proxy, upstream)
    assert got[0][0] == f"http://{proxy.host}"
    assert got == predicted(daemon.config_file, image)


def legacy(containerds, text: str, version: int = 2) -> harness.Containerd:
    daemon = containerds()
    daemon.write_config(daemon.base_config(version) + text)
    return daemon


def test_version_3_registry_table_is_unused(upstream, proxy, containerds):
    """config_v3 1.6.0-1.6.31: `version = 3` starts, but the io.containerd.cri.v1.images registry
    table is never used: no mirror is asked."""
    proxy.routes = {}
    image = f"{upstream.host}/{IMAGE}"
    base = legacy(containerds, "").base_config().replace("version = 2", "version = 3", 1)
    daemon = containerds()
    daemon.write_config(base + f'[plugins."io.containerd.cri.v1.images".registry.mirrors."{upstream.host}"]\n'
                        f'  endpoint = ["http://{proxy.host}"]\n')
    daemon.start()
    daemon.pull(image)
    assert observed(proxy, upstream) == predicted(daemon.config_file, image) == [
        (f"http://{upstream.host}", "/v2/team/app/manifests/1")]


def test_version_less_file_ignores_full_plugin_keys(upstream, proxy, containerds):
    """versionless_v2_keys in 1.x: ignored; the short plugins.cri key is what a version 1 file uses."""
    proxy.routes = {}
    image = f"{upstream.host}/{IMAGE}"
    daemon = legacy(containerds, f'[{V2}.mirrors."{upstream.host}"]\n  endpoint = ["http://{proxy.host}"]\n',
                    version=1)
    daemon.start()
    daemon.pull(image)
    assert observed(proxy, upstream) == predicted(daemon.config_file, image) == [
        (f"http://{upstream.host}", "/v2/team/app/manifests/1")]


def test_short_plugin_key_in_version_2_refuses_to_start(tmp_path, containerds):
    """short_key_in_v2 in 1.x: refused. containerd does not start, and the tool refuses the file."""
    daemon = legacy(containerds, '[plugins.cri.registry.mirrors."docker.io"]\n  endpoint = ["https://m.example.com"]\n')
    with pytest.raises((harness.PullFailed, TimeoutError, RuntimeError)):
        daemon.start()
        daemon.pull("hello:1", timeout=10)
    result = run_cli("resolve", "hello:1", "--config", daemon.config_file, "--containerd", RELEASE, check=False)
    assert result.returncode == 2 and "refuses to start" in result.stderr, result.stderr


def test_legacy_tls_applies_and_conflicts_with_config_path(tmp_path, containerds):
    """legacy_tls and tls_config_path_conflict in 1.x: configs.*.tls beside config_path makes the CRI
    plugin fail to load; the tool says no pull is possible."""
    certs = tmp_path / "certs.d"
    certs.mkdir()
    daemon = legacy(containerds, f'[{V2}]\n  config_path = "{certs}"\n'
                                 f'[{V2}.configs."m.example.com".tls]\n  insecure_skip_verify = true\n')
    with pytest.raises((harness.PullFailed, TimeoutError, RuntimeError)):
        daemon.start()
        daemon.pull("hello:1", timeout=10)
    result = run_cli("resolve", "hello:1", "--config", daemon.config_file, "--containerd", RELEASE, "--json",
                     check=False)
    assert result.returncode == 1 and json.loads(result.stdout)["hosts"] == []
    assert os.path.isdir(certs)
