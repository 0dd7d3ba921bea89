"""YAML text for plain data, exactly as PyYAML's safe dumper writes it in block style.

PyYAML's representer and emitter are pure Python even with libyaml (only the parser is C for
the safe loader), and walking a 10,000-registry model through them was most of a large `show`
or conversion to registries.yaml. The documents written here are mappings of strings, lists,
booleans, integers and None, so this module lays them out itself and asks PyYAML only what it
decides: the style of each distinct string (plain or single-quoted, by PyYAML's own analysis
and resolver). Anything else (other types, multi-line or non-ASCII strings, keys PyYAML would
write as complex keys, a line PyYAML would fold) is handed to PyYAML whole, so the text is
always PyYAML's (property-tested against `yaml.dump`).
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from ..patterns import lazy

_STR_TAG = "tag:yaml.org,2002:str"
# no indicator first, none of `: `, ` #`, no space at all: PyYAML writes these plain unless
# its resolver reads them as another type (`true`, `1.5`, `~`, a date …)
_SIMPLE_PLAIN = lazy(r"[A-Za-z0-9_/(][A-Za-z0-9_./()@+=~$^-]*(?::[A-Za-z0-9_./()@+=~$^-]+)*")
_SIMPLE_KEY_LIMIT = 128  # PyYAML writes a longer key as `? key`


class _Unsupported(Exception):
    """A value this module does not lay out; PyYAML writes the whole document."""


def dump(data: dict[str, Any], width: int) -> str:
    """`yaml.dump(data, Dumper=CSafeDumper, sort_keys=False, default_flow_style=False,
    allow_unicode=True, width=WIDTH)` for a non-empty mapping."""
    out: list[str] = []
    try:
        if not isinstance(data, dict) or not data:
            raise _Unsupported
        _mapping(data, 0, "", out, width)
    except _Unsupported:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=width)
    out.append("")
    return "\n".join(out)


def _mapping(data: dict[str, Any], indent: int, first: str, out: list[str], width: int) -> None:
    """Lines of a block mapping at INDENT; its first line starts with FIRST (a `- ` of the list
    holding it) instead of the indentation."""
    pad = " " * indent
    lead = first or pad
    for key, value in data.items():
        if not isinstance(key, str):
            raise _Unsupported
        text = _scalar(key, True)
        head = f"{lead}{text}:"
        lead = pad
        if isinstance(value, dict):
            if value:
                out.append(head)
                _mapping(value, indent + 2, "", out, width)
            else:
                out.append(head + " {}")
        elif isinstance(value, list):
            if value:
                out.append(head)
                _sequence(value, indent, out, width)  # PyYAML does not indent a list in a mapping
            else:
                out.append(head + " []")
        else:
            out.append(_fits(f"{head} {_value(value)}", width))


def _sequence(items: list[Any], indent: int, out: list[str], width: int, first: str = "") -> None:
    """Lines of a block sequence at INDENT; its first line starts with FIRST (the `- ` of the list
    holding it: `- - a`, as PyYAML writes a client certificate pair) instead of the indentation."""
    pad = " " * indent
    lead = first or pad
    for item in items:
        dash = lead + "- "
        lead = pad
        if isinstance(item, dict):
            if item:
                _mapping(item, indent + 2, dash, out, width)
            else:
                out.append(dash + "{}")
        elif isinstance(item, list):
            if item:
                _sequence(item, indent + 2, out, width, dash)
            else:
                out.append(dash + "[]")
        else:
            out.append(_fits(dash + _value(item), width))


def _fits(line: str, width: int) -> str:
    """LINE, unless PyYAML would fold it (it breaks a scalar at a space past the width)."""
    if len(line) > width and " " in line.lstrip(" -"):
        raise _Unsupported
    return line


def _value(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _scalar(value, False)
    raise _Unsupported


@functools.lru_cache(maxsize=65536)
def _scalar(text: str, key: bool) -> str:
    """TEXT as PyYAML writes it as a key (KEY) or a value in block context: plain or 'quoted'."""
    if key and len(text) >= _SIMPLE_KEY_LIMIT:
        raise _Unsupported
    if _SIMPLE_PLAIN.fullmatch(text) and _resolves_to_str(text):
        return text
    if not text.isascii() or not text.isprintable():
        raise _Unsupported
    analysis = _analyze(text)
    if analysis.multiline:
        raise _Unsupported
    if (_resolves_to_str(text) and not (key and analysis.empty) and analysis.allow_block_plain):
        return text
    if analysis.allow_single_quoted:
        return "'" + text.replace("'", "''") + "'"
    raise _Unsupported


def _resolves_to_str(text: str) -> bool:
    resolver = _resolver()
    table = resolver.yaml_implicit_resolvers  # implicit types by first character (None: any)
    if text[:1] not in table and None not in table:  # no implicit type starts so: a string
        return True
    return resolver.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG


@functools.lru_cache(maxsize=1)
def _resolver() -> yaml.resolver.Resolver:
    return yaml.resolver.Resolver()


def _analyze(text: str) -> yaml.emitter.ScalarAnalysis:
    return yaml.emitter.Emitter.analyze_scalar(_emitter(), text)


@functools.lru_cache(maxsize=1)
def _emitter() -> yaml.emitter.Emitter:
    import io

    return yaml.emitter.Emitter(io.StringIO(), allow_unicode=True)
