"""Writing cri-v1, cri-v2, cri-v3: the legacy registry section as a config fragment.

Endpoints are written so that containerd's legacy rules give the model's list back: paths
verbatim (only an empty path means `/v2`), the upstream left for containerd to append, or
suppressed by listing the registry's own host where the model has no fallback; TLS and
credentials under `configs` by endpoint host (no TLS in version 3, which ignores it).
"""

from __future__ import annotations

from .. import endpoints as ep_rules
from ..model import (
    IMAGE_UPSTREAM,
    WILDCARD,
    Config,
    Endpoint,
    sorted_hosts,
)
from . import toml_out
from .cri_toml import PLUGIN


def _legacy_result(name: str, written: list[str] | None) -> list[str]:
    """What legacy CRI tries for NAME given the endpoint URLs written for it (None: no key, so
    the default): the list, then the upstream unless an endpoint is on the registry's own host."""
    urls = list(written or [])
    if any(ep_rules.url_hostport(u) == name for u in urls):
        return urls
    return [*urls, ep_rules.legacy_upstream(name)]


def _wildcard_body(config: Config) -> list[str] | None:
    star = config.hosts.get(WILDCARD)
    if star is None:
        return None
    return [e.url for e in star.endpoints if e.url != IMAGE_UPSTREAM]


def mirror_endpoints(name: str, endpoints: tuple[Endpoint, ...], config: Config) -> list[str] | None:
    """The legacy endpoint list that makes containerd try ENDPOINTS for NAME, or None when the
    registry needs no mirrors key (legacy would try the same without one)."""
    urls = [e.url for e in endpoints]
    if name == WILDCARD:
        body = urls[:-1] if urls and urls[-1] == IMAGE_UPSTREAM else urls
        return [ep_rules.legacy_endpoint_text(u) for u in body]
    upstream = ep_rules.legacy_upstream(name)
    if urls and urls[-1] == upstream and not any(ep_rules.url_hostport(u) == name for u in urls[:-1]):
        urls = urls[:-1]
    if _legacy_result(name, urls) == _legacy_result(name, _wildcard_body(config)):
        return None
    return [ep_rules.legacy_endpoint_text(u) for u in urls]


def _keep_wildcard_fallback(config: Config, mirrors: dict[str, dict]) -> None:
    """Legacy CRI appends no upstream for a registry whose own host is in the `*` list, where
    hosts.toml and k3s still fall back: give such registries their own list, upstream included."""
    star = config.hosts.get(WILDCARD)
    if star is None or not star.endpoints or star.endpoints[-1].url != IMAGE_UPSTREAM:
        return
    body = [e.url for e in star.endpoints[:-1]]
    for url in body:
        name = ep_rules.url_hostport(url)
        if name in config.hosts or name in mirrors or not ep_rules.valid_hostport(name):
            continue
        mirrors[name] = {"endpoint": [ep_rules.legacy_endpoint_text(u)
                                      for u in [*body, ep_rules.hosts_upstream(name)]]}


def build_section(config: Config, fmt: str, keep_rewrites: bool = False) -> dict:
    """The registry table (plain data) that makes legacy CRI of FMT try CONFIG's host lists."""
    mirrors: dict[str, dict] = {}
    configs: dict[str, dict] = {}
    for name, host in sorted_hosts(config):
        endpoints = mirror_endpoints(name, host.endpoints, config)
        if endpoints is not None:
            mirrors[name] = {"endpoint": endpoints}
            rewrite = next((e.rewrite for e in host.endpoints if e.rewrite), ())
            if keep_rewrites and rewrite:
                mirrors[name]["rewrite"] = dict(rewrite)
        if fmt == "cri-v3":
            continue
        for endpoint in host.endpoints:
            if endpoint.scheme != "https" or not endpoint.has_tls():
                continue
            entry = configs.setdefault(endpoint.hostport, {})
            if "tls" in entry:
                continue
            tls: dict[str, object] = {}
            if endpoint.ca:
                tls["ca_file"] = endpoint.ca[0]
            if endpoint.client and endpoint.client[0][0]:
                cert, key = endpoint.client[0]
                tls["cert_file"] = cert
                tls["key_file"] = key or cert
            if endpoint.skip_verify:
                tls["insecure_skip_verify"] = True
            if tls:
                entry["tls"] = tls
    _keep_wildcard_fallback(config, mirrors)
    configs = {k: v for k, v in sorted(configs.items()) if v}
    for key, auth in sorted(config.auth.items()):
        fields = {k: v for k, v in auth.as_dict().items() if v}
        configs.setdefault(key, {})["auth"] = fields
    section: dict[str, object] = {}
    if mirrors:
        section["mirrors"] = dict(sorted(mirrors.items(), key=lambda item: (item[0] == WILDCARD, item[0])))
    if configs:
        section["configs"] = configs
    if config.headers:
        section["headers"] = {k: list(v) for k, v in config.headers.items()}
    return section


def nest(fmt: str, section: dict) -> dict:
    """SECTION placed at FMT's registry table path, with the version key it needs."""
    document: dict[str, object] = {}
    if fmt == "cri-v2":
        document["version"] = 2
    elif fmt == "cri-v3":
        document["version"] = 3
    document["plugins"] = {PLUGIN[fmt]: {"registry": section}}
    return document


def write(config: Config, fmt: str, *, keep_rewrites: bool = False) -> str:
    """A config.toml fragment holding CONFIG as FMT's legacy registry section."""
    document = nest(fmt, build_section(config, fmt, keep_rewrites))
    comment = ["# Generated by registries-translator: the CRI registry section of a containerd config.toml.",
               f"# containerd config version {fmt[-1]}; merge it into the full config (or import it)."]
    return toml_out.verified(toml_out.document(document, comment), document)
