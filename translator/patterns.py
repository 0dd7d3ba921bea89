"""Regular expressions compiled when first used.

A module-level `re.compile` runs on every start-up whether the run needs the pattern or not (the
credential patterns of `secrets` only matter to text with an `@` or a `Bearer` in it); compiling
the ~20 patterns on a command's path costs 1-2 ms of a 70 ms start-up (issue 16). A `Lazy` pattern
compiles on its first use and then hands out the compiled pattern's own bound methods, so a hot
loop calls them as fast as a module-level pattern's.
"""

from __future__ import annotations

import re
from typing import Any

_METHODS = ("match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split")


class Lazy:
    """`re.compile(source, flags)`, done when a method or attribute is first asked for."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags

    def __getattr__(self, name: str) -> Any:  # only for what is not set yet: the first use
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(self._source, self._flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


def lazy(source: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern compiled on first use (typed as the compiled pattern it stands for)."""
    return Lazy(source, flags)  # type: ignore[return-value]
