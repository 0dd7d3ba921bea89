"""Shared helpers: run the command line as a user does, write small inputs."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_tool(*args: str, cwd: str | None = None, stdin: str | None = None) -> Run:
    """`python -m translator ARGS`, with no terminal and a clean environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRIES_TRANSLATOR")}
    env["PYTHONPATH"] = ROOT
    result = subprocess.run([sys.executable, "-m", "translator", *args], capture_output=True, text=True,
                            cwd=cwd or ROOT, input=stdin, timeout=120, env=env)
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture
def tool():
    return run_tool


@pytest.fixture
def write(tmp_path):
    """write("name", "text") -> path of a new file under the test's directory."""

    def make(name: str, text: str, mode: int | None = None) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if mode is not None:
            os.chmod(path, mode)
        return str(path)

    return make


def assert_clean_error(run: Run, *fragments: str) -> None:
    """Exit 2, one `error:` line naming the problem, no traceback."""
    assert run.code == 2, run.text
    assert "Traceback" not in run.text, run.text
    errors = [line for line in run.err.splitlines() if line.startswith("error: ")]
    assert errors, run.err
    for fragment in fragments:
        assert fragment in run.err, (fragment, run.err)


@pytest.fixture(scope="session")
def pyz() -> str:
    """dist/registries-translator.pyz, built once per session as `make dist` builds it (the first
    build downloads the pinned wheels into build/bundle-wheels/; later ones only zip)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_zipapp", os.path.join(ROOT, "packaging", "build_zipapp.py"))
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    builder.build()
    return builder.DEFAULT_OUT


def older_python(version: str) -> str | None:
    """A working `python3.9` / `python3.10` (PATH, or pyenv's versions), or None: the single-file
    build is for the system python of LTS distributions, and where one is here it runs for real."""
    import glob
    import shutil

    candidates = [shutil.which(f"python{version}") or ""]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None
