"""`resolve` for registries-conf: what containers/image (Podman, CRI-O, Skopeo) tries for an image.

A short name is qualified first: an alias, else each `unqualified-search-registries` entry in
order (more than one is refused in `enforcing` mode, the default, where Podman would have to ask
on a terminal). The `[[registry]]` whose `prefix` matches the longest part of the full reference
(`refMatchingPrefix`: a namespace, a host, or `*.domain` for subdomains) gives the list; a
blocked one refuses the pull; a reference no prefix matches goes to its registry over HTTPS
(docker.io at registry-1.docker.io). The part of the reference after the prefix is appended to
each location, and no `?ns=` is added (that marker is containerd's).
"""

from __future__ import annotations

from . import endpoints as ep_rules
from .errors import InputError
from .model import ALL_CAPABILITIES, DOCKER_HUB_ONLY, IMAGE_UPSTREAM, Config, Endpoint
from .reference import Reference, parse
from .resolve import Resolution, resolve_entries


def ref_matching_prefix(ref: str, prefix: str) -> int:
    """containers/image `refMatchingPrefix`: where PREFIX ends in REF, or -1."""
    if prefix.startswith("*."):
        index = ref.find(prefix[1:])
        if index == -1 or "/" in ref[:index]:
            return -1
        index += len(prefix) - 1
        if index == len(ref) or ref[index] in ":/@":
            return index
        return -1
    if len(ref) < len(prefix) or not ref.startswith(prefix):
        return -1
    if len(ref) == len(prefix) or ref[len(prefix)] in ":/@":
        return len(prefix)
    return -1


def _is_short(image: str) -> bool:
    name = image.split("@", 1)[0]
    slash = name.find("/")
    if slash == -1:
        return True
    first = name[:slash]
    return not any(c in first for c in ".:") and first != "localhost" and first.lower() == first


def candidates(image: str, config: Config) -> tuple[list[str], str]:
    """The full references containers/image tries for IMAGE, and how it got them."""
    if not _is_short(image):
        return [image], ""
    short = config.short_names or DOCKER_HUB_ONLY
    name, suffix = image, ""
    if "@" in name:
        name, digest = name.split("@", 1)
        suffix = "@" + digest
    elif ":" in name:
        name, tag = name.rsplit(":", 1)
        suffix = ":" + tag
    aliases = dict(short.aliases)
    if name in aliases:
        return [aliases[name] + suffix], f"alias {name} = {aliases[name]}"
    if not short.search:
        raise InputError(f"short name {image!r} does not resolve: no alias and no unqualified-search-registries",
                         fix="use a full reference, or add unqualified-search-registries")
    if len(short.search) > 1 and short.mode in ("", "enforcing"):
        raise InputError(f"short name {image!r} is ambiguous in enforcing mode ({', '.join(short.search)}): Podman "
                         "asks on a terminal and fails without one", fix="use a full reference or an alias")
    return [f"{registry}/{image}" for registry in short.search], "unqualified-search-registries"


def _object_suffix(ref: Reference) -> str:
    return "@" + ref.digest if ref.digest else ":" + ref.tag


def _entries(ref: Reference, config: Config) -> tuple[list[Endpoint], list[str], str]:
    full = ref.name
    best, length = None, 0
    for name in config.hosts:
        if ref_matching_prefix(full, name) != -1 and len(name) > length:
            best, length = name, len(name)
    upstream = f"https://{ep_rules.default_host(ref.registry)}/v2"
    if best is None:
        return [Endpoint(upstream, ALL_CAPABILITIES)], [ref.repository], "no [[registry]]: the registry itself"
    host = config.hosts[best]
    if not host.endpoints:
        return [], [], f"[[registry]] prefix {best!r}, which is blocked (or unusable): every pull fails"
    end = ref_matching_prefix(full, best)
    rest = full[end:]
    rest = rest[:len(rest) - len(_object_suffix(ref))] if rest.endswith(_object_suffix(ref)) else rest
    entries, remainders = [], []
    for endpoint in host.endpoints:
        if endpoint.url == IMAGE_UPSTREAM:
            endpoint = Endpoint(upstream, endpoint.capabilities, endpoint.ca, endpoint.client, endpoint.skip_verify)
            remainders.append(ref.repository)
        else:
            remainders.append(rest.lstrip("/"))
        entries.append(endpoint)
    return entries, remainders, f"[[registry]] prefix {best!r}"


def resolve(image: str, config: Config) -> Resolution:
    refs, how = candidates(image, config)
    result: Resolution | None = None
    for text in refs:
        ref = parse(text)
        entries, remainders, origin = _entries(ref, config)
        one = resolve_entries(ref, config, entries, f"{origin}{'; ' + how if how else ''}", "containers", remainders,
                              typed=image)
        if result is None:
            result = one
        else:
            result.hosts.extend(one.hosts)
            result.skipped.extend(one.skipped)
    assert result is not None
    return result
