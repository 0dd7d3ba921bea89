"""JSON input for crictl-info and docker-daemon: parse errors with their line, and the line of
every key (the json module reports neither), so messages can name `file:line`.

The scanner only has to be right for text `json.loads` accepted, and never fails: anything it
cannot follow is skipped. Paths are tuples of keys; array elements are numbered ("0", "1", ...).
"""

from __future__ import annotations

import json

from ..errors import InputError


def parse(text: str, name: str) -> object:
    """The JSON value of TEXT, or an InputError at the line json reports."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=name, line=exc.lineno) from None
    except RecursionError:
        raise InputError("nests too deeply", file=name) from None


def _string_end(text: str, i: int) -> int:
    """The index just past the JSON string that starts at TEXT[i] (a quote)."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    return n


def index(text: str) -> dict[tuple[str, ...], int]:
    """{key path: line} for every object key and array element of a well-formed JSON TEXT."""
    lines: dict[tuple[str, ...], int] = {}
    stack: list[list] = []  # [kind, path, next array index or pending key]
    line = 1
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c == '"':
            end = _string_end(text, i)
            top = stack[-1] if stack else None
            rest = text[end:end + 40].lstrip(" \t\r\n")
            if top is not None and top[0] == "{" and rest.startswith(":"):
                try:
                    key = json.loads(text[i:end])
                except ValueError:
                    key = text[i + 1:end - 1]
                top[2] = key
                lines.setdefault((*top[1], key), line)
            elif top is not None and top[0] == "[":
                lines.setdefault((*top[1], str(top[2])), line)
            line += text.count("\n", i, end)
            i = end
            continue
        if c in "{[":
            top = stack[-1] if stack else None
            path: tuple[str, ...] = ()
            if top is not None:
                path = (*top[1], str(top[2])) if top[2] is not None else top[1]
                if top[0] == "[":
                    lines.setdefault(path, line)
            stack.append([c, path, 0 if c == "[" else None])
        elif c in "}]":
            if stack:
                stack.pop()
        elif c == "," and stack and stack[-1][0] == "[":
            stack[-1][2] += 1
        elif c == "," and stack:
            stack[-1][2] = None
        i += 1
    return lines


def line_of(lines: dict[tuple[str, ...], int], *path: str) -> int | None:
    """The line of PATH, or of its nearest enclosing key that has one."""
    for size in range(len(path), 0, -1):
        if path[:size] in lines:
            return lines[path[:size]]
    return None
