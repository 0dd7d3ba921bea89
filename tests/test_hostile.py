"""Hostile input through every command: no traceback, nothing written outside the output
directory, no partial file, no secret in any output, bounded time and memory.

The corpus is tests/hostile/ (cases.json says what each file is and the expected exit code
and error); a few large inputs are generated here instead of being stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from translator.errors import InputError

from .conftest import ROOT

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")
with open(os.path.join(CORPUS, "cases.json")) as handle:
    CASES: dict[str, dict] = json.load(handle)

GENERATED = {
    "deep-flow.yaml": ("mirrors: " + "[" * 100000 + "]" * 100000 + "\n", 2, "nests more than"),
    "deep-array.toml": ("a = " + "[" * 50000 + "]" * 50000 + "\n", 2, "nests too deeply"),
    "many-endpoints.yaml": ("mirrors:\n  docker.io:\n    endpoint:\n"
                            + "".join(f"      - https://m{i}.example.com\n" for i in range(20000)), 0, ""),
    "too-large.yaml": ("mirrors: {}\n" + "# padding\n" * 500000, 2, "larger than"),
}
SECRETS = ("Url-S3cret-Pw", "p\\\"\\n")
TIME_LIMIT = 10.0
MEMORY_LIMIT_KIB = 300 * 1024


def run_bounded(args: list[str], cwd: str) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, seconds) of one command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRIES_TRANSLATOR")}
    env["PYTHONPATH"] = ROOT
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "translator", *args], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"{args} did not finish within 60 s")
    return process.returncode, out, err, time.perf_counter() - start


def peak_memory_kib(args: list[str], cwd: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRIES_TRANSLATOR")}
    env["PYTHONPATH"] = ROOT
    process = subprocess.Popen([sys.executable, "-m", "translator", *args], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss


def commands(source: str, work: str) -> list[list[str]]:
    out = os.path.join(work, "out")
    listed = [["convert", source, "--to", "certs-d", "-o", out, "--cri-config", os.path.join(work, "cri.toml")],
              ["convert", source, "--to", "registries-yaml", "-o", os.path.join(work, "out.yaml")],
              ["convert", source, "--to", "cri-v2"], ["show", source], ["check", source, "--json"],
              ["diff", source, source, "--format", "markdown"], ["resolve", "alpine:3", "--config", source, "--json"]]
    if source.endswith(".toml"):
        listed.append(["migrate", source, "--certs-dir", os.path.join(work, "migrated")])
    return listed


def snapshot(root: str) -> set[str]:
    found = set()
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(directory, name), root))
    return found


def exercise(tmp_path, name: str, content: bytes | str, expected: int, fragment: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    source = str(tmp_path / name)
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(source, mode) as handle:
        handle.write(content)
    outside = tmp_path / "outside"
    outside.mkdir()
    before_outside = snapshot(str(outside))
    for args in commands(source, str(work)):
        code, out, err, elapsed = run_bounded(args, str(work))
        text = out + err
        assert "Traceback" not in text, (args, text[-2000:])
        assert elapsed < TIME_LIMIT, (args, elapsed)
        for secret in SECRETS:
            if not (args[0] == "convert" and "-o" not in args):
                assert secret not in text, (args, secret)
        if expected == 2 and args[0] == "check" and code == 1:
            assert fragment in out, (args, out[-1000:])  # a pitfall with its own code, listed as a finding
        elif expected == 2:
            assert code == 2, (args, code, text[-1000:])
            assert fragment in err, (args, err[-1000:])
            assert all(line.startswith(("error: ", "warning: ", "  ")) for line in err.splitlines()), err
        else:
            assert code in (0, 1), (args, code, text[-1000:])
    produced = snapshot(str(work))
    if expected == 2:
        assert produced == set(), produced  # nothing written at all
    for path in produced:
        assert not path.startswith(".."), path
        assert not path.endswith(".tmp"), path  # no partial file left behind
    assert snapshot(str(outside)) == before_outside
    assert peak_memory_kib(commands(source, str(work))[0], str(work)) < MEMORY_LIMIT_KIB


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus(tmp_path, name: str) -> None:
    case = CASES[name]
    with open(os.path.join(CORPUS, name), "rb") as handle:
        content = handle.read()
    exercise(tmp_path, name, content, case["exit"], case["error"])


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated(tmp_path, name: str) -> None:
    content, expected, fragment = GENERATED[name]
    exercise(tmp_path, name, content, expected, fragment)


def test_corpus_files_are_all_described() -> None:
    files = {n for n in os.listdir(CORPUS) if n != "cases.json"}
    assert files == set(CASES)


def test_toml_breaking_values_keep_their_structure(tmp_path) -> None:
    import tomllib

    from translator import convert

    source = os.path.join(CORPUS, "toml-breaking-values.yaml")
    out = tmp_path / "certs.d"
    cri = tmp_path / "config.toml"
    options = convert.ConvertOptions(to="certs-d", output=str(out), cri_config=str(cri))
    conversion = convert.convert(source, options)
    convert.write(conversion, options)
    assert sorted(os.listdir(out)) == ["docker.io", "m.example.com"]
    hosts = tomllib.loads((out / "m.example.com" / "hosts.toml").read_text())
    assert set(hosts) == {"server", "capabilities", "ca", "host"}
    assert hosts["ca"] == ['/a"]\n[host."evil"]\nserver="x']
    config = tomllib.loads(cri.read_text())
    auth = config["plugins"]["io.containerd.grpc.v1.cri"]["registry"]["configs"]["m.example.com"]["auth"]
    assert auth == {"username": 'u"\n[x]', "password": 'p"\n\x00"]'}


def test_symlinks_in_the_output_directory_are_not_followed(tmp_path) -> None:
    from translator import convert

    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "certs.d"
    out.mkdir()
    os.symlink(outside, out / "docker.io")
    source = tmp_path / "r.yaml"
    source.write_text('mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n')
    options = convert.ConvertOptions(to="certs-d", output=str(out))
    with pytest.raises(InputError, match="symlink"):
        convert.write(convert.convert(str(source), options), options)
    assert os.listdir(outside) == []
    os.unlink(out / "docker.io")
    (out / "docker.io").mkdir()
    os.symlink(outside / "target", out / "docker.io" / "hosts.toml")
    with pytest.raises(InputError, match="symlink"):
        convert.write(convert.convert(str(source), options), options)
    assert os.listdir(outside) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch) -> None:
    from translator import files

    target = tmp_path / "config.toml"
    target.write_text("original = true\n")
    calls = {"n": 0}
    real_replace = os.replace

    def failing_replace(src, dst):
        calls["n"] += 1
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(InputError, match="disk full; nothing was changed"):
        files.atomic_write(str(target), b"new = true\n")
    monkeypatch.setattr(os, "replace", real_replace)
    assert target.read_text() == "original = true\n"
    assert sorted(os.listdir(tmp_path)) == ["config.toml"]


def tree_files(count: int) -> dict[str, tuple[str, int]]:
    return {f"r{i}.example.com/hosts.toml": (f'# Generated by registries-translator\nserver = "https://r{i}"\n',
                                             0o600 if i % 2 else 0o644) for i in range(count)}


@pytest.mark.parametrize("count", [3, 100])  # fsync per file, and one flush for a fleet
def test_a_new_tree_appears_whole_with_its_modes(tmp_path, count) -> None:
    from translator import files

    root = tmp_path / "certs.d"
    result = files.write_tree(str(root), tree_files(count))
    assert len(result.written) == count
    assert sorted(os.listdir(tmp_path)) == ["certs.d"]  # no staging directory left behind
    assert oct(os.stat(root).st_mode & 0o777) == "0o755"
    assert oct(os.stat(root / "r1.example.com" / "hosts.toml").st_mode & 0o777) == "0o600"
    assert oct(os.stat(root / "r2.example.com" / "hosts.toml").st_mode & 0o777) == "0o644"
    assert (root / "r2.example.com" / "hosts.toml").read_text().endswith('"https://r2"\n')


def test_a_failed_new_tree_leaves_nothing(tmp_path, monkeypatch) -> None:
    from translator import files

    real_open = os.open
    calls = {"n": 0}

    def failing_open(path, flags, mode=0o777, **kwargs):
        calls["n"] += 1
        if calls["n"] == 50:
            raise OSError(28, "No space left on device")
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    with pytest.raises(InputError, match="No space left on device; nothing was changed"):
        files.write_tree(str(tmp_path / "certs.d"), tree_files(100))
    monkeypatch.setattr(os, "open", real_open)
    assert os.listdir(tmp_path) == []


def test_yaml_indented_past_the_depth_limit_is_refused_with_spaces_or_tabs() -> None:
    """A line indented more than MAX_DEPTH * 8 columns is refused before the YAML parser sees it,
    whether the run is of spaces or mixes in tabs."""
    from translator.formats import yaml_in

    width = yaml_in.MAX_DEPTH * 8
    for indent in (" " * (width + 1), "\t" + " " * width, " \t" * (width // 2 + 1)):
        try:
            yaml_in.compose("mirrors:\n" + indent + "x: 1\n", "deep.yaml")
        except InputError as exc:
            assert "indented more than" in exc.message
        else:
            raise AssertionError(f"accepted an indentation of {len(indent)} columns")
    assert yaml_in.compose("mirrors:\n" + " " * (width - 10) + "\n  a: 1\n", "ok.yaml") is not None
