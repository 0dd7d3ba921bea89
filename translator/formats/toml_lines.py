"""Line numbers for TOML keys and tables, which tomllib does not report.

Messages name `file:line`; this scanner maps each dotted key path (tables and keys) to the
line it first appears on. It only has to be right for well-formed files (tomllib has
already accepted the text) and must never fail: anything it cannot follow is skipped.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ..compat import SLOTS

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def _parse_key(text: str) -> tuple[list[str], int]:
    """The parts of a dotted key at the start of TEXT, and where the key ends."""
    parts: list[str] = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return parts, i
        c = text[i]
        if c == '"':
            i += 1
            out = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    esc = text[i + 1]
                    if esc in _ESCAPES:
                        out.append(_ESCAPES[esc])
                        i += 2
                        continue
                    if esc in "uU":
                        width = 4 if esc == "u" else 8
                        with contextlib.suppress(ValueError):
                            out.append(chr(int(text[i + 2:i + 2 + width], 16)))
                        i += 2 + width
                        continue
                out.append(text[i])
                i += 1
            parts.append("".join(out))
            i += 1
        elif c == "'":
            end = text.find("'", i + 1)
            end = n if end == -1 else end
            parts.append(text[i + 1:end])
            i = end + 1
        elif c in _BARE:
            start = i
            while i < n and text[i] in _BARE:
                i += 1
            parts.append(text[start:i])
        else:
            return parts, i
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return parts, i


def _value_state(rest: str) -> tuple[int, str | None]:
    """Bracket depth left open by a value, and an unclosed multi-line string delimiter."""
    depth = 0
    i = 0
    n = len(rest)
    while i < n:
        c = rest[i]
        if rest.startswith('"""', i) or rest.startswith("'''", i):
            delim = rest[i:i + 3]
            end = rest.find(delim, i + 3)
            if end == -1:
                return depth, delim
            i = end + 3
            continue
        if c in "\"'":
            end = i + 1
            while end < n and rest[end] != c:
                end += 2 if c == '"' and rest[end] == "\\" else 1
            i = end + 1
            continue
        if c == "#":
            break
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth, None


@dataclass(frozen=True, **SLOTS)
class Entry:
    """A table header or a key assignment: its full key path and its lines (1-based, inclusive)."""

    kind: str            # "table", "array-table" or "key"
    path: tuple[str, ...]
    start: int
    end: int
    indent: str


def scan(text: str) -> list[Entry]:
    """Every table header and key assignment of TEXT, in order."""
    entries: list[Entry] = []
    table: tuple[str, ...] = ()
    open_string: str | None = None
    depth = 0
    pending: tuple[tuple[str, ...], int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if open_string is not None or depth > 0:
            rest = raw
            if open_string is not None:
                close = raw.find(open_string)
                if close == -1:
                    continue
                rest = raw[close + 3:]
                open_string = None
            more, open_string = _value_state(rest)
            depth += more
            if pending is not None and open_string is None and depth <= 0:
                entries.append(Entry("key", pending[0], pending[1], number, pending[2]))
                pending = None
                depth = 0
            continue
        line = raw.strip()
        indent = raw[:len(raw) - len(raw.lstrip())]
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            array = line.startswith("[[")
            parts, _ = _parse_key(line[2:] if array else line[1:])
            table = tuple(parts)
            entries.append(Entry("array-table" if array else "table", table, number, number, indent))
            continue
        parts, end = _parse_key(line)
        if not parts or end >= len(line) or line[end] != "=":
            continue
        depth, open_string = _value_state(line[end + 1:])
        if open_string is not None or depth > 0:
            pending = (table + tuple(parts), number, indent)
        else:
            depth = 0
            entries.append(Entry("key", table + tuple(parts), number, number, indent))
    return entries


def key_parts(line: str) -> list[str]:
    """The parts of the key assigned on LINE (`a."b.c" = 1` -> ["a", "b.c"])."""
    return _parse_key(line.strip())[0]


def index(text: str) -> dict[tuple[str, ...], int]:
    """{key path: first line} for every table header and key assignment in TEXT."""
    lines: dict[tuple[str, ...], int] = {}
    for entry in scan(text):
        if entry.kind == "key":
            for size in range(1, len(entry.path) + 1):
                lines.setdefault(entry.path[:size], entry.start)
        else:
            lines.setdefault(entry.path, entry.start)
    return lines


def line_of(lines: dict[tuple[str, ...], int], *path: str) -> int | None:
    """The line of PATH, or of its nearest enclosing table or key that has one."""
    for size in range(len(path), 0, -1):
        if path[:size] in lines:
            return lines[path[:size]]
    return None
