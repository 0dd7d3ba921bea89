"""Rendering changes for people and scripts: loss reports, diffs and findings, secrets masked.

Text is for a terminal, JSON follows SPEC.md's shape exactly, markdown is for a pull-request
comment. Every value passes through `secrets.mask_at` and every line through
`secrets.redact` before it is returned.
"""

from __future__ import annotations

from . import secrets
from .errors import Problem
from .model import Change


def masked(change: Change) -> dict[str, object]:
    return {"path": change.path, "kind": change.kind,
            "before": secrets.mask_at(change.path, change.before),
            "after": secrets.mask_at(change.path, change.after),
            "reason": change.reason}


def as_json(changes: list[Change]) -> str:
    import json  # here and below: only a run that prints JSON or a value loads the json module

    document = {"lossless": not changes, "changes": [masked(c) for c in changes]}
    return secrets.redact(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _short(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict) and set(value) >= {"capabilities", "ca", "client"}:
        return "(endpoint)"
    text = json_text(value)
    return text if len(text) <= 120 else text[:117] + "..."


def json_text(value: object) -> str:
    """`json.dumps(value, ensure_ascii=False)`, written here for the values a loss report shows
    (strings, lists of them, booleans): importing json costs a conversion 1.5 ms of start-up."""
    if isinstance(value, str):
        if '"' not in value and "\\" not in value and (value.isprintable() or not _needs_escape(value)):
            return f'"{value}"'
    elif value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    elif type(value) is int:
        return str(value)
    elif isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_text(item) for item in value) + "]"
    elif isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return "{" + ", ".join(f"{json_text(key)}: {json_text(item)}" for key, item in value.items()) + "}"
    import json

    return json.dumps(value, ensure_ascii=False)


def _needs_escape(text: str) -> bool:
    """Whether json escapes a character of TEXT with ensure_ascii=False: only control characters."""
    return any(ord(char) < 0x20 for char in text)


def loss_text(changes: list[Change], source: str, target: str) -> str:
    if not changes:
        return ""
    lines = [f"registries-translator: {source} -> {target} changes or loses {len(changes)} "
             f"thing{'s' if len(changes) != 1 else ''}:"]
    for change in changes:
        shown = masked(change)
        lines.append(f"  {change.kind:<8} {change.path}: {_short(shown['before'])} -> {_short(shown['after'])}")
        lines.append(f"           {change.reason}")
    return secrets.redact("\n".join(lines)) + "\n"


def loss_markdown(changes: list[Change], source: str, target: str) -> str:
    if not changes:
        return f"**registries-translator**: `{source}` -> `{target}` is lossless.\n"
    lines = [f"**registries-translator**: `{source}` -> `{target}` changes or loses {len(changes)} "
             f"thing{'s' if len(changes) != 1 else ''}.", "", "| change | path | reason |", "|---|---|---|"]
    for change in changes:
        lines.append(f"| {change.kind} | `{change.path}` | {change.reason} |")
    return secrets.redact("\n".join(lines)) + "\n"


def problems_text(problems: list[Problem] | tuple[Problem, ...]) -> str:
    return "".join(secrets.redact(p.text()) + "\n" for p in problems)


def summary(problems: list[Problem] | tuple[Problem, ...]) -> str:
    counts = {s: sum(1 for p in problems if p.severity == s) for s in ("error", "warning", "info")}
    return f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)\n"


def problems_json(problems: list[Problem] | tuple[Problem, ...],
                  statistics: list[tuple[str, str, int]] | None = None) -> str:
    import json

    document: dict[str, object] = {"problems": [p.as_dict() for p in problems]}
    if statistics is not None:
        document["statistics"] = [{"code": c, "severity": s, "count": n} for c, s, n in statistics]
    return secrets.redact(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def statistics_text(statistics: list[tuple[str, str, int]]) -> str:
    """One line per code, most frequent first, as `ruff --statistics` prints them."""
    if not statistics:
        return "no problems\n"
    width = max(len(str(n)) for _c, _s, n in statistics)
    code_width = max(len(c) for c, _s, _n in statistics)
    return "".join(f"{n:>{width}}  {c:<{code_width}}  {s}\n" for c, s, n in statistics)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def problems_markdown(problems: list[Problem] | tuple[Problem, ...]) -> str:
    """The problems as a pull-request comment: a summary line and a table."""
    if not problems:
        return "**registries-translator check**: no problems found.\n"
    head = summary(problems).strip()
    lines = [f"**registries-translator check**: {head}.", "", "| severity | where | code | problem | fix |",
             "|---|---|---|---|---|"]
    for p in problems:
        lines.append(f"| {p.severity} | `{_cell(p.where)}` | `{p.code}` | {_cell(p.message)} | {_cell(p.fix)} |")
    return secrets.redact("\n".join(lines)) + "\n"
