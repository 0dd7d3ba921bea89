"""The one place that decides what is a secret and how it is shown: `***`.

Every report, diff, `show` output, log line and error goes through `mask_*` for structured
values and through `redact` as a last net for free text. Output *files* (a converted
registries.yaml, a containerd config) keep the real values: they are the payload.
"""

from __future__ import annotations

import functools
import re

from .patterns import lazy

MASK = "***"

#: fields that hold a secret, in every spelling the formats use
SECRET_FIELDS = frozenset({"password", "auth", "identitytoken", "identity_token", "token"})
#: header names whose values are credentials
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-registry-auth"})

_seen: set[str] = set()
_seen_tokens: set[str] = set()  # the remembered secrets made of token characters only
_seen_others: set[str] = set()
#: shorter values are too likely to be ordinary words ("pass") to be hunted in free text;
#: structured output masks secrets of any length at the field level
_MIN_REMEMBERED = 6


def remember(value: object) -> None:
    """Note a secret value so that `redact` removes it from any text printed later."""
    if isinstance(value, str) and len(value) >= _MIN_REMEMBERED and value not in _seen:
        _seen.add(value)
        if _ALL_TOKEN.match(value):
            _seen_tokens.add(value)
        else:
            _seen_others.add(value)


def redact(text: str) -> str:
    """Replace every remembered secret (as a whole token), the password of any URL userinfo
    (`scheme://user:pass@`, or `user:pass@host` without a scheme), the credentials after `Basic`
    or `Bearer`, and any base64 token that decodes to `user:password` (a bare `auth` value) by
    `***`: the last net under every line the tool prints."""
    global _last_redacted
    if _last_redacted is not None and text is _last_redacted[0] and len(_seen) == _last_redacted[1]:
        return text  # this very text came out of here, and no secret was remembered since
    if _seen:
        text = _redact_remembered(text)
    if "@" in text:
        text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
        text = _BARE_USERINFO.sub(lambda m: m.group(1) + ":" + MASK + "@", text)
    if _SCHEME_WORD.search(text):
        text = _SCHEME_CREDENTIALS.sub(lambda m: m.group(1) + MASK, text)
    credentials = [token for token in set(_BASE64.findall(text)) if _decode_base64(token)]
    if credentials:
        text = _whole_pattern(frozenset(credentials), _BASE64_EDGE).sub(MASK, text)
    _last_redacted = (text, len(_seen))
    return text


# the last text redact() returned, and how many secrets it knew then: a report redacted where it
# is built is not searched again when it is printed (a fleet's report is megabytes)
_last_redacted: tuple[str, int] | None = None


# a whole token only: a password `example` is not in `mirror.example.com` or `/example/`
_EDGE = r"A-Za-z0-9._/:@-"
_TOKEN = lazy(rf"[{_EDGE}]+")
_ALL_TOKEN = lazy(rf"[{_EDGE}]+\Z")


def _redact_remembered(text: str) -> str:
    """TEXT with every remembered secret that stands as a whole token masked. A secret made of
    token characters only is a whole run of them, so it is found by one pass over the runs and a
    set lookup (10,000 secrets cost what one does); the rare secret with other characters goes
    through a pattern compiled once per set of such secrets."""
    if _seen_tokens:
        found = _seen_tokens.intersection(_TOKEN.findall(text))
        if found:
            text = _whole_pattern(frozenset(found), _EDGE).sub(MASK, text)
    if _seen_others:
        text = _whole_pattern(frozenset(_seen_others), _EDGE).sub(MASK, text)
    return text


@functools.lru_cache(maxsize=8)
def _whole_pattern(values: frozenset[str], edge: str) -> re.Pattern[str]:
    """Any of VALUES with no EDGE character on either side."""
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<![{edge}])(?:{alternatives})(?![{edge}])")


_USERINFO = lazy(r"(://[^/@\s:]*:)[^/@\s]*@")
#: `user:pass@host` without a scheme; not `name:tag@sha256:<hex>` (an image reference)
_BARE_USERINFO = lazy(r"(?<![\w.+/:@%~-])([\w.~%+-]+):[^\s@/'\"<>`]+@(?=[\w\[])"
                      r"(?![A-Za-z0-9+.-]*:[0-9a-fA-F]{32})")
#: an Authorization value: a token after `Basic`/`Bearer` with a digit or symbol in it, or long
_SCHEME_CREDENTIALS = lazy(r"\b((?:Basic|Bearer|basic|bearer|BASIC|BEARER)\s+)"
                           r"(?:(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/-]{3,}|[A-Za-z]{12,})=*")
_SCHEME_WORD = lazy(r"(?i)basic|bearer")
_BASE64_EDGE = r"A-Za-z0-9+/=_-"
_BASE64 = lazy(rf"(?<![{_BASE64_EDGE}])(?:[A-Za-z0-9+/]{{4}})+(?:[A-Za-z0-9+/]{{2}}==|[A-Za-z0-9+/]{{3}}=)?"
               rf"(?![{_BASE64_EDGE}])")


@functools.lru_cache(maxsize=4096)
def _decode_base64(token: str) -> str:
    """":" when TOKEN decodes to printable `user:password` (a Docker-style `auth` value), else ""."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return ""
    if not decoded or not all(32 <= byte < 127 for byte in decoded):
        return ""
    user, colon, _password = decoded.decode("ascii").partition(":")
    return colon if user and colon else ""


def is_secret_header(name: str) -> bool:
    return name.lower() in SECRET_HEADERS


def mask_auth(auth: dict[str, str]) -> dict[str, str]:
    """An auth table with every secret field shown as `***` (empty fields stay empty)."""
    return {k: (MASK if k in SECRET_FIELDS and v else v) for k, v in auth.items()}


def mask_headers(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: ([MASK] * len(v) if is_secret_header(k) else list(v)) for k, v in headers.items()}


def mask_url(url: str) -> str:
    if "@" not in url:
        return url
    url = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", url)
    return _BARE_USERINFO.sub(lambda m: m.group(1) + ":" + MASK + "@", url)


def holds_credentials(config: object) -> bool:
    """True when a file written from CONFIG (a model.Config) may hold a credential: auth,
    a secret header, or a password in an endpoint URL. Such files are written 0600."""
    if getattr(config, "auth", None):
        return True
    if any(is_secret_header(name) for name in getattr(config, "headers", {})):
        return True
    for host in getattr(config, "hosts", {}).values():
        for endpoint in host.endpoints:
            if any(is_secret_header(name) for name, _values in endpoint.header):
                return True
            if mask_url(endpoint.url) != endpoint.url:
                return True
    return False


def mask_toml(text: str) -> str:
    """TOML TEXT with the value of every secret key replaced by "***", found by where it is and
    not by what it says: `password`, `auth`, `identitytoken` and `token` keys and secret header
    values, in every spelling (tables, dotted keys, inline tables, arrays, multi-line and literal
    strings). Text that cannot be followed is masked line by line instead."""
    from .formats import toml_lines

    try:
        spans = [(start, end) for path, start, end in toml_lines.string_values(text) if is_secret_path(path)]
    except (ValueError, IndexError, RecursionError):
        return _mask_lines(text)
    out = []
    last = 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(f'"{MASK}"')
        last = end
    out.append(text[last:])
    return "".join(out)


def is_secret_path(path: tuple[str, ...]) -> bool:
    """A TOML key path whose string values are secrets."""
    if not path:
        return False
    leaf = path[-1]
    if leaf.lower() in SECRET_FIELDS:
        return True
    return any(part in ("header", "headers") for part in path[:-1]) and is_secret_header(leaf)


def _mask_lines(text: str) -> str:
    masked = []
    for line in text.splitlines(keepends=True):
        key = line.split("=", 1)[0].strip().strip("\"'").rsplit(".", 1)[-1].strip("\"'").lower()
        if "=" in line and (key in SECRET_FIELDS or is_secret_header(key)):
            line = line.split("=", 1)[0] + f'= "{MASK}"\n'
        masked.append(line)
    return "".join(masked)


def mask_tree(value: object) -> object:
    """VALUE with every secret inside it masked: auth fields, secret headers, URL passwords."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in SECRET_FIELDS and isinstance(item, str) and item:
                out[key] = MASK
            elif key in ("header", "headers") and isinstance(item, dict):
                out[key] = mask_tree(mask_headers(item))
            else:
                out[key] = mask_tree(item)
        return out
    if isinstance(value, (list, tuple)):
        return [mask_tree(item) for item in value]
    if isinstance(value, str):
        return mask_url(value)
    return value


def _leaf(path: str) -> str:
    if path.endswith("']") or path.endswith('"]'):
        return path[path.rfind("[") + 2:-2]
    return path.rsplit(".", 1)[-1]


def mask_at(path: str, value: object) -> object:
    """VALUE as it may be shown at model PATH (`auth['r'].password`, `headers['Authorization']`, ...)."""
    if value is None:
        return None
    leaf = _leaf(path)
    if path.startswith("auth") and leaf in SECRET_FIELDS and value:
        return MASK
    if (path.startswith("headers[") or ".header[" in path) and is_secret_header(leaf):
        return [MASK] * len(value) if isinstance(value, list) else MASK
    if leaf in ("header", "headers") and isinstance(value, dict):
        return mask_headers(value)
    return mask_tree(value)
