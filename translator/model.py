"""The one model of registry configuration: what containerd will try, per registry, in order.

Every reader turns its format into this model by that format's own runtime rules (k3s's for
registries.yaml, containerd's legacy CRI rules, containerd's hosts.toml rules), and every
writer renders it back. A registry (`Host`) is the ordered list of endpoints containerd tries
for it, the last one included: the upstream registry when there is a fallback, whatever
`server` says otherwise. `url` is the prefix containerd requests under (scheme, host, port and
path, `/v2` already applied), so two configs that send the same requests compare equal.

Readers never leave parser objects in the model; secrets never print (`repr=False`).
"""

from __future__ import annotations

from .errors import Problem
from .record import field, record, replace
from .releases import NEWEST, Release

#: capabilities in the order containerd documents them; models keep them in this order
CAPABILITY_ORDER = ("pull", "resolve", "push", "referrers")
MIRROR_CAPABILITIES = ("pull", "resolve")
ALL_CAPABILITIES = ("pull", "resolve", "push")

#: the url of the last entry of the `*` registry: the upstream of whatever registry an image names
IMAGE_UPSTREAM = ""
WILDCARD = "*"


def ordered_capabilities(caps: object) -> tuple[str, ...]:
    wanted = {str(c).lower() for c in caps}  # type: ignore[union-attr]
    return tuple(c for c in CAPABILITY_ORDER if c in wanted)


@record
class Endpoint:
    """One host containerd tries: a mirror, a `server`, or the upstream registry."""

    url: str
    capabilities: tuple[str, ...] = MIRROR_CAPABILITIES
    ca: tuple[str, ...] = ()
    client: tuple[tuple[str, str], ...] = ()
    skip_verify: bool | None = None
    header: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), repr=False)
    rewrite: tuple[tuple[str, str], ...] = ()
    dial_timeout: str = ""

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0] if "://" in self.url else ""

    @property
    def hostport(self) -> str:
        """The endpoint host[:port]: what TLS and credentials are keyed by."""
        if "://" not in self.url:
            return ""
        rest = self.url.split("://", 1)[1]
        return rest.split("/", 1)[0]

    @property
    def prefix(self) -> str:
        """The path prefix containerd puts before `/<repository>/…` ("" for the root)."""
        if "://" not in self.url:
            return "/v2"
        rest = self.url.split("://", 1)[1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else ""

    def has_tls(self) -> bool:
        return bool(self.ca or self.client or self.skip_verify is not None)

    def header_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.header}


@record
class Host:
    """A registry namespace (`docker.io`, `r.example.com:5000`, `*`) and the endpoints tried for it."""

    name: str
    endpoints: tuple[Endpoint, ...]


@record
class Auth:
    """Credentials for one endpoint host, as containerd's `configs.<host>.auth` holds them."""

    username: str = ""
    password: str = field(default="", repr=False)
    auth: str = field(default="", repr=False)
    identitytoken: str = field(default="", repr=False)

    def as_dict(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password, "auth": self.auth,
                "identitytoken": self.identitytoken}


@record
class Change:
    """One difference between two models, or one thing a reader dropped or changed on the way in.

    Reader notes carry `targets`: the formats the note concerns (None: every conversion).
    """

    path: str
    kind: str
    before: object
    after: object
    reason: str = ""
    targets: frozenset[str] | None = None

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "kind": self.kind, "before": self.before, "after": self.after,
                "reason": self.reason}


@record
class ShortNames:
    """How a short name (`alpine`) becomes a full reference: containers-registries.conf's
    `unqualified-search-registries`, `short-name-mode` and `[aliases]`. containerd always
    qualifies with docker.io, which is `ShortNames(search=("docker.io",))`."""

    search: tuple[str, ...] = ()
    mode: str = ""
    aliases: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"search": list(self.search), "mode": self.mode, "aliases": dict(self.aliases)}


#: containerd's (and Docker's) only way of qualifying a short name
DOCKER_HUB_ONLY = ShortNames(search=("docker.io",))


@record
class Config:
    """A whole registry configuration, whatever format it came from."""

    hosts: dict[str, Host] = field(default_factory=dict)
    auth: dict[str, Auth] = field(default_factory=dict)
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    config_path: str = ""
    #: what the reader dropped or changed on the way in; `convert` reports them
    notes: tuple[Change, ...] = ()
    #: warnings found while reading (unknown keys, keys containerd ignores, ...)
    problems: tuple[Problem, ...] = ()
    #: the format the model was read from
    source_format: str = ""
    #: how short names are qualified; None: docker.io only (containerd, Docker, k3s)
    short_names: ShortNames | None = None
    #: address ranges (CIDR) whose registries are insecure (Docker's `insecure-registries`)
    insecure_ranges: tuple[str, ...] = ()
    #: why the runtime cannot use this configuration at all ("" when it can): resolve gives no pulls
    unusable: str = ""
    #: registries every pull from which fails, and why (a legacy endpoint that is not a URL, ...)
    failing: dict[str, str] = field(default_factory=dict)
    #: the containerd release the model is of (every version-dependent rule was applied for it)
    release: Release = NEWEST
    #: how the runtime looks hosts up: "hosts" (hosts.toml rules), "legacy" (CRI mirrors) or "k3s";
    #: "" lets resolve decide from the source format
    semantics: str = ""
    #: the TLS settings in the model are what the file says, but the release ignores them
    #: (registry.configs.*.tls on containerd 2.x): conversions carry them over, resolve does not use them
    tls_inert: bool = False

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]


def host_path(name: str) -> str:
    return f"hosts[{name!r}]"


def endpoint_path(name: str, key: str) -> str:
    return f"hosts[{name!r}].endpoints[{key!r}]"


def endpoint_keys(endpoints: tuple[Endpoint, ...] | list[Endpoint]) -> list[str]:
    """Names for a host's endpoints: the URL, `<upstream>` for the image's own registry, and a
    ` (2)` suffix for a URL that is tried a second time."""
    seen: dict[str, int] = {}
    keys = []
    for ep in endpoints:
        base = ep.url or "<upstream>"
        seen[base] = seen.get(base, 0) + 1
        keys.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return keys


def is_prefix_name(name: str) -> bool:
    """True for an entry keyed by more or less than a registry host: a namespace
    (`docker.io/library`) or a domain wildcard (`*.example.com`), which only
    containers-registries.conf can hold (containerd looks entries up by registry host)."""
    return "/" in name or name.startswith("*.")


def sorted_hosts(config: Config) -> list[tuple[str, Host]]:
    """Registries in a stable order for writers: by name, `*` last; entries keyed by a
    namespace or a domain wildcard are left out (only registries-conf writes them)."""
    return sorted(((k, v) for k, v in config.hosts.items() if not is_prefix_name(k)),
                  key=lambda item: (item[0] == WILDCARD, item[0]))


def semantics_of(config: Config) -> str:
    """Whose rules turn the model into requests: k3s, legacy CRI, hosts.toml, Docker's registry
    service (docker-daemon) or containers/image (registries-conf)."""
    if config.semantics:
        return config.semantics
    fmt = config.source_format
    if fmt == "registries-yaml":
        return "k3s"
    if (fmt.startswith("cri-") or fmt == "crictl-info") and not config.config_path:
        return "legacy"
    if fmt == "docker-daemon":
        return "docker"
    if fmt == "registries-conf":
        return "containers"
    return "hosts"
