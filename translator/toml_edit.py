"""Editing TOML text line by line: every line that is not removed or added stays byte for byte.

A containerd config.toml is edited in place on a node, and a reviewer reads the diff: so a
migration must show exactly the tables it removes and the keys it adds. tomlkit keeps most
formatting but re-renders a table whose neighbour it removes; this editor works on the
lines tomllib already accepted (positions from `formats.toml_lines`), and its callers parse
the result and compare it with what they meant before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable

from .formats import toml_lines, toml_out

Path = tuple[str, ...]


class Document:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        #: the file's own line ending, for the lines added to it (a CRLF file stays CRLF)
        ended = [line for line in self.lines if line.endswith("\n")]
        self.newline = "\r\n" if ended and all(line.endswith("\r\n") for line in ended) else "\n"
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += self.newline
        self.entries = toml_lines.scan(text)
        self.deleted: set[int] = set()
        self.inserted: dict[int, list[str]] = {}
        self.replaced: dict[int, str] = {}
        self.first_removed: int | None = None

    # -- reading ----------------------------------------------------------------------------
    def tables(self) -> list[toml_lines.Entry]:
        return [e for e in self.entries if e.kind != "key"]

    def table_span(self, table: toml_lines.Entry) -> tuple[int, int]:
        """Line indexes (0-based, end exclusive) of TABLE's header and body; comments and blank
        lines just before the next header belong to that header."""
        start = table.start - 1
        following = [t.start - 1 for t in self.tables() if t.start > table.start]
        end = following[0] if following else len(self.lines)
        while end > start + 1:
            stripped = self.lines[end - 1].strip()
            if stripped and not stripped.startswith("#"):
                break
            end -= 1
        return start, end

    def header(self, path: Path) -> toml_lines.Entry | None:
        for entry in self.tables():
            if entry.path == path and entry.kind == "table":
                return entry
        return None

    def key(self, path: Path) -> toml_lines.Entry | None:
        for entry in self.entries:
            if entry.kind == "key" and entry.path == path:
                return entry
        return None

    def key_indent(self, table: toml_lines.Entry) -> str:
        start, end = self.table_span(table)
        for entry in self.entries:
            if entry.kind == "key" and start < entry.start - 1 < end:
                return entry.indent
        return table.indent + "  " if table.indent else ""

    # -- editing ----------------------------------------------------------------------------
    def _delete(self, start: int, end: int) -> None:
        self.deleted.update(range(start, end))
        before = start - 1
        while before >= 0 and before in self.deleted:
            before -= 1
        if (end < len(self.lines) and not self.lines[end].strip()
                and (before < 0 or not self.lines[before].strip())):
            self.deleted.add(end)  # no double blank line where a table was
        if self.first_removed is None or start < self.first_removed:
            self.first_removed = start

    def remove(self, matches: Callable[[Path], bool]) -> int:
        """Remove every table and key whose path MATCHES; the number removed."""
        count = 0
        for entry in self.entries:
            if not matches(entry.path):
                continue
            if entry.kind == "key":
                self._delete(entry.start - 1, entry.end)
            else:
                self._delete(*self.table_span(entry))
            count += 1
        return count

    def insert(self, index: int, lines: list[str]) -> None:
        self.inserted.setdefault(index, []).extend(line + self.newline for line in lines)

    def set_key(self, table_path: Path, name: str, value: object, anchor: int | None = None) -> None:
        """Set TABLE_PATH.NAME = VALUE: the existing assignment is replaced in place; otherwise the
        key goes first into the table's header, or a new table is made at ANCHOR."""
        existing = self.key((*table_path, name))
        if existing is not None:
            line = existing.indent + toml_out.assignment(name, value)
            self.replaced[existing.start - 1] = line + self.newline
            self.deleted.update(range(existing.start, existing.end))
            return
        table = self.header(table_path)
        if table is not None:
            self.insert(table.start, [self.key_indent(table) + toml_out.assignment(name, value)])
            return
        self.add_table(table_path, {name: value}, anchor)

    def add_table(self, path: Path, items: dict[str, object], anchor: int | None = None,
                  indent: str = "") -> None:
        at = len(self.lines) if anchor is None else anchor
        lines = [indent + toml_out.header(*path)]
        lines += [indent + ("  " if indent else "") + toml_out.assignment(k, v) for k, v in items.items()]
        self.insert(at, lines)

    def text(self) -> str:
        out: list[str] = []
        for index, line in enumerate(self.lines):
            out.extend(self.inserted.get(index, []))
            if index in self.replaced:
                out.append(self.replaced[index])
            elif index not in self.deleted:
                out.append(line)
        out.extend(self.inserted.get(len(self.lines), []))
        return "".join(out)
