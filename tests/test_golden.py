"""The golden cases (see tests/golden_driver.py for the layout and what each file holds)."""

from __future__ import annotations

import difflib
import json
import os

import pytest

from translator import convert, formats
from translator.formats import ReadOptions
from translator.losses import UNEXPLAINED

from .golden_driver import (
    GOLDEN,
    TARGETS,
    cases,
    diff_cases,
    expected_files,
    options_for,
    produce,
    produce_diff,
    read_options,
    source_of,
)

CASES = cases()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_case_matches_expected_files(case: str) -> None:
    produced = produce(case)
    expected = expected_files(case)
    assert set(produced) == expected, f"golden/{case}: produced {sorted(produced)}, expected {sorted(expected)}"
    for name, text in produced.items():
        with open(os.path.join(GOLDEN, case, name)) as handle:
            wanted = handle.read()
        if text != wanted:
            diff = "".join(difflib.unified_diff(wanted.splitlines(True), text.splitlines(True),
                                                f"golden/{case}/{name}", "produced"))
            pytest.fail(f"golden/{case}/{name} differs (run `make golden` and review):\n{diff}")


@pytest.mark.parametrize("case", CASES)
def test_case_documents_itself(case: str) -> None:
    source_of(case)
    assert os.path.getsize(os.path.join(GOLDEN, case, "about.md")) > 40


@pytest.mark.parametrize("case", CASES)
def test_every_loss_has_a_reason(case: str) -> None:
    for name in expected_files(case):
        if name.startswith("losses-"):
            with open(os.path.join(GOLDEN, case, name)) as handle:
                report = json.load(handle)
            assert report["lossless"] is False and report["changes"]
            for change in report["changes"]:
                assert change["reason"] and change["reason"] != UNEXPLAINED, f"{case}/{name}: {change}"
                assert change["kind"] in ("added", "removed", "changed")


def _model(case: str):
    cwd = os.getcwd()
    os.chdir(os.path.dirname(GOLDEN))
    try:
        return formats.read(os.path.join("golden", case, source_of(case)), None, read_options(case))
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("case", [c for c in CASES if not os.path.exists(os.path.join(GOLDEN, c, "error.txt"))])
@pytest.mark.parametrize("target", list(TARGETS))
def test_outputs_are_stable(case: str, target: str) -> None:
    """Reading an output and writing it again changes nothing; converting it again gives it back."""
    options = options_for(case, target, "")
    if os.path.exists(os.path.join(GOLDEN, case, f"to-{target}.error.txt")):
        pytest.skip(f"containerd {options.target.release} cannot read {target}")
    first = convert.convert_model(_model(case), options)
    flavor = "k3s" if options.keep_rewrites else "vanilla"
    back = formats.read_back(first.rendered, ReadOptions(no_default_endpoint=options.no_default_endpoint,
                                                         flavor=flavor, target=options.target),
                             first.cri_config_text)
    if target == "registries-conf" and options.keep_rewrites:
        return  # folded rewrites are k3s's; registries.conf reads them back as plain mirrors
    again = convert.convert_model(back, options)
    assert convert.output_text(again) == convert.output_text(first)
    assert again.lossless, [c.as_dict() for c in again.changes]


@pytest.mark.parametrize("case", diff_cases())
def test_diff_case(case: str) -> None:
    for name, text in produce_diff(case).items():
        with open(os.path.join(GOLDEN, "diff", case, name)) as handle:
            assert text == handle.read(), f"golden/diff/{case}/{name} differs (run `make golden` and review)"
