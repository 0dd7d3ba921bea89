"""The single-file build (`make dist`): dist/registries-translator.pyz runs on a node's own python3.

What a node has is a bare interpreter: Python 3.9 or newer, no pip, no site-packages of ours,
often no libyaml. Each test runs the build with `-I -S` (nothing but the standard library and
the archive) through tests/dist_smoke.py, mostly with `tomllib` and libyaml's C extension hidden,
and compares what it prints with what the development install prints. Python 3.9 and 3.10 run
it for real where they are installed; the floor is also proved statically with vermin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT, older_python, run_tool

SMOKE = os.path.join(ROOT, "tests", "dist_smoke.py")


def smoke(pyz: str, *args: str, python: str = sys.executable, hide: bool = True) -> subprocess.CompletedProcess:
    command = [python, "-I", "-S", SMOKE, pyz, *(["--hide"] if hide else []), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_build_holds_only_python_and_is_reproducible(pyz: str, tmp_path) -> None:
    with open(pyz, "rb") as handle:
        data = handle.read()
    assert data.startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
    assert "__main__.py" in names and "translator/cli.py" in names and "tomli/__init__.py" in names
    assert "yaml/__init__.py" in names and not any(n.startswith("_yaml/") for n in names)
    assert not [n for n in names if n.endswith((".so", ".pyd", ".pyc"))]
    assert not [n for n in names if n.startswith("rich/")]
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_zipapp", os.path.join(ROOT, "packaging", "build_zipapp.py"))
    builder = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(builder)  # type: ignore[union-attr]
    again = tmp_path / "again.pyz"
    builder.build(str(again))
    assert again.read_bytes() == data, "two builds from the same inputs differ"


def test_nothing_in_the_build_needs_more_than_python_3_9(pyz: str, tmp_path) -> None:
    """vermin over every file of the archive: translator/ as it is, the bundled libraries less the
    names reviewed in packaging/vermin-reviewed.txt (each used only behind a version check)."""
    with zipfile.ZipFile(pyz) as archive:
        archive.extractall(tmp_path)
    with open(os.path.join(ROOT, "packaging", "vermin-reviewed.txt")) as handle:
        reviewed = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    vermin = [os.path.join(os.path.dirname(sys.executable), "vermin"), "--no-tips", "--violations",
              "--eval-annotations", "-t=3.9-"]
    ours = subprocess.run([*vermin, str(tmp_path / "translator"), str(tmp_path / "__main__.py")],
                          capture_output=True, text=True)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    libraries = [str(p) for p in sorted(tmp_path.iterdir()) if p.is_dir() and p.name != "translator"
                 and not p.name.endswith(".dist-info")]
    excluded = [arg for name in reviewed for arg in ("--exclude", name)]
    theirs = subprocess.run([*vermin, *excluded, *libraries], capture_output=True, text=True)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert "Minimum required versions: 3.9" in theirs.stdout + ours.stdout


def test_the_fallbacks_are_what_runs_when_tomllib_and_libyaml_are_missing(pyz: str) -> None:
    run = smoke(pyz, "backends")
    assert run.returncode == 0, run.stderr
    used = json.loads(run.stdout)
    assert used["toml"] == "tomli" and not used["libyaml"] and not used["csafeloader"]
    assert used["translator"].startswith(pyz), "translator must come from the archive"


@pytest.mark.parametrize("args", [
    ("convert", "examples/registries.yaml", "--to", "certs-d"),
    ("convert", "examples/registries.yaml", "--to", "cri-v2", "--report", "json"),
    ("convert", "golden/cri-v2-tls-and-auth/config.toml", "--to", "registries-yaml", "--containerd", "1.7"),
    ("show", "golden/cri-seed000-full-dump/config.toml"),
    ("check", "golden/cri-v3-tls/config.toml", "--format", "json"),
    ("migrate", "golden/cri-v2-tls-and-auth/config.toml", "--containerd", "1.7"),
    ("diff", "golden/cri-v2-tls-and-auth/config.toml", "golden/cri-v2-tls-and-auth/to-registries-yaml.yaml",
     "--containerd", "1.7"),
])
def test_the_build_prints_what_the_development_install_prints(pyz: str, args: tuple[str, ...]) -> None:
    """The bundled typer, click, deepdiff, tomlkit, tomli and pure-Python PyYAML give the same output,
    byte for byte, as the development versions with tomllib and libyaml."""
    bundled = smoke(pyz, "cli", *args)
    developed = run_tool(*args)
    assert "Traceback" not in bundled.stderr, bundled.stderr
    assert (bundled.returncode, bundled.stdout, bundled.stderr) == (developed.code, developed.out, developed.err)


def test_bad_input_and_usage_errors_stay_clean(pyz: str, tmp_path) -> None:
    """The words may differ (click 8.1 names an argument SRC, typer 0.28's click {src}; libyaml and
    pure-Python PyYAML word a syntax error differently); the exit code, the place and the absence of
    a traceback do not."""
    run = smoke(pyz, "cli", "convert", "--to", "certs-d")
    assert run.returncode == 2 and "Missing argument" in run.stderr and "Traceback" not in run.stderr
    bad = tmp_path / "registries.yaml"
    bad.write_text("mirrors:\n  docker.io: [\n")
    run = smoke(pyz, "cli", "show", str(bad))
    assert run.returncode == 2 and run.stderr.startswith(f"error: {bad}:") and "Traceback" not in run.stderr


def test_completion_and_version_work_from_the_build(pyz: str) -> None:
    run = smoke(pyz, "cli", "--show-completion", "bash")
    assert run.returncode == 0 and "complete" in run.stdout, run.stderr
    run = smoke(pyz, "cli", "--version")
    assert run.returncode == 0 and run.stdout.startswith("registries-translator "), run.stderr


def test_every_golden_case_with_the_bundled_libraries(pyz: str) -> None:
    run = smoke(pyz, "golden")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["files"] > 500


@pytest.mark.parametrize("version", ["3.9", "3.10"])
def test_on_a_real_older_python(pyz: str, version: str) -> None:
    python = older_python(version)
    if python is None:
        pytest.skip(f"no python{version} here; the static check above still proves the floor")
    used = json.loads(smoke(pyz, "backends", python=python, hide=False).stdout)
    assert used["python"] == [int(part) for part in version.split(".")] and used["toml"] == "tomli"
    run = smoke(pyz, "golden", python=python, hide=False)
    assert run.returncode == 0, run.stdout + run.stderr
    direct = subprocess.run([python, pyz, "convert", "examples/registries.yaml", "--to", "certs-d"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    developed = run_tool("convert", "examples/registries.yaml", "--to", "certs-d")
    assert (direct.returncode, direct.stdout, direct.stderr) == (developed.code, developed.out, developed.err)
