"""Behaviours of containerd 1.6.20 that the translator relies on and SEMANTICS.md states only as
rules from the source code; each test shows one on the real runtime (docs/runtime-notes.md)."""

from __future__ import annotations

import pytest

from . import harness
from .conftest import run_cli
from .test_e2e import manifest_heads, predicted_paths

V2 = 'plugins."io.containerd.grpc.v1.cri".registry'


def test_legacy_own_host_suppresses_the_upstream_and_paths_are_verbatim(tmp_path, registry, proxy, containerds):
    """A legacy list that names the registry's own host:port gets no appended upstream, even when
    every entry has a path; each path is used as written (only an empty one becomes /v2); an
    endpoint without a scheme on loopback is plain http; requests to the own host carry no ?ns."""
    proxy.routes = {}  # every request gets 404, so containerd walks the whole list and stops
    daemon = containerds()
    daemon.write_config(daemon.base_config()
                        + f'[{V2}.mirrors."{proxy.host}"]\n'
                        f'  endpoint = ["http://{proxy.host}/a/v2", "{proxy.host}/b", "http://{proxy.host}/"]\n')
    daemon.start()
    with pytest.raises(harness.PullFailed):
        daemon.pull(f"{proxy.host}/team/app:1", timeout=30)
    heads = manifest_heads(proxy.take())
    assert heads == ["/a/v2/team/app/manifests/1", "/b/team/app/manifests/1", "/team/app/manifests/1"]
    assert predicted_paths(daemon.config_file, f"{proxy.host}/team/app:1") == heads


def test_legacy_upstream_is_appended_for_another_host_with_the_loopback_scheme(tmp_path, registry, proxy,
                                                                                containerds):
    """A mirror on another host:port: after it fails, containerd appends the registry itself, with
    http for a loopback registry (the scheme rule of the endpoints applies to the upstream too)."""
    proxy.routes = {}
    upstream = harness.LoggingProxy(routes={"/v2/": f"{registry.url}/v2/"}).start()
    try:
        daemon = containerds()
        daemon.write_config(daemon.base_config()
                            + f'[{V2}.mirrors."{upstream.host}"]\n  endpoint = ["http://{proxy.host}/m"]\n')
        daemon.start()
        daemon.pull(f"{upstream.host}/team/app:1")
        assert manifest_heads(proxy.take())[0] == f"/m/team/app/manifests/1?ns={upstream.host.replace(':', '%3A')}"
        assert manifest_heads(upstream.take())[0] == "/v2/team/app/manifests/1"
        predicted = predicted_paths(daemon.config_file, f"{upstream.host}/team/app:1")
        assert predicted == [f"/m/team/app/manifests/1?ns={upstream.host.replace(':', '%3A')}",
                             "/v2/team/app/manifests/1"]
    finally:
        upstream.stop()


@pytest.mark.parametrize("version", [1, 2])
def test_global_registry_headers_survive_migration(version, tmp_path, registry, proxy, containerds):
    """`registry.headers` is sent on every registry request in legacy mode and, kept beside
    `config_path` by migrate, still is afterwards (the CRI resolver applies it in both modes)."""
    proxy.routes = {"/v2/": f"{registry.url}/v2/"}
    table = V2 if version == 2 else "plugins.cri.registry"
    sent = {}
    for stage in ("legacy", "migrated"):
        daemon = containerds(f"{stage}-v{version}")
        daemon.write_config(daemon.base_config(version)
                            + f'[{table}.headers]\n  X-Fleet = ["edge-7"]\n'
                            f'[{table}.mirrors."docker.io"]\n  endpoint = ["http://{proxy.host}"]\n')
        if stage == "migrated":
            run_cli("migrate", daemon.config_file, "--certs-dir", str(tmp_path / f"certs-{version}"), "--write")
        daemon.start()
        daemon.pull("hello:1")
        sent[stage] = [h.get("X-Fleet") for h in proxy.custom_headers]
        proxy.take()
        daemon.stop()
    assert sent["legacy"] and set(sent["legacy"]) == {"edge-7"}
    assert sent["migrated"] == sent["legacy"]
