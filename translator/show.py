"""`show`: the model as YAML, the way the reader understood the input (secrets masked)."""

from __future__ import annotations

from . import secrets
from .model import Config, Endpoint


def endpoint_dict(endpoint: Endpoint) -> dict[str, object]:
    data: dict[str, object] = {"url": endpoint.url or "(upstream of the image's registry)",
                               "capabilities": list(endpoint.capabilities)}
    if endpoint.ca:
        data["ca"] = list(endpoint.ca)
    if endpoint.client:
        data["client"] = [list(pair) for pair in endpoint.client]
    if endpoint.skip_verify is not None:
        data["skip_verify"] = endpoint.skip_verify
    if endpoint.header:
        data["header"] = secrets.mask_headers(endpoint.header_dict())
    if endpoint.rewrite:
        data["rewrite"] = dict(endpoint.rewrite)
    if endpoint.dial_timeout:
        data["dial_timeout"] = endpoint.dial_timeout
    return data


def model_dict(config: Config) -> dict[str, object]:
    data: dict[str, object] = {"format": config.source_format, "containerd": str(config.release)}
    if config.unusable:
        data["unusable"] = config.unusable
    if config.tls_inert:
        data["tls"] = f"registry.configs.*.tls is ignored by containerd {config.release}: the TLS below does nothing"
    data["hosts"] = {name: [endpoint_dict(e) for e in host.endpoints] for name, host in config.hosts.items()}
    if config.auth:
        data["auth"] = {k: secrets.mask_auth({f: v for f, v in a.as_dict().items() if v})
                        for k, a in config.auth.items()}
    if config.headers:
        data["headers"] = secrets.mask_headers({k: list(v) for k, v in config.headers.items()})
    if config.config_path:
        data["config_path"] = config.config_path
    if config.short_names is not None:
        data["short_names"] = config.short_names.as_dict()
    if config.insecure_ranges:
        data["insecure_ranges"] = list(config.insecure_ranges)
    if config.notes:
        data["dropped_or_changed"] = [f"{n.path}: {n.reason}" for n in config.notes]
    return data


def render(config: Config) -> str:
    from .formats import yaml_out

    data = model_dict(config)
    text = yaml_out.dump(data, width=120) if data else "{}\n"
    return secrets.redact(text)


def render_json(config: Config) -> str:
    import json

    return secrets.redact(json.dumps(model_dict(config), indent=2, ensure_ascii=False)) + "\n"
