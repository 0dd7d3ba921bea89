"""What each target format cannot hold, as data: a table of (matcher, reason) per format.

`convert` measures loss (write, read back, compare); every difference it finds is explained
by the first matching row of the target format's table (SEMANTICS.md §6). A difference no
row explains is reported with `UNEXPLAINED`, and the test suite fails on it: it means a
writer lost something nobody knew it could lose.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from . import endpoints as ep_rules
from .compare import Difference, effective_list
from .model import WILDCARD, Change, Config, endpoint_keys, is_prefix_name
from .record import record

UNEXPLAINED = "unexplained change (a bug in registries-translator: please report it)"

TLS_FIELDS = ("ca", "client", "skip_verify")


@record
class Context:
    source: str
    target: str
    before: Config
    after: Config
    differences: tuple[Difference, ...] = ()


Matcher = Callable[[Difference, Context], bool]


def _endpoint_url(diff: Difference) -> str:
    key = diff.endpoint or ""
    return key.split(" (", 1)[0]


def _order(config: Config, host: str | None) -> list[str]:
    """The names of the endpoints containerd tries for HOST, in order (its entry, `*` or default)."""
    if not host:
        return []
    return endpoint_keys(effective_list(config, host))


def _is_upstream_key(host: str, key: str) -> bool:
    if key == "<upstream>":
        return True
    if host == WILDCARD:
        return False
    try:
        k3s_default = ep_rules.k3s_default_url(host)
    except Exception:
        k3s_default = None
    return key in (ep_rules.hosts_upstream(host), ep_rules.legacy_upstream(host), k3s_default)


# --- matchers --------------------------------------------------------------------------------

def rewrite(diff: Difference, ctx: Context) -> bool:
    return diff.field == "rewrite"


def rewrite_on_default(diff: Difference, ctx: Context) -> bool:
    order = _order(ctx.before, diff.host)
    return diff.field == "rewrite" and bool(order) and diff.endpoint == order[-1]


def credentials(diff: Difference, ctx: Context) -> bool:
    return diff.section == "auth"


def global_headers(diff: Difference, ctx: Context) -> bool:
    return diff.section == "headers"


def key_without_cert(diff: Difference, ctx: Context) -> bool:
    return (diff.field == "client" and isinstance(diff.before, list)
            and any(pair and pair[0] == "" for pair in diff.before))


def fallback(diff: Difference, ctx: Context) -> bool:
    """The upstream at the end of a registry's list appeared or disappeared."""
    if diff.endpoint is None or diff.field is not None or diff.host is None:
        return False
    if diff.kind == "added":
        order = _order(ctx.after, diff.host)
    elif diff.kind == "removed":
        order = _order(ctx.before, diff.host)
    else:
        return False
    return bool(order) and order[-1] == diff.endpoint and _is_upstream_key(diff.host, _endpoint_url(diff))


def last_entry_lost(diff: Difference, ctx: Context) -> bool:
    """An endpoint of the registry's own host, last in the list, that legacy never falls back from."""
    return diff.kind == "removed" and diff.field is None and diff.endpoint is not None


def wildcard_tls(diff: Difference, ctx: Context) -> bool:
    return diff.host == WILDCARD and diff.endpoint == "<upstream>" and diff.field in TLS_FIELDS


def tls(diff: Difference, ctx: Context) -> bool:
    return diff.field in TLS_FIELDS


def tls_on_http(diff: Difference, ctx: Context) -> bool:
    return diff.field in TLS_FIELDS and _endpoint_url(diff).startswith("http://")


def _tls_by_host(config: Config) -> dict[str, set]:
    found: dict[str, set] = {}
    for host in config.hosts.values():
        for endpoint in host.endpoints:
            if endpoint.url:
                found.setdefault(endpoint.hostport, set()).add(
                    (endpoint.ca[:1], endpoint.client[:1], bool(endpoint.skip_verify)))
    return found


def tls_disagrees(diff: Difference, ctx: Context) -> bool:
    if diff.field not in TLS_FIELDS:
        return False
    hostport = ep_rules.url_hostport(_endpoint_url(diff))
    return len(_tls_by_host(ctx.before).get(hostport, ())) > 1


def extra_tls(diff: Difference, ctx: Context) -> bool:
    return (diff.field in ("ca", "client") and isinstance(diff.before, list) and len(diff.before) > 1
            and diff.after == diff.before[:1])


def relative_paths(diff: Difference, ctx: Context) -> bool:
    if diff.field not in ("ca", "client") or not isinstance(diff.before, list):
        return False
    flat = [p for item in diff.before for p in (item if isinstance(item, list) else [item])]
    return any(p and not os.path.isabs(p) for p in flat)


def header(diff: Difference, ctx: Context) -> bool:
    return diff.field == "header"


def dial_timeout(diff: Difference, ctx: Context) -> bool:
    return diff.field == "dial_timeout"


def capabilities(diff: Difference, ctx: Context) -> bool:
    return diff.field == "capabilities"


def default_dir(diff: Difference, ctx: Context) -> bool:
    return diff.host == WILDCARD and not ctx.after.release.supports("default_dir")


def push_only(diff: Difference, ctx: Context) -> bool:
    """Only `push` (or `referrers`) is lost: pulls are the same."""
    if diff.field != "capabilities" or not isinstance(diff.before, list) or not isinstance(diff.after, list):
        return False
    pulls = ("pull", "resolve")
    return [c for c in diff.before if c in pulls] == [c for c in diff.after if c in pulls]


def referrers_dropped(diff: Difference, ctx: Context) -> bool:
    return (diff.field == "capabilities" and isinstance(diff.before, list) and "referrers" in diff.before
            and "referrers" not in (diff.after or []))


def skip_verify_false(diff: Difference, ctx: Context) -> bool:
    return diff.field == "skip_verify" and diff.before is False and diff.after is None


def root_path(diff: Difference, ctx: Context) -> bool:
    """`https://m` (requests at the root) became `https://m/v2`: one removal, one addition."""
    if diff.field is not None or diff.endpoint is None:
        return False
    url = _endpoint_url(diff)
    if diff.kind == "removed":
        return "://" in url and "/" not in url.split("://", 1)[1]
    if diff.kind == "added" and url.endswith("/v2"):
        return url[:-3] in _order(ctx.before, diff.host)
    return False


def order_follows(diff: Difference, ctx: Context) -> bool:
    """A new order that only follows from endpoints of the same registry being replaced."""
    return diff.field == "order" and any(
        d.host == diff.host and d.endpoint is not None and d.field is None for d in ctx.differences)


def default_folded(diff: Difference, ctx: Context) -> bool:
    """The default tried a second time at the end; k3s folds such a last endpoint into the server."""
    key = diff.endpoint or ""
    return (diff.kind == "removed" and diff.field is None and " (" in key
            and diff.host is not None and _is_upstream_key(diff.host, _endpoint_url(diff)))


def repeated_endpoint(diff: Difference, ctx: Context) -> bool:
    """The same URL tried a second time, which registries.yaml cannot say (k3s skips duplicates)."""
    return diff.kind == "removed" and diff.field is None and " (" in (diff.endpoint or "")


def docker_io_host(diff: Difference, ctx: Context) -> bool:
    """An endpoint on the host docker.io, which k3s reads as registry-1.docker.io (both sides)."""
    if diff.endpoint is None:
        return False
    hostport = ep_rules.url_hostport(_endpoint_url(diff))
    if diff.field in TLS_FIELDS and hostport == ep_rules.DOCKER_HUB_HOST:
        return any(e.hostport == ep_rules.DOCKER_HUB for h in ctx.before.hosts.values() for e in h.endpoints)
    if diff.field is not None:
        return False
    if diff.kind == "removed":
        return hostport == ep_rules.DOCKER_HUB
    before = effective_list(ctx.before, diff.host or "")
    return (diff.kind == "added" and hostport == ep_rules.DOCKER_HUB_HOST
            and any(e.hostport == ep_rules.DOCKER_HUB for e in before))


def empty_directory(diff: Difference, ctx: Context) -> bool:
    """A registry entry that hid `*` is gone, because nothing left in it could be written (only
    its own upstream, settings registries.yaml cannot hold): `*` applies to that registry now."""
    return diff.entry == "disappeared" and WILDCARD in ctx.before.hosts


def implied_host(diff: Difference, ctx: Context) -> bool:
    """A registry got an entry of its own. Legacy CRI and registries.yaml only create entries from
    keys (legacy TLS keyed by endpoint host, every k3s configs key), so a setting keyed by this
    host now also applies to direct pulls from it."""
    return diff.entry == "appeared"


def inert_tls(diff: Difference, ctx: Context) -> bool:
    """TLS the source's containerd ignored (registry.configs.*.tls on 2.x), which the target applies."""
    return diff.field in TLS_FIELDS and ctx.before.tls_inert


def tls_dropped(diff: Difference, ctx: Context) -> bool:
    """TLS written into registry.configs.<host>.tls, which containerd 2.x drops (and a v3 file cannot hold)."""
    return diff.field in TLS_FIELDS and (ctx.target == "cri-v3" or not ctx.after.release.legacy_tls())


# --- what only registries-conf and docker-daemon say ----------------------------------------------

def namespace_entry(diff: Difference, ctx: Context) -> bool:
    return diff.host is not None and is_prefix_name(diff.host) and not diff.host.startswith("*.")


def domain_wildcard(diff: Difference, ctx: Context) -> bool:
    return diff.host is not None and diff.host.startswith("*.")


def blocked(diff: Difference, ctx: Context) -> bool:
    host = ctx.before.hosts.get(diff.host or "")
    return host is not None and not host.endpoints


def short_names(diff: Difference, ctx: Context) -> bool:
    return diff.section == "short_names"


def insecure_ranges(diff: Difference, ctx: Context) -> bool:
    return diff.section == "insecure_ranges"


def ranges_reason(diff: Difference, ctx: Context) -> str:
    from .formats.docker_daemon import in_ranges

    network = diff.parts[1] if len(diff.parts) > 1 else ""
    named = sorted({h for h in [*ctx.before.hosts, *(e.hostport for x in ctx.before.hosts.values()
                                                      for e in x.endpoints if e.url)]
                    if h and not is_prefix_name(h) and in_ranges(h, (network,))})
    listed = ", ".join(named) if named else "none is named in this configuration"
    return (f"{ctx.target} has no address ranges: Docker treats every registry whose address is in {network} as "
            f"insecure; list each such registry host on its own ({listed})")


def wildcard_entry(diff: Difference, ctx: Context) -> bool:
    return diff.host == WILDCARD


def insecure_counterpart(diff: Difference, ctx: Context) -> bool:
    """An https (without verification) or plain http entry added or removed beside the same
    location in the other scheme: what `insecure` / insecure-registries make the runtime try."""
    if diff.field is not None or diff.endpoint is None or diff.host is None:
        return False
    url = _endpoint_url(diff)
    scheme, _, rest = url.partition("://")
    other = ("http" if scheme == "https" else "https") + "://" + rest
    side = ctx.before if diff.kind == "added" else ctx.after
    return scheme in ("http", "https") and other in _order(side, diff.host)


def docker_insecure(diff: Difference, ctx: Context) -> bool:
    """A registry that is now an insecure-registries entry: HTTPS without verification, then http."""
    if diff.host is None or diff.host not in ctx.after.hosts:
        return False
    return any(e.skip_verify or e.scheme == "http" for e in ctx.after.hosts[diff.host].endpoints)


def docker_path(diff: Difference, ctx: Context) -> bool:
    """A mirror whose path does not end in /v2: Docker appends /v2 after a mirror's path."""
    if diff.field is not None or diff.endpoint is None or diff.kind != "removed":
        return False
    return not _endpoint_url(diff).endswith("/v2")


def pulls_only_some(diff: Difference, ctx: Context) -> bool:
    """A mirror for digests only or tags only, which the target cannot say."""
    if diff.field is not None or diff.endpoint is None or diff.kind != "removed" or not isinstance(diff.before, dict):
        return False
    caps = set(diff.before.get("capabilities", ()))
    return not {"pull", "resolve"} <= caps


def hub_only(diff: Difference, ctx: Context) -> bool:
    return diff.host not in (None, ep_rules.DOCKER_HUB)


def not_under_v2(diff: Difference, ctx: Context) -> bool:
    if diff.field is not None or diff.endpoint is None or diff.kind != "removed":
        return False
    url = _endpoint_url(diff)
    path = url.split("://", 1)[-1].partition("/")[2]
    return not (path == "v2" or path.startswith("v2/") or (ctx.target == "docker-daemon" and path.endswith("v2")))


def implied_docker_host(diff: Difference, ctx: Context) -> bool:
    return diff.entry == "appeared"


# --- reasons ---------------------------------------------------------------------------------

R_REWRITE = "vanilla containerd has no rewrite; use --keep-rewrites for k3s's containerd"
R_CREDENTIALS = "hosts.toml cannot hold credentials; pass --cri-config"
R_KEY_ONLY = "a client key without a certificate cannot be loaded"
R_FALLBACK_CRI = "legacy CRI mirrors always fall back to the upstream registry"
R_FALLBACK_YAML = "registries.yaml disables fallback only globally (--no-default-endpoint)"
R_WILDCARD_TLS_CRI = "legacy CRI has no wildcard TLS"
R_WILDCARD_TLS_YAML = "k3s rebuilds _default from mirrors[\"*\"] and drops configs[\"*\"].tls"
R_V3_TLS = "containerd 2.x removed registry.configs.<host>.tls; TLS must live in hosts.toml"
R_INERT_TLS = "the source's registry.configs.<host>.tls was ignored by containerd 2.x; here it takes effect"
R_HEADER = "only global headers exist outside hosts.toml"
R_DIAL = "only hosts.toml has dial_timeout"
R_DIAL_RELEASE = "this containerd release does not know dial_timeout (2.0.7 / 2.1.0 and later do)"
R_DEFAULT_DIR = "this containerd release never reads _default (1.6.17 and 1.7.0 and later do); list each registry"
R_CAPS = "mirrors are always pull+resolve outside hosts.toml"
R_PUSH = ("CRI never pushes, and outside hosts.toml mirrors are pull+resolve: only ctr, nerdctl and Docker's "
          "containerd image store, which read hosts.toml, lose push (or referrers) through this host")
R_REFERRERS = ("hosts are written pull+resolve so containerd < 2.2 can parse them (pass --containerd 2.2 to keep "
               "referrers)")
R_EXTRA_TLS = "one CA and one client pair per host:port outside hosts.toml"
R_TLS_DISAGREE = "TLS is keyed by endpoint host:port; entries for this host disagree"
R_HTTP_TLS = "legacy CRI ignores TLS on http endpoints"
R_ROOT_PATH = "registries.yaml treats an empty or '/' path as /v2"
R_EMPTY_DIR = ("k3s writes no file for a registry without endpoints or settings it can express, so `*` applies "
               "to it instead")
R_GLOBAL_HEADERS_YAML = "registries.yaml has no headers"
R_GLOBAL_HEADERS_CERTS = "hosts.toml has only per-host headers; pass --cri-config to keep global headers"
R_RELATIVE = "relative paths were resolved against /; written as absolute"
R_IMPLIED_HOST = "legacy TLS is keyed by endpoint host and also applies to direct pulls from this host"
R_IMPLIED_HOST_YAML = ("k3s makes every configs key a registry too, so TLS for a mirror host also applies to direct "
                       "pulls from it")
R_SKIP_FALSE = "registries.yaml can only write insecure_skip_verify: true"
R_REWRITE_DEFAULT = "k3s never applies rewrites to the default endpoint"
R_REWRITE_SHARED = "k3s shares one rewrite map among all endpoints of a mirror"
R_ORDER_FOLLOWS = "the order changes only because endpoints of this registry were replaced (see above)"
R_DOCKER_IO_HOST = "k3s turns the host docker.io into registry-1.docker.io in every endpoint"
R_REPEATED = "k3s skips an endpoint that repeats another one, so a URL is tried once"
R_DEFAULT_FOLDED = "k3s folds a last endpoint equal to the default into the server, so it is tried once, not twice"

R_NAMESPACE = ("containerd looks entries up by registry host: a namespace prefix cannot be said (with --keep-rewrites "
               "an exact one becomes a k3s rewrite)")
R_DOMAIN_WILDCARD = "containerd has no *.domain entries: list each registry host (or use _default for all of them)"
R_BLOCKED = "containerd cannot refuse a registry: without an entry it pulls from the registry itself"
R_SHORT_NAMES = "containerd, Docker and k3s qualify short names with docker.io only (no search list, no aliases)"
R_TAG_ONLY_TARGET = "registries.conf mirrors are for tags and digests, digests only or tags only"
R_DOCKER_PREFIX = "Docker configures registries by host only: a namespace or *.domain prefix cannot be said"
R_DOCKER_BLOCKED = "Docker cannot refuse a registry"
R_DOCKER_HUB_ONLY = "daemon.json has mirrors for Docker Hub only (registry-mirrors); other registries cannot have any"
R_DOCKER_NO_WILDCARD = "Docker has no catch-all mirror (_default / \"*\")"
R_DOCKER_FALLBACK = "Docker always falls back to Docker Hub after its registry-mirrors"
R_DOCKER_PATH = "Docker requests a mirror under <its path>/v2: a path after /v2, or none at all, cannot be said"
R_DOCKER_INSECURE = ("insecure-registries is all Docker has: it tries HTTPS without verification, then plain http, "
                     "for every use of that host")
R_DOCKER_IMPLIED = ("Docker's certificate directory and insecure-registries are per host: they also apply to direct "
                    "pulls from this host")
R_DOCKER_TLS = "Docker reads certificates from its certificate directory: pass --docker-certs-dir to write it"
R_DOCKER_AUTH = "daemon.json holds no credentials (docker login keeps them in ~/.docker/config.json)"
R_DOCKER_HEADERS = "daemon.json has no registry headers"
R_DOCKER_REWRITE = "Docker has no rewrite"
R_DOCKER_CAPS = "Docker mirrors serve pulls of tags and digests alike (no digest-only or tag-only mirrors)"
R_DOCKER_DIAL = "daemon.json has no dial timeout"
R_RC_TLS = ("registries.conf holds no certificate paths: containers/image reads them from "
            "/etc/containers/certs.d/<host>/")
R_RC_INSECURE = ("registries.conf says only insecure = true: HTTPS without verification, then plain http, for that "
                 "location")
R_RC_NO_CATCHALL = "registries.conf has no catch-all entry: list each registry"
R_RC_PATH = "containers/image requests every location under /v2"
R_RC_AUTH = "registries.conf holds no credentials (containers-auth.json does)"
R_RC_HEADERS = "registries.conf has no headers"
R_RC_REWRITE = "registries.conf has no rewrite; a namespace prefix maps one namespace"
R_RC_DIAL = "registries.conf has no dial timeout"
R_RC_CAPS = "a registries.conf location serves tags and digests; mirrors tags and digests, digests only or tags only"
R_RC_HUB_HOST = "containers/image reaches the host docker.io at registry-1.docker.io"
R_RC_FALLBACK = ("containers/image always ends with the registry's location; where none could be written it pulls "
                 "from the registry itself")
R_RC_IMPLIED = "registries.conf lists registries by prefix; this entry is what containers/image does by default"

_COMMON_OUTSIDE_HOSTS: list[tuple[Matcher, str]] = [
    (header, R_HEADER),
    (dial_timeout, R_DIAL),
    (push_only, R_PUSH),
    (capabilities, R_CAPS),
    (extra_tls, R_EXTRA_TLS),
    (tls_disagrees, R_TLS_DISAGREE),
]

#: what only registries-conf and docker-daemon say, for every containerd format
_CONTAINERS_ONLY: list[tuple[Matcher, object]] = [
    (namespace_entry, R_NAMESPACE),
    (domain_wildcard, R_DOMAIN_WILDCARD),
    (blocked, R_BLOCKED),
    (short_names, R_SHORT_NAMES),
    (insecure_ranges, ranges_reason),
]

CANNOT_HOLD: dict[str, list[tuple[Matcher, object]]] = {
    "docker-daemon": [
        (order_follows, R_ORDER_FOLLOWS),
        (namespace_entry, R_DOCKER_PREFIX),
        (domain_wildcard, R_DOCKER_PREFIX),
        (blocked, R_DOCKER_BLOCKED),
        (short_names, R_SHORT_NAMES),
        (credentials, R_DOCKER_AUTH),
        (global_headers, R_DOCKER_HEADERS),
        (wildcard_entry, R_DOCKER_NO_WILDCARD),
        (rewrite, R_DOCKER_REWRITE),
        (header, R_DOCKER_HEADERS),
        (dial_timeout, R_DOCKER_DIAL),
        (capabilities, R_DOCKER_CAPS),
        (implied_docker_host, R_DOCKER_IMPLIED),
        (tls, R_DOCKER_TLS),
        (insecure_counterpart, R_DOCKER_INSECURE),
        (docker_insecure, R_DOCKER_INSECURE),
        (hub_only, R_DOCKER_HUB_ONLY),
        (pulls_only_some, R_DOCKER_CAPS),
        (docker_path, R_DOCKER_PATH),
        (fallback, R_DOCKER_FALLBACK),
        (last_entry_lost, R_DOCKER_FALLBACK),
    ],
    "registries-conf": [
        (order_follows, R_ORDER_FOLLOWS),
        (credentials, R_RC_AUTH),
        (global_headers, R_RC_HEADERS),
        (insecure_ranges, ranges_reason),
        (wildcard_entry, R_RC_NO_CATCHALL),
        (rewrite, R_RC_REWRITE),
        (header, R_RC_HEADERS),
        (dial_timeout, R_RC_DIAL),
        (capabilities, R_RC_CAPS),
        (skip_verify_false, R_RC_INSECURE),
        (tls_on_http, R_RC_INSECURE),
        (tls, R_RC_TLS),
        (insecure_counterpart, R_RC_INSECURE),
        (not_under_v2, R_RC_PATH),
        (pulls_only_some, R_RC_CAPS),
        (docker_io_host, R_RC_HUB_HOST),
        (fallback, R_RC_FALLBACK),
        (implied_host, R_RC_IMPLIED),
    ],
    "certs-d": [
        (inert_tls, R_INERT_TLS),
        (referrers_dropped, R_REFERRERS),
        (dial_timeout, R_DIAL_RELEASE),
        (default_dir, R_DEFAULT_DIR),
        (order_follows, R_ORDER_FOLLOWS),
        *_CONTAINERS_ONLY,
        (rewrite, R_REWRITE),
        (credentials, R_CREDENTIALS),
        (global_headers, R_GLOBAL_HEADERS_CERTS),
        (key_without_cert, R_KEY_ONLY),
    ],
    "registries-yaml": [
        (order_follows, R_ORDER_FOLLOWS),
        (inert_tls, R_INERT_TLS),
        *_CONTAINERS_ONLY,
        (rewrite_on_default, R_REWRITE_DEFAULT),
        (rewrite, R_REWRITE_SHARED),
        (docker_io_host, R_DOCKER_IO_HOST),
        (default_folded, R_DEFAULT_FOLDED),
        (repeated_endpoint, R_REPEATED),
        (fallback, R_FALLBACK_YAML),
        (root_path, R_ROOT_PATH),
        (wildcard_tls, R_WILDCARD_TLS_YAML),
        (global_headers, R_GLOBAL_HEADERS_YAML),
        (empty_directory, R_EMPTY_DIR),
        (key_without_cert, R_KEY_ONLY),
        (implied_host, R_IMPLIED_HOST_YAML),
        (skip_verify_false, R_SKIP_FALSE),
        *_COMMON_OUTSIDE_HOSTS,
    ],
    "cri": [
        (order_follows, R_ORDER_FOLLOWS),
        *_CONTAINERS_ONLY,
        (rewrite, R_REWRITE),
        (fallback, R_FALLBACK_CRI),
        (tls_dropped, R_V3_TLS),
        (wildcard_tls, R_WILDCARD_TLS_CRI),
        (tls_on_http, R_HTTP_TLS),
        (relative_paths, R_RELATIVE),
        (key_without_cert, R_KEY_ONLY),
        (implied_host, R_IMPLIED_HOST),
        *_COMMON_OUTSIDE_HOSTS,
        (last_entry_lost, R_FALLBACK_CRI),
    ],
}


def table_for(target: str) -> list[tuple[Matcher, object]]:
    return CANNOT_HOLD["cri" if target.startswith("cri-") else target]


def explain(diff: Difference, ctx: Context) -> str:
    for matcher, reason in table_for(ctx.target):
        if matcher(diff, ctx):
            return reason(diff, ctx) if callable(reason) else str(reason)
    return UNEXPLAINED


def losses(before: Config, after: Config, differences: list[Difference], source: str, target: str) -> list[Change]:
    """The differences a conversion made, each with its reason, after the reader's own notes."""
    ctx = Context(source, target, before, after, tuple(differences))
    notes = [n for n in before.notes if n.targets is None or target in n.targets]
    measured = [Change(d.path, d.kind, d.before, d.after, explain(d, ctx)) for d in differences]
    return notes + measured
