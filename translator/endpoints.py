"""Endpoint URLs and registry names, by the rules of each runtime (SEMANTICS.md §1-§4).

The three places a URL is turned into "what containerd requests under" differ:
- k3s (`normalizeEndpointAddress`): scheme defaulting with the localhost rule, `/v2` or
  override for any other path;
- hosts.toml (`parseHostConfig`): `https://` unless the key starts with "http", the path
  cleaned and `/v2` appended unless it ends in `/v2` or `override_path` is set;
- legacy CRI mirrors (`registryEndpoints`): scheme from the endpoint's own host, the path
  verbatim, only an empty path becomes `/v2`.
All three end in one canonical form: `scheme://host[:port]` + the cleaned prefix ("" for the root).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from . import gourl
from .errors import InputError
from .patterns import lazy
from .record import record
from .releases import NEWEST, Release

DOCKER_HUB = "docker.io"
DOCKER_HUB_HOST = "registry-1.docker.io"
HUB_ALIASES = ("index.docker.io", "registry-1.docker.io")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
_HOSTNAME = lazy(rf"^{_LABEL}(?:\.{_LABEL})*$")


def split_host_port(hostport: str) -> tuple[str, str]:
    """("host", "port") of `host[:port]` or `[v6][:port]`; the port is "" when absent."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            return hostport, ""
        rest = hostport[end + 1:]
        return hostport[1:end], rest[1:] if rest.startswith(":") else ""
    if hostport.count(":") == 1:
        host, port = hostport.split(":")
        return host, port
    return hostport, ""


def is_localhost(hostport: str) -> bool:
    """containerd's `docker.IsLocalhost`: `localhost` or a loopback IP, with or without port."""
    host = hostport
    if hostport.startswith("[") and "]" in hostport:
        host = split_host_port(hostport)[0]
    elif hostport.count(":") == 1:
        host = hostport.split(":")[0]
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def default_host(registry: str) -> str:
    """containerd's `docker.DefaultHost`: Docker Hub is served by registry-1.docker.io."""
    return DOCKER_HUB_HOST if registry == DOCKER_HUB else registry


# asked several times for every registry of a file; at 65,536 entries a 100,000-registry fleet
# missed every time (each name evicted before it was asked for again)
@lru_cache(maxsize=1 << 20)
def valid_hostport(hostport: str) -> bool:
    """True for `host[:port]` and `[ipv6][:port]` with a port in 1-65535."""
    if not hostport or len(hostport) > 300:
        return False
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            return False
        try:
            ipaddress.IPv6Address(hostport[1:end].split("%", 1)[0])
        except ValueError:
            return False
        rest = hostport[end + 1:]
        if rest == "":
            return True
        return rest.startswith(":") and _valid_port(rest[1:])
    host, port = split_host_port(hostport)
    if hostport.count(":") > 1:
        return False
    if ":" in hostport and not _valid_port(port):
        return False
    return bool(_HOSTNAME.match(host))


def _valid_port(port: str) -> bool:
    return port.isascii() and port.isdigit() and 0 < int(port) < 65536 and len(port) <= 5


def check_registry_name(name: str) -> None:
    """Refuse a registry name that is not `host[:port]`, `[ipv6]:port` or `*`.

    The name becomes a directory and a TOML key: nothing else may get through.
    """
    if name == "*" or valid_hostport(name):
        return
    raise InputError(f"registry name {name!r} is not host[:port], [ipv6]:port or '*'",
                     fix="use the registry's host name and port only, e.g. 'registry.example.com:5000'")


def name_problem(name: str) -> str | None:
    """Why a registry key is never consulted, for keys that are not hostile but not a host:
    a path (`docker.io/library`) or a scheme (`https://r`)."""
    if "://" in name:
        return "has a scheme"
    if "/" in name:
        return "has a path"
    return None


def directory_for(name: str) -> str:
    """The certs.d directory of a registry: `_default` for `*`, the name itself otherwise."""
    return "_default" if name == "*" else name


_PORT_DIR = lazy(r"^(.+)_(\d+)_$")


def name_for_directory(dirname: str) -> tuple[str, bool]:
    """(registry name, True if the `host_port_` spelling was used) for a certs.d directory."""
    if dirname == "_default":
        return "*", False
    match = _PORT_DIR.match(dirname)
    if match:
        return f"{match.group(1)}:{match.group(2)}", True
    return dirname, False


def canonical_prefix(path: str) -> str:
    """The path prefix as containerd joins it: cleaned, and "" for the root."""
    if path == "":
        return ""
    cleaned = gourl.clean_path(path)
    return "" if cleaned in ("/", ".") else cleaned


def canonical_url(scheme: str, hostport: str, path: str) -> str:
    return f"{scheme}://{hostport}{canonical_prefix(path)}"


def _checked_host(hostport: str, what: str) -> str:
    if not hostport:
        raise InputError(f"{what} has no host")
    if not valid_hostport(hostport):
        raise InputError(f"{what}: host {hostport!r} is not host[:port] or [ipv6]:port",
                         fix="use a plain host name or IP address and a port in 1-65535")
    return hostport


# --- upstream (default endpoint) -----------------------------------------------------------

def upstream_fill(registry: str, release: Release) -> tuple[str, bool | None]:
    """(URL, skip_verify) of the upstream containerd fills in for REGISTRY when no `server` names
    one (SEMANTICS §2.4): Docker Hub's registry-1, a localhost registry by the release's rules
    (scheme by port, and a forced skip_verify), otherwise https://<registry>."""
    url = hosts_upstream(registry, release)
    if is_localhost(registry) and registry != DOCKER_HUB:
        _scheme, forced = release.localhost_upstream(split_host_port(registry)[1])
        return url, True if forced else None
    return url, None


def hosts_upstream(registry: str, release: Release | None = None) -> str:
    """The upstream containerd fills in for a hosts.toml without `server` (the newest release's
    rules unless RELEASE is given: the scheme of a localhost registry changed in 1.6.9 and 1.6.25)."""
    if registry == DOCKER_HUB:
        return f"https://{DOCKER_HUB_HOST}/v2"
    if is_localhost(registry):
        scheme = (release or NEWEST).localhost_upstream(split_host_port(registry)[1])[0]
        return f"{scheme}://{registry}/v2"
    return f"https://{registry}/v2"


def legacy_upstream(registry: str, release: Release | None = None) -> str:
    """The upstream legacy CRI mirrors append: http for a localhost or loopback registry."""
    scheme = (release or NEWEST).legacy_upstream_scheme(registry)
    return f"{scheme}://{default_host(registry)}/v2"


# --- k3s ------------------------------------------------------------------------------------

@record
class K3sEndpoint:
    registry: str      # the host k3s looks configs up by (docker.io for registry-1.docker.io)
    url_string: str    # Go's URL.String(): what k3s dedups and compares
    url: str           # canonical: what containerd requests under
    override: bool


# `[http[s]://]host[:port][/path]` with a lower-case host name (dot-separated labels, as _HOSTNAME
# has them), a port without leading zeros and path segments of unreserved characters that
# path.Clean leaves alone: nearly every endpoint people write, and one whose normalised forms are
# the input itself (property-tested against the general rules)
_PLAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PLAIN_ENDPOINT = lazy(rf"(?:(https?)://)?((?:{_PLAIN_LABEL}\.)*{_PLAIN_LABEL})(?::([1-9][0-9]{{0,4}}))?"
                       r"((?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*)")


# k3s_normalize's answers for the endpoints a registries.yaml writer asked about: a conversion then
# reads the same text back (a dict, not an LRU: a fleet's 400,000 endpoints would thrash one). Only
# the writer adds to it: a reader alone would fill it with answers nobody asks for again.
_K3S_NORMALIZED: dict[str, K3sEndpoint] = {}
_K3S_NORMALIZED_LIMIT = 1_000_000


def k3s_normalize(endpoint: str) -> K3sEndpoint:
    """k3s `normalizeEndpointAddress`. Raises gourl.URLError where Go's url.Parse fails (k3s skips
    such endpoints with a warning) and InputError for a URL containerd could never use."""
    known = _K3S_NORMALIZED.get(endpoint)
    return known if known is not None else _k3s_normalize(endpoint)


def k3s_normalize_remembered(endpoint: str) -> K3sEndpoint:
    """`k3s_normalize`, and the answer kept for the next reader of ENDPOINT (a writer that reads its
    own output back)."""
    known = _K3S_NORMALIZED.get(endpoint)
    if known is None:
        known = _k3s_normalize(endpoint)
        if len(_K3S_NORMALIZED) < _K3S_NORMALIZED_LIMIT:
            _K3S_NORMALIZED[endpoint] = known
    return known


def _plain_parts(text: str) -> tuple[str | None, str, str | None, str] | None:
    """(scheme or None, host[:port], port or None, path) of a `_PLAIN_ENDPOINT` TEXT with a port in
    1-65535; None for anything the general rules must read."""
    plain = _PLAIN_ENDPOINT.fullmatch(text)
    if plain is None:
        return None
    scheme, name, port, path = plain.groups()
    if port is None:
        return scheme, name, None, path
    return (scheme, f"{name}:{port}", port, path) if int(port) <= 65535 else None


def _k3s_normalize(endpoint: str) -> K3sEndpoint:
    plain = _plain_parts(endpoint)
    if plain is not None:
        scheme, registry, port, path = plain
        if scheme is None:  # k3s: plain http for a local registry on a port other than 443
            scheme = "http" if port not in (None, "443") and is_localhost(registry) else "https"
        host = default_host(registry)
        if host == DOCKER_HUB_HOST:
            registry = DOCKER_HUB
        override = path not in ("", "/v2")
        url = f"{scheme}://{host}{path if override else '/v2'}"
        return K3sEndpoint(registry=registry, url_string=url, url=url, override=override)
    return k3s_normalize_general(endpoint)


def k3s_normalize_general(endpoint: str) -> K3sEndpoint:
    """`k3s_normalize` by the general rules (Go's url.Parse and URL.String)."""
    raw = endpoint if "://" in endpoint else "//" + endpoint
    url = gourl.parse(raw)
    port = url.port()
    if url.scheme == "":
        if is_localhost(url.host) and port not in ("", "443"):
            url.scheme = "http"
        else:
            url.scheme = "https"
    registry = url.host
    url.host = default_host(registry)
    if url.host == DOCKER_HUB_HOST:
        registry = DOCKER_HUB
    override = url.path not in ("", "/", "/v2")
    if not override:
        url.path = "/v2"
        url.raw_path = ""
    _checked_host(url.host, f"endpoint {endpoint!r}")
    if url.scheme not in ("http", "https"):
        raise InputError(f"endpoint {endpoint!r} has scheme {url.scheme!r}", fix="use http:// or https://")
    return K3sEndpoint(registry=registry, url_string=url.string(),
                       url=canonical_url(url.scheme, url.host, url.path), override=override)


def k3s_default_url(registry: str, remember: bool = False) -> str:
    """The Default endpoint k3s gives a registries.yaml key (the `server` it writes); for `*`,
    "" (the image's own upstream). REMEMBER: keep the answer for a reader (`k3s_normalize_remembered`)."""
    if registry == "*":
        return ""
    return (k3s_normalize_remembered if remember else k3s_normalize)(registry).url


# --- hosts.toml ----------------------------------------------------------------------------

def hosts_entry_url(key: str, override: bool) -> str:
    """containerd `parseHostConfig`: the canonical URL of a `[host."…"]` key or `server`."""
    return hosts_entry(key, override)[0]


def hosts_entry(key: str, override: bool) -> tuple[str, str]:
    """(canonical URL, the path as written) of a `[host."…"]` key or `server`."""
    plain = _plain_parts(key)
    if plain is not None and plain[0] is not None:
        # http(s)://host[:port][/path] with a path that path.Clean leaves as it is (no ".", ".." or
        # empty segment): the general rules below give exactly these parts (property-tested)
        scheme, hostport, _port, path = plain
        if path:
            full = path if override or path.endswith("/v2") else path + "/v2"
        else:
            full = "" if override else "/v2"
        return f"{scheme}://{hostport}{full}", path
    return hosts_entry_general(key, override)


def hosts_entry_general(key: str, override: bool) -> tuple[str, str]:
    """`hosts_entry` by the general rules (Go's url.Parse and path.Clean)."""
    raw = key if key.startswith("http") else "https://" + key
    url = gourl.parse(raw)
    written = url.path
    if url.path:
        path = gourl.clean_path(url.path)
        if not path.endswith("/v2") and not override:
            path += "/v2"
    else:
        path = "" if override else "/v2"
    _checked_host(url.host, f"host {key!r}")
    if url.scheme not in ("http", "https"):
        raise InputError(f"host {key!r} has scheme {url.scheme!r}", fix="use http:// or https://")
    return canonical_url(url.scheme, url.host, path), written


def hosts_key_for(url: str) -> tuple[str, bool]:
    """The `[host."…"]` key and `override_path` that make containerd request under URL."""
    scheme, rest = url.split("://", 1)
    hostport, slash, path = rest.partition("/")
    prefix = slash + path
    base = f"{scheme}://{hostport}"
    escaped = gourl.escape(prefix, "path")
    if prefix.endswith("/v2"):
        return base + escaped, False
    return base + escaped, True


# --- legacy CRI -----------------------------------------------------------------------------

def legacy_scheme_for(hostport: str, release: Release | None = None) -> str:
    return (release or NEWEST).legacy_upstream_scheme(hostport)


def legacy_entry_url(endpoint: str, release: Release | None = None) -> str:
    """CRI `registryEndpoints` + `registryHosts`: a legacy mirror endpoint's canonical URL."""
    raw = endpoint
    if "://" not in raw:
        probe = gourl.parse("dummy://" + raw)
        raw = f"{legacy_scheme_for(probe.host, release)}://{raw}"
    url = gourl.parse(raw)
    path = url.path or "/v2"
    _checked_host(url.host, f"endpoint {endpoint!r}")
    if url.scheme not in ("http", "https"):
        raise InputError(f"endpoint {endpoint!r} has scheme {url.scheme!r}", fix="use http:// or https://")
    return canonical_url(url.scheme, url.host, path)


def legacy_endpoint_text(url: str) -> str:
    """How to write a canonical URL as a legacy endpoint so that containerd uses the same prefix:
    the path is used verbatim, and only an empty path becomes /v2 (so the root is `/`)."""
    scheme, rest = url.split("://", 1)
    hostport, slash, path = rest.partition("/")
    if not slash:
        return f"{scheme}://{hostport}/"
    return f"{scheme}://{hostport}{gourl.escape('/' + path, 'path')}"


def url_hostport(url: str) -> str:
    if "://" not in url:
        return ""
    return url.split("://", 1)[1].split("/", 1)[0]
