"""Writing registries-yaml: the `mirrors` and `configs` that make k3s build the model's lists.

Each endpoint is written as k3s will normalise it (an empty path as `/v2`, `docker.io` as
`registry-1.docker.io`), the default endpoint is left to k3s where it would add it anyway, and
TLS and credentials go under `configs` keyed by endpoint host, so that reading the output
gives the same model again.
"""

from __future__ import annotations

from .. import endpoints as ep_rules
from ..model import (
    WILDCARD,
    Config,
    Endpoint,
    sorted_hosts,
)
from . import yaml_out


def k3s_url(url: str) -> str:
    """What k3s makes of URL as an endpoint (docker.io becomes registry-1.docker.io, an empty
    path /v2); "" stays "" (the image's own upstream)."""
    if not url:
        return url
    return ep_rules.k3s_normalize_remembered(url).url  # the conversion reads it back: ask once


def endpoint_text(url: str) -> str:
    """An endpoint as registries.yaml can say it: written as k3s will read it, so that the
    file says what k3s does (an empty path reads as /v2, docker.io as registry-1.docker.io)."""
    return k3s_url(url)


def tls_fields(endpoint: Endpoint) -> dict[str, object]:
    tls: dict[str, object] = {}
    if endpoint.ca:
        tls["ca_file"] = endpoint.ca[0]
    if endpoint.client:
        cert, key = endpoint.client[0]
        if cert:
            tls["cert_file"] = cert
            tls["key_file"] = key or cert
    if endpoint.skip_verify:
        tls["insecure_skip_verify"] = True
    return tls


def build_document(config: Config, no_default_endpoint: bool = False) -> dict[str, dict]:
    """The registries.yaml document (plain data) that makes k3s build CONFIG's host lists
    (under --disable-default-registry-endpoint when NO_DEFAULT_ENDPOINT)."""
    mirrors: dict[str, dict] = {}
    configs: dict[str, dict] = {}

    def put_tls(key: str, endpoint: Endpoint) -> None:
        fields = tls_fields(endpoint)
        if fields and "tls" not in configs.get(key, {}):
            configs.setdefault(key, {})["tls"] = fields

    # a configs key makes k3s keep that registry's default even under no-default (a k3s quirk)
    defaults: set[str] = set()
    emitted: list[Endpoint] = []
    keyed = set(config.auth) | {e.hostport for h in config.hosts.values() for e in h.endpoints if tls_fields(e)}
    for name, host in sorted_hosts(config):
        endpoints = list(host.endpoints)
        target = ep_rules.k3s_default_url(name, remember=True)
        default = None
        keeps_default = not no_default_endpoint or name in keyed or (bool(endpoints) and bool(tls_fields(
            endpoints[-1])) and k3s_url(endpoints[-1].url) == target)
        if keeps_default and endpoints and k3s_url(endpoints[-1].url) == target:
            default = endpoints.pop()
            defaults.add(name)
            put_tls(name, default)  # configs[name] makes the entry, and its default keeps this config
        written: dict[str, Endpoint] = {}  # k3s skips duplicates: the first of each URL is written
        for endpoint in endpoints:
            if endpoint.url:
                written.setdefault(endpoint_text(endpoint.url), endpoint)
        texts = list(written)
        while default is not None and texts and texts[-1] == target:
            texts.pop()  # k3s would fold a last endpoint equal to the default into the server
        if default is not None and not texts and not tls_fields(default) and _fill_differs(name, config):
            # k3s writes no hosts.toml for a bare default, and containerd then fills a localhost upstream
            # with skip_verify (HTTPS-first); an explicit `insecure_skip_verify: false` makes k3s write it
            configs.setdefault(name, {})["tls"] = {"insecure_skip_verify": False}
        for text in texts:
            put_tls(written[text].hostport, written[text])
            emitted.append(written[text])
        if texts:
            entry: dict[str, object] = {"endpoint": texts}
            rewrite = next((e.rewrite for e in endpoints if e.rewrite), ())
            if rewrite:
                entry["rewrite"] = dict(rewrite)
            mirrors[name] = entry
    hub_default = configs.get(ep_rules.DOCKER_HUB, {}).get("tls")
    if hub_default and ep_rules.DOCKER_HUB_HOST not in configs and any(
            e.hostport == ep_rules.DOCKER_HUB_HOST and not tls_fields(e) for e in emitted):
        # k3s looks registry-1.docker.io endpoints up under that key first, then docker.io: an empty
        # entry keeps docker.io's TLS off the endpoints that have none
        configs[ep_rules.DOCKER_HUB_HOST] = {}
    # only when docker.io keeps an entry of its own (a mirrors key) and no credentials would recreate its configs
    same_as_host = (configs.get(ep_rules.DOCKER_HUB, {}).get("tls") is not None
                    and configs.get(ep_rules.DOCKER_HUB, {}) == configs.get(ep_rules.DOCKER_HUB_HOST)
                    and ep_rules.DOCKER_HUB in mirrors and ep_rules.DOCKER_HUB not in config.auth)
    if same_as_host:
        # docker.io's default takes registry-1.docker.io's settings anyway: one entry says it
        del configs[ep_rules.DOCKER_HUB]
    elif (ep_rules.DOCKER_HUB in defaults and ep_rules.DOCKER_HUB in mirrors and ep_rules.DOCKER_HUB not in configs
            and ep_rules.DOCKER_HUB_HOST in configs):
        # without its own entry, docker.io's default would take registry-1.docker.io's settings
        configs[ep_rules.DOCKER_HUB] = {}
    for key, auth in sorted(config.auth.items()):
        fields = {"username": auth.username, "password": auth.password, "auth": auth.auth,
                  "identity_token": auth.identitytoken}
        configs.setdefault(key, {})["auth"] = {k: v for k, v in fields.items() if v}
    document: dict[str, dict] = {}
    if mirrors:
        document["mirrors"] = mirrors
    if configs:
        document["configs"] = {k: (v or None) for k, v in sorted(configs.items(),
                                                                  key=lambda item: (item[0] == WILDCARD, item[0]))}
    return document


HEADER = "# Generated by registries-translator. Edit the source and convert again.\n"


def _fill_differs(name: str, config: Config) -> bool:
    """True when containerd fills REGISTRY's upstream differently from an explicit server: a localhost
    registry gets a forced skip_verify on the releases that do so."""
    if not ep_rules.is_localhost(name) or name == ep_rules.DOCKER_HUB:
        return False
    return config.release.localhost_upstream(ep_rules.split_host_port(name)[1])[1]


def write(config: Config, no_default_endpoint: bool = False) -> str:
    """The registries.yaml text for CONFIG (YAML produced by PyYAML, never by templates)."""
    document = build_document(config, no_default_endpoint)
    body = yaml_out.dump(document, width=1000) if document else "{}\n"
    return HEADER + body
