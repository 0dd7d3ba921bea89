"""translator.patterns: a lazily compiled pattern behaves as the compiled one, and compiles once."""

from __future__ import annotations

import re

from translator.patterns import Lazy, lazy


def test_a_lazy_pattern_is_compiled_on_first_use_and_then_answers_as_re_does() -> None:
    source = r"(\w+)@(\w+)"
    pattern = lazy(source, re.I)
    assert "match" not in vars(pattern)  # nothing compiled yet
    compiled = re.compile(source, re.I)
    text = "a@b, C@D and e@f"
    assert pattern.findall(text) == compiled.findall(text)
    assert "match" in vars(pattern)  # compiled once: the bound methods are kept
    assert pattern.sub(r"\2@\1", text) == compiled.sub(r"\2@\1", text)
    assert pattern.search(text).span() == compiled.search(text).span()
    assert pattern.fullmatch("x@y").groups() == ("x", "y")
    assert pattern.match("!") is None
    assert [m.group(0) for m in pattern.finditer(text)] == ["a@b", "C@D", "e@f"]
    assert pattern.pattern == source and pattern.flags == compiled.flags


def test_a_bad_pattern_fails_when_used_not_when_defined() -> None:
    pattern = Lazy("(")
    try:
        pattern.match("x")
    except re.error:
        pass
    else:
        raise AssertionError("an unbalanced pattern compiled")
