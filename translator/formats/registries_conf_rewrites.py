"""`--keep-rewrites` for registries-conf: a namespace prefix as a k3s `rewrite`, where that is exact.

containerd looks entries up by registry host, so `[[registry]] prefix = "docker.io/library"`
cannot be said in hosts.toml. k3s's containerd rewrites repository names per endpoint, which
says it exactly when the namespace's list lines up with its registry's list — the same hosts,
schemes and settings in the same order, each namespace location a path below the registry's
one — and its last entry (where k3s never rewrites) asks for the namespace unchanged. Then the
registry's endpoints get `^<ns>/(.*)` -> `<path>/$1` and the namespace entry goes; otherwise it
stays and the conversion reports it.
"""

from __future__ import annotations

import re

from .. import endpoints as ep_rules
from ..model import ALL_CAPABILITIES, Endpoint, Host


def _default(registry: str) -> tuple[Endpoint, ...]:
    return (Endpoint(f"https://{ep_rules.default_host(registry)}/v2", ALL_CAPABILITIES),)


def _same_host(a: Endpoint, b: Endpoint) -> bool:
    return (a.scheme, a.hostport, a.capabilities, a.ca, a.client, a.skip_verify) == \
        (b.scheme, b.hostport, b.capabilities, b.ca, b.client, b.skip_verify)


def _rewrites(namespace: str, base: tuple[Endpoint, ...], mine: tuple[Endpoint, ...]) -> list[tuple[str, str]] | None:
    """The replacement for each endpoint of BASE that sends what MINE sends, or None."""
    if not mine or len(mine) != len(base) or any(c in namespace for c in ":@"):
        return None
    out = []
    for index, (b, m) in enumerate(zip(base, mine)):
        if not _same_host(b, m) or not m.url:
            return None
        base_path, my_path = b.prefix, m.prefix
        if not my_path.startswith(base_path + "/"):
            return None
        below = my_path[len(base_path) + 1:]
        if index == len(base) - 1 and below != namespace:
            return None
        out.append((f"^{re.escape(namespace)}/(.*)", f"{below}/$1"))
    return out


def fold(hosts: dict[str, Host]) -> dict[str, Host]:
    """HOSTS with every namespace entry that a rewrite says exactly folded into its registry."""
    result = dict(hosts)
    namespaces = [n for n in hosts if "/" in n and not n.startswith("*.")]
    for name in namespaces:
        registry, namespace = name.split("/", 1)
        siblings = [n.split("/", 1)[1] for n in namespaces if n != name and n.startswith(registry + "/")]
        if any(s.startswith(namespace + "/") or namespace.startswith(s + "/") for s in siblings):
            continue
        base = result[registry].endpoints if registry in result else _default(registry)
        found = _rewrites(namespace, base, hosts[name].endpoints)
        if found is None:
            continue
        endpoints = tuple(Endpoint(e.url, e.capabilities, e.ca, e.client, e.skip_verify, e.header,
                                   tuple(sorted({*e.rewrite, rule})) if i < len(base) - 1 else e.rewrite,
                                   e.dial_timeout)
                          for i, (e, rule) in enumerate(zip(base, found)))
        result[registry] = Host(registry, endpoints)
        del result[name]
    return dict(sorted(result.items()))
