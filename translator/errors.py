"""How the tool reports bad input and findings, the same way in every command.

`InputError` stops a command: the CLI prints `error: FILE:LINE: message` and exits 2.
`Problem` is a finding that does not stop anything: readers attach them to the model as
warnings, and `check` lists them with a stable code.
"""

from __future__ import annotations

from .record import record


class InputError(Exception):
    """Input the tool refuses: a file it cannot parse, a value of the wrong type, a hostile name."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 fix: str | None = None, code: str = "invalid-input") -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.fix = fix
        #: the pitfall code `check` reports this under instead of stopping
        self.code = code

    def located(self, file: str | None, line: int | None = None) -> InputError:
        """The same error, placed in FILE (and LINE) when it does not know its place yet."""
        if self.file is None:
            self.file = file
        if self.line is None:
            self.line = line
        return self

    def __str__(self) -> str:
        where = where_text(self.file, self.line)
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f"; {self.fix}"
        return text


class LossRefused(Exception):
    """`--strict` refused a conversion that would lose something (exit 3)."""


def describe(exc: Exception) -> tuple[int, str]:
    """The exit code and the `error:` line for a failure, the same from the CLI and from the task API
    that integrations call (translator/fleet.py): never a traceback."""
    if isinstance(exc, InputError):
        return 2, f"error: {exc}"
    if isinstance(exc, LossRefused):
        return 3, f"error: {exc}"
    if isinstance(exc, RecursionError):
        return 2, "error: the input nests too deeply"
    if isinstance(exc, MemoryError):
        return 2, "error: the input is too large to process"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return 2, f"error: {where}{exc.strerror or exc}"
    return 2, f"error: internal error ({type(exc).__name__}: {exc}); please report it"


def where_text(file: str | None, line: int | None = None, key: str | None = None) -> str:
    """`file:line`, `file: key` or `key`: the location part of every message."""
    if file and line:
        return f"{file}:{line}"
    if file and key:
        return f"{file}: {key}"
    return file or key or ""


SEVERITIES = ("error", "warning", "info")


@record
class Problem:
    """A finding: `check` prints it, readers attach it to the model as a warning.

    Its place is structured (`file`, `line`, `key`) so that JSON carries each part and every
    renderer prints it the same way (`where`: `file:line`, `file: key` or `key`).
    """

    severity: str
    code: str
    message: str
    fix: str = ""
    file: str | None = None
    line: int | None = None
    key: str | None = None

    @property
    def where(self) -> str:
        return where_text(self.file, self.line, self.key)

    def as_dict(self) -> dict[str, object]:
        return {"severity": self.severity, "code": self.code, "where": self.where,
                "message": self.message + (f"; fix: {self.fix}" if self.fix else ""),
                "file": self.file, "line": self.line, "key": self.key, "fix": self.fix or None}

    def text(self) -> str:
        """`severity: file:line: [code] message (fix: ...)`, the form of every place a problem is printed
        (the same as `error: FILE:LINE: ...` for input the tool refuses)."""
        head = f"{self.where}: " if self.where else ""
        return f"{self.severity}: {head}[{self.code}] {self.message}" + (f" (fix: {self.fix})" if self.fix else "")
