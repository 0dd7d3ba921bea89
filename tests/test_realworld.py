"""Real configuration files from public repositories (tests/realworld/, see its README): every
command over every file, and the runtime's answer each file's `expected.yaml` gives, derived by hand.

For each case: `resolve` gives the manifest URLs in the runtime's order; `check` lists at least
the expected codes; `show`, `convert` to every format and back, `diff` with itself and `migrate`
never print a traceback or a secret; a file the runtime loads is never refused, and one it
refuses is refused with a clear error.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml
from typer.testing import CliRunner

from translator.cli import app
from translator.formats import FORMATS

from .conftest import ROOT

CORPUS = os.path.join(ROOT, "tests", "realworld")
FORMATS_READ = set(FORMATS)
TARGETS = ("registries-yaml", "cri-v2", "cri-v3", "certs-d")
SECRET_KEYS = re.compile(r"""(?:password|identitytoken|identity_token|"auth"|\bauth)[ \t]*[=:][ \t]*"""
                         r"""["']?([^"'\s,}]{4,})""", re.I)


def cases() -> list[str]:
    return sorted(d for d in os.listdir(CORPUS) if os.path.isdir(os.path.join(CORPUS, d)))


def expected(case: str) -> dict:
    with open(os.path.join(CORPUS, case, "expected.yaml")) as handle:
        return yaml.safe_load(handle)


def source(case: str) -> tuple[str, list[str]]:
    """The path to read and the extra options it needs (the containerd config beside a tree)."""
    directory = os.path.join(CORPUS, case)
    names = set(os.listdir(directory))
    if "certs.d" in names:
        extra = ["--cri-config", os.path.join(directory, "config.toml")] if "config.toml" in names else []
        return os.path.join(directory, "certs.d"), extra
    for name in ("registries.yaml", "config.toml", "crictl-info.json", "daemon.json", "registries.conf",
                 "registries.conf.d"):
        if name in names:
            return os.path.join(directory, name), []
    raise AssertionError(f"no source in {case}")


def secrets_of(path: str) -> set[str]:
    """Secret values written in the source (they must never be printed by a report)."""
    found: set[str] = set()
    paths = [path] if os.path.isfile(path) else [os.path.join(d, n) for d, _s, ns in os.walk(path) for n in ns]
    for name in paths:
        with open(name, errors="replace") as handle:
            found |= {m for m in SECRET_KEYS.findall(handle.read()) if not set(m) <= {"x"} and m not in ("true",)}
    return found


runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def supported(case: str) -> bool:
    return expected(case)["format"] in FORMATS_READ


@pytest.mark.parametrize("case", cases())
def test_resolve_gives_the_runtimes_order(case: str) -> None:
    spec = expected(case)
    if not supported(case):
        pytest.skip(f"{spec['format']} is not read yet")
    path, extra = source(case)
    if not spec.get("loads", True):
        code, output = cli("show", path, *extra)
        assert code == 2 and "error: " in output and "Traceback" not in output, output
        return
    for image, urls in (spec.get("resolve") or {}).items():
        code, output = cli("resolve", image, "--config", path, *extra, "--format", "json")
        assert code in (0, 1), output
        document = json.loads(output[output.index("{"):])
        got = [h["manifest"] for h in document["hosts"]]
        assert got == list(urls or []), f"{case}: {image}\n  expected {urls}\n  got      {got}\n  {spec.get('notes')}"


@pytest.mark.parametrize("case", cases())
def test_check_finds_the_expected_problems(case: str) -> None:
    spec = expected(case)
    if not supported(case):
        pytest.skip(f"{spec['format']} is not read yet")
    path, extra = source(case)
    code, output = cli("check", path, *extra[1:], "--format", "json")  # the tree and the config beside it
    assert code in (0, 1), output
    document = json.loads(output[output.index("{"):])
    found = {p["code"] for p in document["problems"]}
    if not spec.get("loads", True):
        assert any(p["severity"] == "error" for p in document["problems"]), output
    missing = set(spec.get("problems") or []) - found
    assert not missing, f"{case}: check did not report {sorted(missing)}; it found {sorted(found)}"


@pytest.mark.parametrize("case", cases())
def test_every_command_reads_it_without_a_traceback_or_a_secret(case: str, tmp_path) -> None:
    spec = expected(case)
    if not supported(case) or not spec.get("loads", True):
        pytest.skip("not read" if not supported(case) else "the runtime refuses it")
    path, extra = source(case)
    hidden = secrets_of(path)
    outputs = []
    code, output = cli("show", path, *extra)
    assert code == 0, output
    outputs.append(output)
    for target in TARGETS:
        out = tmp_path / target
        args = ["convert", path, "--to", target, "-o", str(out), *(["--format", "json"])]
        if target == "certs-d":
            args += ["--cri-config", str(tmp_path / "cri.toml")]
        code, output = cli(*args, *extra if extra and spec["format"] == "certs-d" and target != "certs-d" else ())
        if code == 2 and "refuses" in output:
            continue  # a release that cannot read that format (reported as such)
        assert code == 0, f"{case} -> {target}: {output}"
        assert "unexplained change" not in output, output
        outputs.append(output)
        code, back = cli("show", str(out))
        assert code == 0, f"{case} -> {target} does not read back: {back}"
    code, output = cli("diff", path, path, *(["--from-a", "certs-d", "--from-b", "certs-d"] if extra else []))
    assert code == 0, output
    if spec["format"].startswith("cri-"):
        code, output = cli("migrate", path, "--certs-dir", str(tmp_path / "migrated"))
        assert code == 0, output
        outputs.append(output)
    for text in outputs:
        for secret in hidden:
            assert secret not in text, f"{case}: a secret is printed"
