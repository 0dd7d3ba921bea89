"""Writing docker-daemon: `registry-mirrors` and `insecure-registries` for daemon.json, and the
certificate directory's `<host>/hosts.toml` files for hosts that need a CA or a client pair.

What daemon.json can say is small: mirrors for Docker Hub only (each `scheme://host[/path]`
requested under `/v2`), and hosts or address ranges that are insecure (HTTPS without
verification, then plain http). Certificates are per host in the certificate directory; this
tool has the certificates' paths, not their contents, so it writes them as a `hosts.toml`
(`server` plus `ca`/`client`), which Docker's containerd image store reads. Everything else a
model holds is left out and measured as lost. An existing daemon.json keeps its other keys.
"""

from __future__ import annotations

import json

from .. import endpoints as ep_rules
from ..model import ALL_CAPABILITIES, WILDCARD, Config, Endpoint, Host, is_prefix_name
from . import certs_d_writer
from .docker_daemon import DEFAULT_RANGES, HUB_UPSTREAM, KEYS, in_ranges

TLS = tuple[tuple[str, ...], tuple[tuple[str, str], ...]]


def mirror_text(url: str) -> str | None:
    """A model URL as a `registry-mirrors` entry (Docker appends /v2), or None when Docker
    cannot request under it (a prefix that does not end in /v2)."""
    if not url.endswith("/v2"):
        return None
    return url[:-3]


def _insecure_pattern(name: str, endpoints: tuple[Endpoint, ...]) -> bool:
    """HTTPS without verification and/or plain http on the registry's own host: what an
    `insecure-registries` entry makes Docker try."""
    urls = [e.url for e in endpoints]
    https, http = f"https://{name}/v2", f"http://{name}/v2"
    if urls == [https, http]:
        return bool(endpoints[0].skip_verify)
    if urls == [https]:
        return bool(endpoints[0].skip_verify)
    return urls == [http]


def document(config: Config) -> tuple[dict[str, list[str]], dict[str, TLS]]:
    """(the daemon.json registry keys, {host: TLS for its certificate directory})."""
    mirrors: list[str] = []
    insecure: list[str] = []
    tls: dict[str, TLS] = {}

    def keep_tls(endpoint: Endpoint) -> None:
        if endpoint.scheme == "https" and (endpoint.ca or endpoint.client):
            tls.setdefault(endpoint.hostport, (endpoint.ca, endpoint.client))

    hub = config.hosts.get(ep_rules.DOCKER_HUB)
    if hub is not None:
        body = hub.endpoints[:-1] if hub.endpoints and hub.endpoints[-1].url == HUB_UPSTREAM else hub.endpoints
        for endpoint in body:
            text = mirror_text(endpoint.url) if {"pull", "resolve"} <= set(endpoint.capabilities) else None
            if text is None or text in mirrors:
                continue
            mirrors.append(text)
            keep_tls(endpoint)
            already = in_ranges(endpoint.hostport, (*config.insecure_ranges, *DEFAULT_RANGES))
            secure = endpoint.scheme != "https" or not endpoint.skip_verify
            if not secure and endpoint.hostport not in insecure and not already:
                insecure.append(endpoint.hostport)
    for name, host in sorted(config.hosts.items()):
        if name in (ep_rules.DOCKER_HUB, WILDCARD) or is_prefix_name(name) or not ep_rules.valid_hostport(name):
            continue
        if _insecure_pattern(name, host.endpoints):
            if name not in insecure:
                insecure.append(name)
            keep_tls(host.endpoints[0])
        elif len(host.endpoints) == 1 and host.endpoints[0].url == f"https://{name}/v2":
            keep_tls(host.endpoints[0])
    insecure.extend(r for r in config.insecure_ranges if r not in insecure)
    keys: dict[str, list[str]] = {}
    if mirrors:
        keys["registry-mirrors"] = mirrors
    if insecure:
        keys["insecure-registries"] = insecure
    return keys, tls


def write(config: Config, existing: str | None = None) -> str:
    """daemon.json text: EXISTING's other keys kept, the registry keys replaced."""
    keys, _tls = document(config)
    base: dict[str, object] = {}
    if existing and existing.strip():
        loaded = json.loads(existing)
        if isinstance(loaded, dict):
            base = {k: v for k, v in loaded.items() if k not in KEYS}
    base.update(keys)
    return json.dumps(base, indent=2, ensure_ascii=False) + "\n"


def certificate_files(config: Config) -> dict[str, tuple[str, int]]:
    """{"<host>/hosts.toml": (text, mode)} for every host whose CA or client pair Docker needs."""
    _keys, tls = document(config)
    files: dict[str, tuple[str, int]] = {}
    for hostport, (ca, client) in sorted(tls.items()):
        rendered = certs_d_writer.render_host(Host(hostport, (Endpoint(f"https://{hostport}/v2", ALL_CAPABILITIES,
                                                                       ca, client),)))
        if rendered is not None:
            files[f"{hostport}/hosts.toml"] = rendered
    return files
