"""What the tool prints, and how it looks on a terminal.

Every line goes through `secrets.redact` on its way out. Colour is added here, at the very end,
and only when the stream is a terminal, `NO_COLOR` is unset (any value disables it,
https://no-color.org) and `--no-color` was not given: a pipe, a file or a CI log gets exactly
the plain text the renderers produced, at no extra cost. Renderers never colour anything.

Roles and their colours: `error` red, `warning` yellow, `info` cyan, diff additions green and
removals red, hunk headers cyan, headings bold.
"""

from __future__ import annotations

import os
import sys
from typing import IO

from . import secrets
from .patterns import lazy

_disabled = False

_SGR = {"error": "1;31", "warning": "33", "info": "36", "added": "32", "removed": "31", "changed": "33",
        "hunk": "36", "heading": "1", "ok": "32"}

_SEVERITY = lazy(r"^(error|warning|info|note)(?=: )")
_CHECK_LINE = lazy(r"^(error|warning|info)(: .*?\[)([\w-]+)(\].*)$")
_LOSS_KIND = lazy(r"^(\s+)(added|removed|changed)(\s)")


def disable() -> None:
    """`--no-color`."""
    global _disabled
    _disabled = True


def colour_on(stream: IO[str]) -> bool:
    if _disabled or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, role: str) -> str:
    return f"\x1b[{_SGR[role]}m{text}\x1b[0m"


def _colour_line(line: str, kind: str) -> str:
    """LINE of output of KIND (`diff` for unified diffs, `report` for everything else) in colour."""
    if kind == "diff":
        if line.startswith(("+++", "---")):
            return paint(line, "heading")
        if line.startswith("+"):
            return paint(line, "added")
        if line.startswith("-"):
            return paint(line, "removed")
        if line.startswith("@@"):
            return paint(line, "hunk")
        return line
    match = _CHECK_LINE.match(line)
    if match:
        severity, middle, code, rest = match.groups()
        return paint(severity, severity) + middle + paint(code, severity) + rest
    match = _SEVERITY.match(line)
    if match:
        word = match.group(1)
        return paint(word, "info" if word == "note" else word) + line[len(word):]
    match = _LOSS_KIND.match(line)
    if match:
        indent, word, space = match.groups()
        return indent + paint(word, word) + space + line[match.end():]
    return line


def _emit(stream: IO[str], text: str, kind: str) -> None:
    text = secrets.redact(text)
    if text and kind != "plain" and colour_on(stream):
        text = "".join(_colour_line(line, kind) + ("\n" if end else "")
                       for line, end in _lines(text))
    stream.write(text)
    stream.flush()


def _lines(text: str) -> list[tuple[str, bool]]:
    parts = text.split("\n")
    return [(part, index < len(parts) - 1) for index, part in enumerate(parts) if part or index < len(parts) - 1]


def out(text: str, kind: str = "report") -> None:
    """TEXT on standard output (KIND `diff` colours a unified diff; `plain` is never coloured: JSON,
    YAML, markdown)."""
    _emit(sys.stdout, text, kind)


def err(text: str, kind: str = "report") -> None:
    """TEXT on standard error: messages, warnings, loss reports."""
    _emit(sys.stderr, text, kind)


def out_raw(text: str) -> None:
    """TEXT on standard output as it is: a payload (a converted file) keeps its real values and gets
    no colour, so that `convert > file` writes exactly what `-o file` would."""
    sys.stdout.write(text)
    sys.stdout.flush()
