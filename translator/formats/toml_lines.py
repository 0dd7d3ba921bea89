"""Line numbers for TOML keys and tables, which tomllib does not report.

Messages name `file:line`; this scanner maps each dotted key path (tables and keys) to the
line it first appears on. It only has to be right for well-formed files (tomllib has
already accepted the text) and must never fail: anything it cannot follow is skipped.
"""

from __future__ import annotations

import contextlib

from ..record import record

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


@record
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


def string_values(text: str) -> list[tuple[tuple[str, ...], int, int]]:
    """(key path, start, end) of every string value in the TOML TEXT, in order: in tables, array
    tables, dotted keys, inline tables and arrays (an array's strings under the array's key),
    in all four string spellings. For text tomllib accepts; raises ValueError where it cannot
    follow the text."""
    return _Strings(text).scan()


class _Strings:
    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[tuple[tuple[str, ...], int, int]] = []

    def scan(self) -> list[tuple[tuple[str, ...], int, int]]:
        text = self.text
        table: tuple[str, ...] = ()
        i = 0
        n = len(text)
        while i < n:
            i = self.space(i, newlines=True)
            if i >= n:
                break
            if text[i] == "[":
                array = text.startswith("[[", i)
                parts, end = self.key(i + (2 if array else 1))
                close = text.find("]", end)
                if close == -1:
                    raise ValueError("unclosed table header")
                table = tuple(parts)
                i = self.line_end(close + (2 if array else 1))
                continue
            parts, i = self.key(i)
            if not parts or i >= n or text[i] != "=":
                raise ValueError("expected a key and '='")
            i = self.value(table + tuple(parts), i + 1)
            i = self.line_end(i)
        return self.found

    def space(self, i: int, newlines: bool) -> int:
        text = self.text
        n = len(text)
        while i < n:
            c = text[i]
            if c in " \t" or (newlines and c in "\r\n"):
                i += 1
            elif c == "#" and newlines:
                end = text.find("\n", i)
                i = n if end == -1 else end + 1
            else:
                break
        return i

    def line_end(self, i: int) -> int:
        """Past the rest of the line (spaces and a comment) at I."""
        i = self.space(i, newlines=False)
        if i < len(self.text) and self.text[i] == "#":
            end = self.text.find("\n", i)
            return len(self.text) if end == -1 else end + 1
        return i

    def key(self, i: int) -> tuple[list[str], int]:
        end = self.text.find("\n", i)
        end = len(self.text) if end == -1 else end
        parts, used = _parse_key(self.text[i:end])
        return parts, i + used

    def string_end(self, i: int) -> int:
        text = self.text
        for delim in ('"""', "'''"):
            if text.startswith(delim, i):
                j = i + 3
                while True:
                    close = text.find(delim, j)
                    if close == -1:
                        raise ValueError("unclosed multi-line string")
                    if delim == '"""' and _escaped(text, close):
                        j = close + 1
                        continue
                    end = close + 3
                    while end < len(text) and text[end] == delim[0] and end - close < 5:
                        end += 1  # up to two quotes may end the content
                    return end
        quote = text[i]
        j = i + 1
        while j < len(text) and text[j] != quote and text[j] != "\n":
            j += 2 if quote == '"' and text[j] == "\\" else 1
        if j >= len(text) or text[j] != quote:
            raise ValueError("unclosed string")
        return j + 1

    def value(self, path: tuple[str, ...], i: int) -> int:
        text = self.text
        i = self.space(i, newlines=False)
        if i >= len(text):
            raise ValueError("missing value")
        c = text[i]
        if c in "\"'":
            end = self.string_end(i)
            self.found.append((path, i, end))
            return end
        if c == "[":
            i += 1
            while True:
                i = self.space(i, newlines=True)
                if i >= len(text):
                    raise ValueError("unclosed array")
                if text[i] == "]":
                    return i + 1
                i = self.value(path, i)
                i = self.space(i, newlines=True)
                if i < len(text) and text[i] == ",":
                    i += 1
        if c == "{":
            i += 1
            while True:
                i = self.space(i, newlines=False)
                if i >= len(text):
                    raise ValueError("unclosed inline table")
                if text[i] == "}":
                    return i + 1
                parts, i = self.key(i)
                if not parts or i >= len(text) or text[i] != "=":
                    raise ValueError("expected a key in an inline table")
                i = self.value(path + tuple(parts), i + 1)
                i = self.space(i, newlines=False)
                if i < len(text) and text[i] == ",":
                    i += 1
        j = i
        while j < len(text) and text[j] not in ",]}\n#":
            j += 1
        return j


def _escaped(text: str, at: int) -> bool:
    """True when the quote at AT is escaped by an odd number of backslashes."""
    count = 0
    while at - count - 1 >= 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def deepest(text: str, limit: int) -> tuple[int, int]:
    """How deep TEXT nests (table and key components, arrays and inline tables together) and
    the line where it first goes deeper than LIMIT; stops there. Strings and comments do not
    count. Never fails: text it cannot follow counts as it is."""
    n = len(text)
    line = 1
    table = 0
    brackets: list[str] = []
    stack: list[int] = []        # per open bracket: 1 + the key components that opened it
    pending = 0                  # components of the key whose value is being read
    at_key = True                # a key may start here (line start, or in an inline table)
    worst = 0
    i = 0
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            if not stack:
                pending, at_key = 0, True
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            i = _line_end(text, i)
            continue
        if c == "[" and not stack and at_key:
            array = text.startswith("[[", i)
            start = i + (2 if array else 1)
            parts, used = _parse_key(text[start:_line_end(text, start)])
            table = len(parts)
            i = start + max(used, 1)
            pending, at_key = 0, False
        elif at_key and c not in "[{]},=":
            parts, used = _parse_key(text[i:_line_end(text, i)])
            pending, at_key = len(parts), False
            i += max(used, 1)
        elif c in "\"'":
            end = _skip_string(text, i)
            line += text.count("\n", i, end)
            i = end
        elif c in "[{":
            brackets.append(c)
            stack.append(1 + pending)
            pending = 0
            at_key = c == "{"
            i += 1
        elif c in "]}":
            if stack:
                brackets.pop()
                stack.pop()
            at_key = False
            i += 1
        elif c == ",":
            pending = 0
            at_key = bool(brackets) and brackets[-1] == "{"
            i += 1
        else:
            at_key = False if c == "=" else at_key
            i += 1
        depth = table + sum(stack) + pending
        if depth > worst:
            worst = depth
            if worst > limit:
                return worst, line
    return worst, line


def _skip_string(text: str, i: int) -> int:
    """Past the string starting at I (any of the four spellings; an unclosed one ends the text)."""
    n = len(text)
    for delim in ('"""', "'''"):
        if text.startswith(delim, i):
            j = i + 3
            while True:
                close = text.find(delim, j)
                if close == -1:
                    return n
                if delim == '"""' and _escaped(text, close):
                    j = close + 1
                    continue
                return close + 3
    quote = text[i]
    j = i + 1
    while j < n and text[j] != quote and text[j] != "\n":
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return min(j + 1, n)


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end == -1 else end
