"""Loading YAML safely: libyaml's C parser, line numbers kept, and limits enforced.

The registries.yaml reader walks the composed node tree itself (it needs line numbers and
gopkg.in/yaml.v2's typing), so this module only has to hand it a tree it can trust:
- nesting depth is checked before libyaml composes (its C composer recurses and crashes on
  ~100,000 nested brackets);
- duplicate mapping keys are refused, as k3s refuses them;
- alias expansion is counted, so a "billion laughs" document fails fast instead of expanding.
"""

from __future__ import annotations

import re

import yaml

from ..errors import InputError
from ..patterns import lazy

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_DEPTH = 200
MAX_EXPANDED_NODES = 1_000_000

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MERGE = "tag:yaml.org,2002:merge"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"


_DEEP_INDENT = lazy(rf"^[ \t]{{{MAX_DEPTH * 8},}}", re.M)


def _check_depth(text: str, name: str) -> None:
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth = deepest = 0
        for ch in text:
            if ch in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif ch in "]}":
                depth -= 1
        if deepest > MAX_DEPTH:
            raise InputError(f"YAML nests more than {MAX_DEPTH} levels deep", file=name,
                             fix="a registries.yaml needs only a few levels")
    # a run of that many spaces (or any tab) must be there first: the pattern is compiled only then
    if (" " * (MAX_DEPTH * 8) in text or "\t" in text) and _DEEP_INDENT.search(text):
        raise InputError(f"YAML is indented more than {MAX_DEPTH * 8} columns", file=name)


def compose(text: str, name: str) -> yaml.Node | None:
    """The node tree of a single YAML document, or None for an empty one."""
    _check_depth(text, name)
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line = _error_line(exc, text)
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", file=name, line=line,
                         fix="fix the YAML syntax (quote values that contain ':' or '#')",
                         code="syntax-error") from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {type(exc).__name__}", file=name, code="syntax-error") from None
    except RecursionError:
        raise InputError("YAML nests too deeply", file=name) from None


def _error_line(exc: yaml.MarkedYAMLError, text: str) -> int | None:
    """The line that is wrong, not the one where libyaml noticed it: for an unclosed quote, bracket or
    a key without ':' that is where the construct started (the context mark); otherwise the problem
    mark, moved back from the end of the file to its last line that has content."""
    context = exc.context or ""
    mark = exc.problem_mark
    if exc.context_mark is not None and ("scanning" in context or "flow" in context):
        mark = exc.context_mark
    mark = mark or exc.context_mark
    if mark is None:
        return None
    lines = text.splitlines()
    line = mark.line
    while line >= len(lines) or (line > 0 and mark is exc.problem_mark and mark.column == 0
                                 and not lines[line].strip()):
        line -= 1
        if line < 0:
            return 1
    return line + 1


class Budget:
    """Counts nodes visited while walking, aliases counted each time they are used."""

    def __init__(self, name: str, limit: int = MAX_EXPANDED_NODES) -> None:
        self.name = name
        self.left = limit

    def spend(self, node: yaml.Node) -> None:
        self.left -= 1
        if self.left < 0:
            raise InputError(f"YAML expands to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?)",
                             file=self.name, line=line_of(node),
                             fix="write the values out instead of nesting aliases")


def line_of(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None and node.start_mark is not None else None


def mapping_items(node: yaml.MappingNode, name: str, budget: Budget) -> list[tuple[yaml.Node, yaml.Node]]:
    """The (key, value) pairs of a mapping, merge keys (`<<`) applied, duplicate keys refused."""
    budget.spend(node)
    explicit: list[tuple[yaml.Node, yaml.Node]] = []
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    for key, value in node.value:
        if key.tag == MERGE:
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise InputError("a merge key (<<) must refer to a mapping", file=name,
                                     line=line_of(source))
                merged.extend(mapping_items(source, name, budget))
            continue
        explicit.append((key, value))
    seen: dict[str, int | None] = {}
    for key, _value in explicit:
        text = key.value if isinstance(key, yaml.ScalarNode) else None
        if text is None:
            raise InputError("a mapping key must be a plain value", file=name, line=line_of(key))
        if text in seen:
            raise InputError(f"duplicate key {text!r} (first on line {seen[text]})", file=name,
                             line=line_of(key), fix="remove one of the two entries")
        seen[text] = line_of(key)
    result = list(explicit)
    for key, value in merged:
        text = key.value if isinstance(key, yaml.ScalarNode) else None
        if text not in seen:
            seen[text] = line_of(key)  # type: ignore[index]
            result.append((key, value))
    return result
