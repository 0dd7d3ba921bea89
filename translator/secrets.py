"""The one place that decides what is a secret and how it is shown: `***`.

Every report, diff, `show` output, log line and error goes through `mask_*` for structured
values and through `redact` as a last net for free text. Output *files* (a converted
registries.yaml, a containerd config) keep the real values: they are the payload.
"""

from __future__ import annotations

import functools
import re

MASK = "***"

#: fields that hold a secret, in every spelling the formats use
SECRET_FIELDS = frozenset({"password", "auth", "identitytoken", "identity_token", "token"})
#: header names whose values are credentials
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-registry-auth"})

_seen: set[str] = set()
#: shorter values are too likely to be ordinary words ("pass") to be hunted in free text;
#: structured output masks secrets of any length at the field level
_MIN_REMEMBERED = 6


def remember(value: object) -> None:
    """Note a secret value so that `redact` removes it from any text printed later."""
    if isinstance(value, str) and len(value) >= _MIN_REMEMBERED:
        _seen.add(value)


def redact(text: str) -> str:
    """Replace every remembered secret (as a whole token), and the password of any URL
    userinfo, by `***`: the last net under every line the tool prints."""
    if _seen:
        text = _secrets_pattern(frozenset(_seen)).sub(MASK, text)
    return _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)


@functools.lru_cache(maxsize=4)
def _secrets_pattern(values: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")


_USERINFO = re.compile(r"(://[^/@\s:]*:)[^/@\s]*@")


def is_secret_header(name: str) -> bool:
    return name.lower() in SECRET_HEADERS


def mask_auth(auth: dict[str, str]) -> dict[str, str]:
    """An auth table with every secret field shown as `***` (empty fields stay empty)."""
    return {k: (MASK if k in SECRET_FIELDS and v else v) for k, v in auth.items()}


def mask_headers(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: ([MASK] * len(v) if is_secret_header(k) else list(v)) for k, v in headers.items()}


def mask_url(url: str) -> str:
    return _USERINFO.sub(lambda m: m.group(1) + MASK + "@", url)


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
