"""What two models mean for pulls, and how they differ.

`meaning` is the comparable form of a model: registries and endpoints keyed by name and URL,
each registry's order kept as its own list, and the distinctions that send no different
request removed (the `push` capability, which CRI never uses; `skip_verify = false` on an
https endpoint; a registry entry that only repeats the default when no `*` exists).
`differences` compares two meanings: plain equality first, and deepdiff (imported only
then) to find where they differ, reported per field so that one inserted endpoint is one
addition and a swap is one change of order.
"""

from __future__ import annotations

from . import endpoints as ep_rules
from .model import (
    ALL_CAPABILITIES,
    DOCKER_HUB_ONLY,
    IMAGE_UPSTREAM,
    MIRROR_CAPABILITIES,
    WILDCARD,
    Config,
    Endpoint,
    Host,
    endpoint_keys,
    is_prefix_name,
)
from .record import record

#: what a CRI pull uses; `push` and `referrers` matter to the other clients of hosts.toml (ctr, nerdctl,
#: Docker's containerd image store) and are compared only where the configuration before has them
PULL_CAPABILITIES = ("pull", "resolve")
ALL_KNOWN_CAPABILITIES = ("pull", "resolve", "push", "referrers")
SECTIONS = ("hosts", "auth", "headers", "short_names", "insecure_ranges")


def _upstreams(name: str, config: Config) -> tuple[str, ...]:
    return (ep_rules.hosts_upstream(name, config.release), ep_rules.legacy_upstream(name, config.release))


def _plain_upstream(endpoint: Endpoint) -> bool:
    return (not endpoint.url and not endpoint.has_tls() and not endpoint.header and not endpoint.rewrite
            and not endpoint.dial_timeout and {"pull", "resolve"} <= set(endpoint.capabilities))


def _redundant(name: str, host: Host, wildcard: Host | None, config: Config, view: _View) -> bool:
    """True when the registry's entry sends exactly what it would without it: the default
    upstream alone when there is no `*`, or the `*` list itself when there is one."""
    if name == WILDCARD:  # a `*` entry that is only the image's own upstream changes nothing
        return len(host.endpoints) == 1 and _plain_upstream(host.endpoints[0])
    upstreams = _upstreams(name, config)
    if wildcard is None:
        if len(host.endpoints) != 1:
            return False
        only = host.endpoints[0]
        return (only.url in upstreams and not (only.has_tls() and view.tls) and not only.header
                and not only.rewrite and not only.dial_timeout and {"pull", "resolve"} <= set(only.capabilities))
    mine = [endpoint_meaning(e, view, e.url in upstreams) | {"url": e.url} for e in host.endpoints]
    for upstream in upstreams:
        derived = [endpoint_meaning(e, view, not e.url) | {"url": e.url or upstream} for e in wildcard.endpoints]
        if mine == derived:
            return True
    return False


@record
class _View:
    """What of a model is compared: which capabilities, and whether its TLS settings apply."""

    capabilities: tuple[str, ...] = PULL_CAPABILITIES
    tls: bool = True


def endpoint_meaning(endpoint: Endpoint, view: _View = _View(), upstream: bool = False) -> dict[str, object]:
    """The comparable form of one endpoint. On the registry's own upstream, `push` and `referrers`
    are what containerd does without any configuration, so only pull and resolve count there."""
    skip = endpoint.skip_verify
    if skip is False and endpoint.scheme == "https":
        skip = None
    wanted = PULL_CAPABILITIES if upstream else view.capabilities
    return {
        "capabilities": [c for c in endpoint.capabilities if c in wanted],
        "ca": list(endpoint.ca) if view.tls else [],
        "client": [list(pair) for pair in endpoint.client] if view.tls else [],
        "skip_verify": skip if view.tls else None,
        "header": endpoint.header_dict(),
        "rewrite": dict(endpoint.rewrite),
        "dial_timeout": endpoint.dial_timeout,
    }


def _view(config: Config, capabilities: tuple[str, ...]) -> _View:
    return _View(capabilities, tls=not config.tls_inert)


def has_hosts_meaning(config: Config) -> bool:
    """True when CONFIG is a hosts.toml tree (or what k3s renders into one): there, `push` and
    `referrers` mean something to the clients that read certs.d."""
    from .model import semantics_of

    return semantics_of(config) in ("hosts", "k3s")


def meaning(config: Config, keep_redundant: bool = False, only: set[str] | None = None,
            capabilities: tuple[str, ...] = PULL_CAPABILITIES) -> dict[str, dict]:
    """The comparable form of CONFIG (of the registries in ONLY, when given)."""
    view = _view(config, capabilities)
    hosts: dict[str, dict] = {}
    wildcard = config.hosts.get(WILDCARD)
    for name, host in config.hosts.items():
        if only is not None and name not in only:
            continue
        if not keep_redundant and _redundant(name, host, wildcard, config, view):
            continue
        keys = endpoint_keys(host.endpoints)
        upstreams = ("", *_upstreams(name, config)) if name != WILDCARD else ("",)
        hosts[name] = {
            "endpoints": {k: endpoint_meaning(e, view, e.url in upstreams) for k, e in zip(keys, host.endpoints)},
            "order": keys,
        }
    return {
        "hosts": hosts,
        # all-empty credentials are no credentials: containerd sends nothing for them
        "auth": {k: a.as_dict() for k, a in config.auth.items() if any(a.as_dict().values())},
        "headers": {k: list(v) for k, v in config.headers.items()},
        "short_names": _short_names(config),
        "insecure_ranges": {r: True for r in config.insecure_ranges},
    }


def _short_names(config: Config) -> dict[str, object]:
    """How short names are qualified, {} for containerd's docker.io-only rule (which a single
    search registry docker.io without aliases also is, in every mode)."""
    found = config.short_names
    if found is None or (found.search == DOCKER_HUB_ONLY.search and not found.aliases):
        return {}
    return {"rule": found.as_dict()}


@record
class Difference:
    """One difference, at the level a reader thinks in: a registry, an endpoint, or one field."""

    parts: tuple[str, ...]
    kind: str
    before: object
    after: object
    #: "appeared" or "disappeared" when the registry has its own entry on one side only, and the
    #: other side's list is the one containerd takes for it from `*` or the default
    entry: str = ""

    @property
    def path(self) -> str:
        return render_path(self.parts)

    @property
    def section(self) -> str:
        return self.parts[0]

    @property
    def host(self) -> str | None:
        return self.parts[1] if self.section == "hosts" and len(self.parts) > 1 else None

    @property
    def endpoint(self) -> str | None:
        return self.parts[3] if self.section == "hosts" and len(self.parts) > 3 else None

    @property
    def field(self) -> str | None:
        if self.section == "hosts":
            if len(self.parts) > 4:
                return self.parts[4]
            if len(self.parts) == 3:
                return self.parts[2]
            return None
        return self.parts[2] if len(self.parts) > 2 else None


def render_path(parts: tuple[str, ...]) -> str:
    """`hosts['docker.io'].endpoints['https://m/v2'].ca` from its parts."""
    out = parts[0]
    i = 1
    while i < len(parts):
        if (parts[0] == "hosts" and i in (2, 4)) or (parts[0] == "auth" and i == 2):
            out += f".{parts[i]}"
        else:
            out += f"[{parts[i]!r}]"
        i += 1
    return out


def _unequal_parts(before: dict, after: dict) -> list[tuple[tuple[str, ...], object, object]]:
    """The (path, before, after) of each registry, credential table or header set that differs,
    so that deepdiff only walks what changed (a fleet differs in a few places, not everywhere)."""
    parts: list[tuple[tuple[str, ...], object, object]] = []
    for section in SECTIONS:
        old, new = before[section], after[section]
        if old == new:
            continue
        gone = {k: v for k, v in old.items() if k not in new}
        came = {k: v for k, v in new.items() if k not in old}
        if gone or came:
            parts.append(((section,), gone, came))
        for key in old:
            if key in new and old[key] != new[key]:
                parts.append(((section, key), old[key], new[key]))
    return parts


def _changed_paths(prefix: tuple[str, ...], old: object, new: object) -> list[list[object]]:
    """Where OLD and NEW (found at PREFIX) differ. Credentials and global headers are flat tables
    compared here directly; registries are nested, and deepdiff (imported only then) finds the
    fields that differ in them."""
    if prefix[0] != "hosts" and isinstance(old, dict) and isinstance(new, dict):
        keys = list(old) + [k for k in new if k not in old]
        return [[*prefix, k] for k in keys if old.get(k) != new.get(k)]
    paths: list[list[object]] = []
    _walk_registry([*prefix], old, new, paths)
    return paths


_MISSING = object()


def _same(a: object, b: object) -> bool:
    """Equal and of the same types all the way down, as deepdiff compares (`False == 0` in Python,
    but a bool that became a number is a change)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())  # type: ignore[union-attr]
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    return a == b


def _walk_registry(path: list[object], old: object, new: object, paths: list[list[object]]) -> None:
    """The paths where a registry's OLD and NEW meanings differ. Tables are walked here; a path as
    deep as the report's granularity is reported as it is (anything deeper would be cut back to it),
    and only a difference above that depth inside lists or values is left to deepdiff (imported only
    then), so a conversion that loses a field costs no deepdiff import."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            before, after = old.get(key, _MISSING), new.get(key, _MISSING)
            if before is _MISSING or after is _MISSING:
                paths.append([*path, key])
            elif not _same(before, after):
                _walk_registry([*path, key], before, after, paths)
        return
    deep_enough = len(_granularity([*path, ""])) <= len(path)  # deeper paths would be cut back to this one
    if deep_enough or not (isinstance(old, (list, tuple)) and isinstance(new, (list, tuple))):
        paths.append(path)  # a value or a type that changed is reported where it is, as deepdiff does
        return
    from deepdiff import DeepDiff

    diff = DeepDiff(old, new, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    paths.extend([*path, *level.path(output_format="list")] for levels in diff.values() for level in levels)


def _granularity(parts: list[object]) -> tuple[str, ...]:
    names = tuple(str(p) for p in parts)
    if names[0] == "hosts":
        if len(names) >= 3 and names[2] == "order":
            return names[:3]
        return names[:5]
    if names[0] == "headers":
        return names[:2]
    return names[:3]


def _lookup(tree: dict, parts: tuple[str, ...]) -> object:
    node: object = tree
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _empty(value: object) -> bool:
    return value is None or value == [] or value == {} or value == ""


def differences(a: Config, b: Config, keep_redundant: bool = False) -> list[Difference]:
    """How B differs from A, or [] when they mean the same.

    Registries whose entries are identical objects on both sides are skipped before anything
    is built (a fleet converts mostly unchanged); the rest are compared by meaning.
    """
    names = list(a.hosts) + [n for n in b.hosts if n not in a.hosts]
    changed = {n for n in names if a.hosts.get(n) != b.hosts.get(n)}
    if (not changed and a.auth == b.auth and a.headers == b.headers and a.short_names == b.short_names
            and a.insecure_ranges == b.insecure_ranges):
        return []
    only = None if WILDCARD in changed else changed
    # push and referrers matter where hosts.toml is read: compared when A is such a configuration; legacy
    # CRI mirrors never push and get referrers from containerd 2.2 by themselves, so against one only push counts
    if not has_hosts_meaning(a):
        capabilities = PULL_CAPABILITIES
    elif has_hosts_meaning(b):
        capabilities = ALL_KNOWN_CAPABILITIES
    else:
        capabilities = (*PULL_CAPABILITIES, "push")
    before, after = meaning(a, keep_redundant, only, capabilities), meaning(b, keep_redundant, only, capabilities)
    if before == after:
        return []
    groups: dict[tuple[str, ...], None] = {}
    for prefix, old, new in _unequal_parts(before, after):
        for path in _changed_paths(prefix, old, new):
            groups.setdefault(_granularity(path), None)
    found = []
    for parts in sorted(groups, key=lambda p: _sort_key(p, before, after)):
        old, new = _lookup(before, parts), _lookup(after, parts)
        if parts[-1] == "order" and _order_explained(old, new):
            continue
        if parts[0] == "hosts" and len(parts) == 2 and is_prefix_name(parts[1]):
            found.append(Difference(parts, "added" if _empty(old) else "removed", old, new))
            continue
        if parts[0] == "hosts" and len(parts) == 2:
            found.extend(_entry_differences(a, b, parts[1], "appeared" if _empty(old) else "disappeared"))
            continue
        kind = "added" if _empty(old) else "removed" if _empty(new) else "changed"
        found.append(Difference(parts, kind, old, new))
    return found


def _sort_key(parts: tuple[str, ...], before: dict, after: dict) -> tuple:
    section_rank = {name: rank for rank, name in enumerate(SECTIONS)}.get(parts[0], len(SECTIONS))
    if parts[0] != "hosts" or len(parts) < 2:
        return (section_rank, parts)
    host = parts[1]
    hosts_order = list(before["hosts"]) + [h for h in after["hosts"] if h not in before["hosts"]]
    rank = hosts_order.index(host) if host in hosts_order else 0
    if len(parts) >= 4:
        order = list(_lookup(before, ("hosts", host, "order")) or []) + \
            [k for k in (_lookup(after, ("hosts", host, "order")) or [])]
        return (section_rank, rank, 1, order.index(parts[3]) if parts[3] in order else 0, parts)
    return (section_rank, rank, 0 if len(parts) == 2 else 2, 0, parts)


def effective_list(config: Config, name: str) -> list[Endpoint]:
    """The endpoints containerd tries for registry NAME: its entry, else `*`, else the default
    (for `*` itself: its entry, else just the image's own upstream)."""
    from .resolve import host_list, semantics_of

    semantics = semantics_of(config)
    if name == WILDCARD:
        found = config.hosts.get(WILDCARD)
        caps = MIRROR_CAPABILITIES if semantics == "legacy" else ALL_CAPABILITIES
        return list(found.endpoints) if found else [Endpoint(IMAGE_UPSTREAM, caps)]
    return host_list(config, name, semantics)[0]


def _entry_differences(a: Config, b: Config, name: str, entry: str) -> list[Difference]:
    """A registry entry on one side only, as what changes in the list containerd uses for it."""
    from .model import semantics_of

    one_a = Config(hosts={name: Host(name, tuple(effective_list(a, name)))}, release=a.release,
                   semantics=semantics_of(a), tls_inert=a.tls_inert)
    one_b = Config(hosts={name: Host(name, tuple(effective_list(b, name)))}, release=b.release,
                   semantics=semantics_of(b), tls_inert=b.tls_inert)
    return [Difference(d.parts, d.kind, d.before, d.after, entry)
            for d in differences(one_a, one_b, keep_redundant=True)]


def _order_explained(old: object, new: object) -> bool:
    """True when the order changed only because endpoints were added or removed."""
    if not isinstance(old, list) or not isinstance(new, list):
        return True
    common = set(old) & set(new)
    return [k for k in old if k in common] == [k for k in new if k in common]
