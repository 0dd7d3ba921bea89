"""`check --upgrade-to`: what moving a node from one containerd release to another does to its pulls.

Each configuration is read twice, once as the current release reads it and once as the new one
does (translator/releases.py), and the two models are compared like `diff` compares two files:
every registry whose hosts, order, schemes, TLS or fallback change is named. The problems the
new release raises that the current one did not, and those the upgrade resolves, follow. This
is the report an operator reads before upgrading a fleet.
"""

from __future__ import annotations

import json

from . import check, formats, secrets
from .diff import DiffResult, compare_configs, render_markdown, render_text
from .errors import InputError, Problem
from .record import field, record
from .releases import Target


@record(mutable=True)
class FileUpgrade:
    path: str
    diff: DiffResult | None = None
    #: why the CRI plugin cannot use the file, before and after ("" when it can)
    unusable: tuple[str, str] = ("", "")
    new_problems: list[Problem] = field(default_factory=list)
    resolved_problems: list[Problem] = field(default_factory=list)
    #: the file cannot be read by one of the two releases: (before, after) error text
    refused: tuple[str, str] = ("", "")

    @property
    def changes_pulls(self) -> bool:
        return bool((self.diff and not self.diff.same) or self.unusable[0] != self.unusable[1]
                    or self.refused[0] != self.refused[1])


@record(mutable=True)
class UpgradeReport:
    current: Target
    new: Target
    files: list[FileUpgrade]

    @property
    def exit_code(self) -> int:
        """1 when pulls change or the new release raises an error, as `diff` and `check` do."""
        worse = any(p.severity == "error" for f in self.files for p in f.new_problems)
        return 1 if worse or any(f.changes_pulls for f in self.files) else 0


def _key(problem: Problem) -> tuple[str, str | None, int | None, str | None]:
    return (problem.code, problem.file, problem.line, problem.key)


def _read(path: str, fmt: str | None, target: Target) -> tuple[object, str]:
    try:
        return formats.read(path, fmt, formats.ReadOptions(target=target)), ""
    except InputError as exc:
        return None, str(exc)


def upgrade(paths: list[str], fmt: str | None, current: Target, new: Target) -> UpgradeReport:
    report = UpgradeReport(current, new, [])
    for path in paths:
        entry = FileUpgrade(path)
        before, before_error = _read(path, fmt, current)
        after, after_error = _read(path, fmt, new)
        entry.refused = (before_error, after_error)
        if before is not None and after is not None:
            entry.diff = compare_configs(before, after)  # type: ignore[arg-type]
            entry.unusable = (before.unusable, after.unusable)  # type: ignore[attr-defined]
        old = {_key(p): p for p in check.check_path(path, fmt, options=formats.ReadOptions(target=current))}
        now = {_key(p): p for p in check.check_path(path, fmt, options=formats.ReadOptions(target=new))}
        entry.new_problems = [p for k, p in now.items() if k not in old and p.severity != "info"]
        entry.resolved_problems = [p for k, p in old.items() if k not in now and p.severity != "info"]
        report.files.append(entry)
    return report


def _title(report: UpgradeReport) -> str:
    return f"containerd {report.current.release} -> {report.new.release}"


def render(report: UpgradeReport, fmt: str) -> str:
    if fmt == "json":
        return _json(report)
    markdown = fmt == "markdown"
    lines = [f"**registries-translator upgrade check**: {_title(report)}" if markdown
             else f"upgrade check: {_title(report)}"]
    for entry in report.files:
        lines.append("")
        lines.append(f"### `{entry.path}`" if markdown else f"{entry.path}:")
        bullet = "- " if markdown else "  "
        before_error, after_error = entry.refused
        if before_error != after_error:
            if after_error:
                lines.append(f"{bullet}after the upgrade the file is refused: {after_error}")
            else:
                lines.append(f"{bullet}the upgrade reads a file that was refused before: {before_error}")
        old_unusable, new_unusable = entry.unusable
        if new_unusable and not old_unusable:
            lines.append(f"{bullet}after the upgrade no CRI pull works: {new_unusable}")
        elif old_unusable and not new_unusable:
            lines.append(f"{bullet}the upgrade makes CRI pulls work again (before: {old_unusable})")
        if entry.diff is not None and not entry.diff.same:
            label_a, label_b = f"{entry.path} on {report.current.release}", f"{entry.path} on {report.new.release}"
            body = render_markdown(entry.diff, label_a, label_b) if markdown else render_text(entry.diff, label_a,
                                                                                           label_b)
            lines.extend(("" if markdown else "  ") + line for line in body.rstrip("\n").splitlines())
        elif not entry.changes_pulls:
            lines.append(f"{bullet}no change in where pulls go")
        for title, problems in (("new problems", entry.new_problems), ("resolved", entry.resolved_problems)):
            if problems:
                lines.append(f"{bullet}{title}:")
                for p in problems:
                    text = f"[{p.code}] {p.message}" + (f" ({p.where})" if p.where else "")
                    lines.append(("  - " if markdown else "    ") + (f"**{p.severity}** " if markdown else
                                                                      f"{p.severity}: ") + text)
    verdict = "pulls change or new errors appear" if report.exit_code else "no change in pulls, no new error"
    lines.append("")
    lines.append(f"**verdict**: {verdict}." if markdown else f"verdict: {verdict}")
    return secrets.redact("\n".join(lines)) + "\n"


def _json(report: UpgradeReport) -> str:
    from .report import masked

    document = {
        "from": str(report.current.release), "to": str(report.new.release),
        "files": [{
            "file": f.path,
            "pulls_change": f.changes_pulls,
            "changes": [masked(c) for c in (f.diff.changes if f.diff else [])],
            "unusable": {"before": f.unusable[0] or None, "after": f.unusable[1] or None},
            "refused": {"before": f.refused[0] or None, "after": f.refused[1] or None},
            "new_problems": [p.as_dict() for p in f.new_problems],
            "resolved_problems": [p.as_dict() for p in f.resolved_problems],
        } for f in report.files],
    }
    return secrets.redact(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
