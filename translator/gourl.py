"""Go's `net/url` parsing, as k3s and containerd run it.

k3s normalises endpoints with `url.Parse` and compares `URL.String()`; containerd parses
hosts.toml keys, `server` and legacy endpoints the same way. Python's urllib differs in the
cases that matter here (errors for bad ports and host characters, the colon in a first path
segment, scheme detection, escaping), so the subset of Go's rules those programs hit is
ported here rather than approximated.
"""

from __future__ import annotations

from .patterns import lazy
from .record import record


class URLError(ValueError):
    """What Go's url.Parse would have returned as an error."""


_HEX = "0123456789abcdefABCDEF"


@record(mutable=True)
class GoURL:
    scheme: str = ""
    opaque: str = ""
    userinfo: str | None = None
    host: str = ""
    path: str = ""
    raw_path: str = ""
    raw_query: str = ""
    force_query: bool = False
    fragment: str = ""
    raw_fragment: str = ""

    def port(self) -> str:
        """`URL.Port()`: the digits after the host's last colon, or ""."""
        host = self.host
        colon = host.rfind(":")
        if colon == -1 or (host.startswith("[") and host.rfind("]") > colon):
            return ""
        port = host[colon + 1:]
        return port if port.isdigit() else ""

    def hostname(self) -> str:
        """`URL.Hostname()`: the host without port and brackets."""
        host = self.host
        if host.startswith("["):
            end = host.find("]")
            return host[1:end] if end != -1 else host[1:]
        colon = host.rfind(":")
        return host[:colon] if colon != -1 else host

    def escaped_path(self) -> str:
        if self.raw_path and _valid_encoded(self.raw_path) and _unescape(self.raw_path, "path") == self.path:
            return self.raw_path
        if self.path == "*":
            return "*"
        return escape(self.path, "path")

    def string(self) -> str:
        """`URL.String()`."""
        out = []
        if self.scheme:
            out.append(self.scheme + ":")
        if self.opaque:
            out.append(self.opaque)
        else:
            if self.scheme or self.host or self.userinfo is not None:
                if self.host or self.path or self.userinfo is not None:
                    out.append("//")
                if self.userinfo is not None:
                    out.append(self.userinfo + "@")
                if self.host:
                    out.append(escape(self.host, "host"))
            path = self.escaped_path()
            if path and path[0] != "/" and self.host:
                out.append("/")
            if not out:
                segment = path.split("/", 1)[0]
                if ":" in segment:
                    out.append("./")
            out.append(path)
        if self.force_query or self.raw_query:
            out.append("?" + self.raw_query)
        if self.fragment:
            out.append("#" + escape(self.fragment, "fragment"))
        return "".join(out)


# scheme://host[:port]/path with nothing to unescape or validate further: what nearly every
# registry endpoint looks like, and what Go's rules below turn into exactly these parts
_SIMPLE = lazy(r"([A-Za-z][A-Za-z0-9+.\-]*)://([A-Za-z0-9.\-]+(?::[0-9]*)?)((?:/[A-Za-z0-9._~\-]*)*)")


def parse(raw: str) -> GoURL:
    """`url.Parse(raw)`."""
    simple = _SIMPLE.fullmatch(raw)
    if simple is not None:
        return GoURL(scheme=simple.group(1).lower(), host=simple.group(2), path=simple.group(3))
    return parse_general(raw)


def parse_general(raw: str) -> GoURL:
    """`url.Parse(raw)` by the general rules (`parse` takes a shortcut for simple URLs)."""
    u, sep, frag = raw.partition("#")
    url = _parse(u)
    if sep:
        url.fragment = _unescape(frag, "fragment")
        url.raw_fragment = frag
    return url


_CONTROL = lazy(r"[\x00-\x1f\x7f]")


def _parse(raw: str) -> GoURL:
    if _CONTROL.search(raw):
        raise URLError("invalid control character in URL")
    url = GoURL()
    if raw == "*":
        url.path = "*"
        return url
    scheme, rest = _get_scheme(raw)
    url.scheme = scheme.lower()
    if rest.endswith("?") and rest.count("?") == 1:
        url.force_query = True
        rest = rest[:-1]
    elif "?" in rest:
        rest, url.raw_query = rest.split("?", 1)
    if not rest.startswith("/"):
        if url.scheme:
            url.opaque = rest
            return url
        segment = rest.split("/", 1)[0]
        if ":" in segment:
            raise URLError("first path segment in URL cannot contain colon")
    if (url.scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, slash, tail = rest[2:].partition("/")
        rest = slash + tail
        url.userinfo, url.host = _parse_authority(authority)
    url.path = _unescape(rest, "path")
    url.raw_path = rest if escape(url.path, "path") != rest else ""
    return url


_SCHEME = lazy(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _get_scheme(raw: str) -> tuple[str, str]:
    """Go's getScheme: letters first, then letters, digits, + - .; up to a colon."""
    if raw.startswith(":"):
        raise URLError("missing protocol scheme")
    match = _SCHEME.match(raw)
    if match is None:
        return "", raw
    return raw[:match.end() - 1], raw[match.end():]


def _parse_authority(authority: str) -> tuple[str | None, str]:
    at = authority.rfind("@")
    if at < 0:
        return None, _parse_host(authority)
    userinfo = authority[:at]
    if not _valid_userinfo(userinfo):
        raise URLError("net/url: invalid userinfo")
    _unescape(userinfo.split(":", 1)[0], "user")
    return userinfo, _parse_host(authority[at + 1:])


def _parse_host(host: str) -> str:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            raise URLError("missing ']' in host")
        port = host[end + 1:]
        if not _valid_optional_port(port):
            raise URLError(f"invalid port {port!r} after host")
        zone = host[:end].find("%25")
        if zone >= 0:
            return _unescape(host[:zone], "host") + _unescape(host[zone:end], "zone") + _unescape(host[end:], "host")
    else:
        colon = host.rfind(":")
        if colon != -1:
            port = host[colon:]
            if not _valid_optional_port(port):
                raise URLError(f"invalid port {port!r} after host")
    return _unescape(host, "host")


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    if port[0] != ":":
        return False
    return all(c in "0123456789" for c in port[1:])


def _valid_userinfo(s: str) -> bool:
    for c in s:
        if c.isascii() and c.isalnum():
            continue
        if c in "-._:~!$&'()*+,;=%@":
            continue
        return False
    return True


def _should_escape(c: str, mode: str) -> bool:
    if c.isascii() and c.isalnum():
        return False
    if mode in ("host", "zone") and c in "!$&'()*+,;=:[]<>\"":
        return False
    if c in "-_.~":
        return False
    if c in "$&+,/:;=?@":
        if mode == "path":
            return c == "?"
        if mode == "pathsegment":
            return c in "/;,?"
        if mode in ("user", "password"):
            return c in "@/?:"
        if mode == "query":
            return True
        if mode == "fragment":
            return False
    return not (mode == "fragment" and c in "!()*")


# a host needs no escaping when it has none of the ASCII characters Go escapes in hosts
_PLAIN_HOST = lazy(r"[^\x00-\x20#%/?@\\^`{|}\x7f]*")
_PLAIN_PATH = lazy(r"[A-Za-z0-9\-._~/!$&'()*+,;=:@]*")


def _unescape(s: str, mode: str) -> str:
    if "%" not in s and (mode not in ("host", "zone") or _PLAIN_HOST.fullmatch(s)):
        return s
    out = bytearray()
    i = 0
    data = s.encode("utf-8", "surrogatepass")
    while i < len(data):
        b = data[i]
        if b == 0x25:  # '%'
            hexpair = data[i + 1:i + 3].decode("latin-1")
            if len(hexpair) < 2 or hexpair[0] not in _HEX or hexpair[1] not in _HEX:
                raise URLError(f"invalid URL escape {data[i:i + 3].decode('latin-1')!r}")
            if mode == "host" and int(hexpair[0], 16) < 8 and hexpair != "25":
                raise URLError(f"invalid URL escape %{hexpair}")
            out.append(int(hexpair, 16))
            i += 3
            continue
        if mode in ("host", "zone") and b < 0x80 and _should_escape(chr(b), mode):
            raise URLError(f"invalid character {chr(b)!r} in host name")
        out.append(b)
        i += 1
    return out.decode("utf-8", "replace")


def _valid_encoded(s: str) -> bool:
    for c in s:
        if c in "!$&'()*+,;=:@[]%":
            continue
        if _should_escape(c, "path"):
            return False
    return True


def escape(s: str, mode: str) -> str:
    """`url.PathEscape`-style escaping for MODE (path, host, fragment)."""
    if mode == "path" and _PLAIN_PATH.fullmatch(s):
        return s
    if mode == "host" and _PLAIN_HOST.fullmatch(s):
        return s
    out = []
    for ch in s:
        if ch == " " and mode == "query":
            out.append("+")
        elif (ord(ch) < 0x80 and not _should_escape(ch, mode)) or (ord(ch) >= 0x80 and mode == "host"):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


def query_escape(s: str) -> str:
    """`url.QueryEscape`."""
    return escape(s, "query")


def clean_path(p: str) -> str:
    """Go's `path.Clean`."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for part in p.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."
