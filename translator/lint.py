"""`check` as a linter: every problem in every file, chosen and silenced the way ruff does it.

- A file that cannot be read is itself a problem (`syntax-error`, `invalid-input`, …, with
  its line), and the other files are still checked; only a file that does not exist (or bad
  usage) makes the exit code 2.
- `--select` / `--ignore` choose codes; `# registries-translator: ignore[CODE,…]` on the
  line, or on a comment line just above it, silences one place (`ignore` alone: every code).
- Checks that depend on the node — a certificate file that must exist, a file mode — look
  under `--root` (the node's file system as seen from here). Without `--root`, in a git
  checkout they are notes (`info`): a repository is not the node, and git cannot store 0600.
"""

from __future__ import annotations

import os
import re
from collections import Counter

from . import check, files
from .errors import InputError, Problem
from .record import field, record, replace

#: problems whose truth depends on the node's file system, not on the configuration
NODE_CODES = frozenset({"missing-cert-file", "plaintext-password-world-readable"})

_IGNORE = re.compile(r"#\s*registries-translator:\s*ignore\b(?:\[([^\]]*)\])?")


@record
class LintOptions:
    fmt: str | None = None
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    #: the node's root file system as seen from here, for checks that depend on the node
    root: str | None = None
    #: how sources are read (formats.ReadOptions: --certs-dir, --docker-certs-dir)
    read: object = None


@record(mutable=True)
class LintResult:
    problems: list[Problem] = field(default_factory=list)
    #: files that do not exist: reported as `error:` lines, exit code 2
    missing: list[InputError] = field(default_factory=list)

    def exit_code(self, strict: bool) -> int:
        if self.missing:
            return 2
        return check.exit_code(self.problems, strict)


def in_git_checkout(path: str) -> bool:
    """True when PATH lies in a git work tree (a `.git` directory or file above it)."""
    directory = os.path.dirname(os.path.abspath(path)) if not files.is_dir(path) else os.path.abspath(path)
    while True:
        if files.exists(os.path.join(directory, ".git")):
            return True
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent


def _off_node(problem: Problem) -> Problem:
    return replace(problem, severity="info",
                   message=problem.message + " (a git checkout is not the node: check there, or pass --root)")


def _ignored_codes(text_lines: list[str], line: int) -> set[str] | None:
    """The codes an ignore comment silences at LINE (1-based): on the line itself, or on a comment
    line just above it. None: no comment; an empty set: every code."""
    found: set[str] | None = None
    candidates = [line - 1]
    if line >= 2 and text_lines[line - 2].lstrip().startswith("#"):
        candidates.append(line - 2)
    for index in candidates:
        if 0 <= index < len(text_lines):
            match = _IGNORE.search(text_lines[index])
            if match:
                codes = {c.strip() for c in (match.group(1) or "").split(",") if c.strip()}
                if not codes:
                    return set()
                found = (found or set()) | codes
    return found


class _Sources:
    """The text of each file a problem points at, read once, for ignore comments."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str] | None] = {}

    def get(self, path: str) -> list[str] | None:
        if path not in self.lines:
            try:
                self.lines[path] = files.read_text(path).splitlines() if not files.is_dir(path) else None
            except InputError:
                self.lines[path] = None
        return self.lines[path]


def silenced(problem: Problem, sources: _Sources) -> bool:
    if not problem.file or not problem.line:
        return False
    text_lines = sources.get(problem.file)
    if text_lines is None:
        return False
    codes = _ignored_codes(text_lines, problem.line)
    return codes is not None and (not codes or problem.code in codes)


def lint(paths: list[str], options: LintOptions = LintOptions()) -> LintResult:
    result = LintResult()
    sources = _Sources()
    for path in paths:
        if path != "-" and not files.exists(path):
            result.missing.append(InputError("no such file or directory", file=path))
            continue
        found = check.check_path(path, options.fmt, root=options.root, options=options.read)  # type: ignore[arg-type]
        unreadable = [p for p in found if p.code in ("unreadable", "no-such-file")]
        if unreadable:  # what cannot be read at all is not a finding about a configuration: exit 2
            result.missing.extend(InputError(p.message, file=p.file, fix=p.fix or None) for p in unreadable)
            found = [p for p in found if p not in unreadable]
        off_node = options.root is None and path != "-" and in_git_checkout(path)
        for problem in found:
            if off_node and problem.code in NODE_CODES:
                problem = _off_node(problem)
            if options.select and problem.code not in options.select:
                continue
            if problem.code in options.ignore or silenced(problem, sources):
                continue
            result.problems.append(problem)
    return result


def statistics(problems: list[Problem]) -> list[tuple[str, str, int]]:
    """(code, severity, count), most frequent first, as `ruff --statistics` lists them."""
    counts = Counter((p.code, p.severity) for p in problems)
    return sorted(((code, severity, n) for (code, severity), n in counts.items()), key=lambda t: (-t[2], t[0]))
