"""Writing TOML for generated files: tomlkit escapes every key and string, and every file is
parsed back with tomllib and compared with the data it was meant to hold before it leaves.

Generated hosts.toml files are laid out like k3s's (a root table, a bare `[host]`, then one
`[host."<url>"]` table per endpoint with indented keys) and a fleet converts thousands of
them, so documents are assembled from tomlkit-rendered keys and values instead of building a
tomlkit document per file (ten times slower). The only thing quoted here is a string that needs
no escaping at all (plain printable ASCII); everything else is escaped by tomlkit, and the
round-trip check makes any structural difference a bug that stops the write.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..compat import tomllib
from ..errors import InputError
from ..patterns import lazy

# printable ASCII without `"` or a backslash: a TOML basic string holds it as it is (TOML 1.0, "Basic strings")
_PLAIN_STRING = lazy(r'[\x20\x21\x23-\x5b\x5d-\x7e]*')
_BARE_KEY = lazy(r"[A-Za-z0-9_\-]+")


def key(name: str) -> str:
    """A TOML key: bare when TOML allows it, quoted (and escaped by tomlkit) otherwise."""
    if _BARE_KEY.fullmatch(name):
        return name
    if _PLAIN_STRING.fullmatch(name):
        return f'"{name}"'
    return _escaped_key(name)


@lru_cache(maxsize=4096)
def _escaped_key(name: str) -> str:
    import tomlkit  # only where a key needs quoting: reading TOML never loads it

    return tomlkit.key(name).as_string()


def string(text: str) -> str:
    """A TOML basic string; tomlkit escapes anything beyond plain printable ASCII."""
    if _PLAIN_STRING.fullmatch(text):
        return f'"{text}"'
    return _escaped(text)


@lru_cache(maxsize=8192)
def _escaped(text: str) -> str:
    import tomlkit

    return tomlkit.item(text).as_string()


def value(data: object) -> str:
    """A TOML value for a string, a bool, or (nested) lists of them."""
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, str):
        return string(data)
    if isinstance(data, int):
        return str(data)
    if isinstance(data, (list, tuple)):
        return "[" + ", ".join(value(item) for item in data) + "]"
    raise TypeError(f"no TOML rendering for {type(data).__name__}")


def header(*parts: str) -> str:
    return "[" + ".".join(key(p) for p in parts) + "]"


def assignment(name: str, data: object, indent: str = "") -> str:
    return f"{indent}{key(name)} = {value(data)}"


def document(data: dict, comments: list[str] | tuple[str, ...] = ()) -> str:
    """A whole TOML document for nested plain DATA: root keys first, then one table per level
    that holds keys (or is empty), with its keys indented."""
    lines = list(comments)
    for name, item in data.items():
        if not isinstance(item, dict):
            lines.append(assignment(name, item))

    def walk(path: tuple[str, ...], table: dict) -> None:
        keys = [(k, v) for k, v in table.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
        if keys or not tables:
            lines.append("")
            lines.append(header(*path))
            lines.extend(assignment(k, v, "  ") for k, v in keys)
        for k, v in tables:
            walk((*path, k), v)

    for name, item in data.items():
        if isinstance(item, dict):
            walk((name,), item)
    return "\n".join(lines) + "\n"


class StructureError(RuntimeError):
    """A generated document does not parse back to the data it was built from (a bug)."""


# files this process generated and verified, parsed, until the conversion reads them back: each
# generated file is parsed once, however many there are (an LRU cache thrashed above its size, and
# kept what it no longer needed)
_handed_over: dict[str, dict] = {}
_HANDOVER_LIMIT = 2_000_000


def loads(text: str) -> dict:
    """tomllib.loads, or the tree of a generated TEXT verified earlier (handed over once: the
    second reader of the same text parses it again). Callers must not change the result."""
    tree = _handed_over.pop(text, None)
    return tree if tree is not None else tomllib.loads(text)


def hand_over(text: str, tree: dict) -> None:
    """TREE, parsed from TEXT by a caller that did not change it, for the next reader of TEXT (format
    detection parses a file before its reader does)."""
    if len(_handed_over) < _HANDOVER_LIMIT:
        _handed_over[text] = tree


def forget_handed_over() -> None:
    """Drop the parsed trees no reader took (a rendering that was never read back)."""
    _handed_over.clear()


MAX_DEPTH = 100


def _cannot_nest_deeply(text: str) -> bool:
    """Every level of nesting needs a `[`, `{` or `.`: too few of them in all of TEXT, and it cannot."""
    return text.count("[") + text.count("{") + text.count(".") <= MAX_DEPTH


def too_deep(text: str) -> int | None:
    """The line where TOML TEXT first nests deeper than MAX_DEPTH (tables, dotted keys, arrays and
    inline tables all count), or None."""
    if _cannot_nest_deeply(text):
        return None
    from .toml_lines import deepest

    depth, line = deepest(text, MAX_DEPTH)
    return line if depth > MAX_DEPTH else None


def check_depth(text: str, label: str, tree: dict | None = None) -> None:
    """Refuse TOML nesting deeper than MAX_DEPTH before a parser recurses into it (like YAML's
    bound in yaml_in.py). With TREE (TEXT already parsed), the tree's own depth decides when it is
    well inside the bound: the line-by-line scan that names the line is only for trees near it."""
    if _cannot_nest_deeply(text) or (tree is not None and _tree_depth(tree) <= MAX_DEPTH - _DEPTH_MARGIN):
        return
    line = too_deep(text)
    if line is not None:
        raise InputError(f"TOML nests too deeply (more than {MAX_DEPTH} levels)", file=label, line=line,
                         fix="a containerd config.toml or hosts.toml needs only a few levels")


# how much deeper TOML text can count than the tree it parses to (a header, its dotted keys and an
# inline table each open one level in both); the scan decides within this margin of the bound
_DEPTH_MARGIN = 5


def _tree_depth(tree: object) -> int:
    """How deeply tables and arrays nest in TREE, without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse(text: str, label: str) -> dict:
    """TEXT as TOML, or an InputError at the offending line (nesting too deep included)."""
    try:
        tree = loads(text)
    except tomllib.TOMLDecodeError as exc:
        check_depth(text, label)  # too deep is the error to report, wherever the syntax breaks
        raise toml_error(exc, label, text) from None
    except RecursionError:
        check_depth(text, label)  # names the line
        raise InputError("TOML nests too deeply", file=label) from None
    check_depth(text, label, tree)
    return tree


def verified(text: str, expected: dict) -> str:
    """TEXT, after checking that TOML parses it back to exactly EXPECTED."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a bug, never user input
        raise StructureError(f"generated TOML does not parse: {exc}") from None
    if parsed != expected:
        raise StructureError("generated TOML does not hold the data it was built from")
    hand_over(text, parsed)
    return text


def toml_error(exc: tomllib.TOMLDecodeError, label: str, text: str = "") -> InputError:
    """An InputError at the line tomllib names (the last line for "at end of document")."""
    message = str(exc)
    line = None
    match = re.search(r"\(at line (\d+), column \d+\)", message)
    if match:
        line = int(match.group(1))
        message = message[:match.start()].strip()
    elif "(at end of document)" in message:
        line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        message = message.replace("(at end of document)", "").strip() + " at the end of the file"
    return InputError(f"invalid TOML: {message}", file=label, line=line, code="syntax-error")
