"""The command line as operators use it: pipes, one output flag, a linter, safe writes, colour."""

from __future__ import annotations

import json
import os
import pty
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from translator import __version__, codes

from .conftest import ROOT, assert_clean_error

V2 = """\
version = 2
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://mirror.example.com"]
"""

YAML_AUTH = """\
mirrors:
  docker.io:
    endpoint: ["https://mirror.example.com"]
configs:
  mirror.example.com:
    auth: {username: robot, password: Pw-Sec-Ret-9}
"""


# --- pipes -----------------------------------------------------------------------------------

def test_stdin_is_read_once_and_detected_by_content(tool):
    run = tool("convert", "-", "--to", "registries-yaml", stdin=V2)
    assert run.code == 0, run.text
    assert "https://mirror.example.com/v2" in run.out  # not an empty section read from a drained pipe
    assert tool("show", "-", stdin=V2).out.startswith("format: cri-v2")
    resolved = json.loads(tool("resolve", "alpine:3", "--config", "-", "--json", stdin=V2).out)
    assert resolved["hosts"][0]["url"] == "https://mirror.example.com/v2"
    assert tool("check", "-", stdin=V2).code == 0


def test_what_cannot_be_written_back_to_a_pipe_is_refused(tool, tmp_path):
    run = tool("migrate", "-", "--write", "--certs-dir", str(tmp_path / "t"), stdin=V2, cwd=str(tmp_path))
    assert_clean_error(run, "standard input")
    assert list(tmp_path.iterdir()) == []  # no file named "-", no tree
    run = tool("convert", "-", "--to", "certs-d", "-o", str(tmp_path / "t"), "--cri-config", "-", stdin=YAML_AUTH,
               cwd=str(tmp_path))
    assert_clean_error(run, "--cri-config cannot be standard input")
    assert list(tmp_path.iterdir()) == []
    assert tool("migrate", "-", stdin=V2.replace('"docker.io"', '"quay.io"')).code == 0  # a dry run is fine


# --- one output flag ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", [("show",), ("check",), ("resolve", "alpine:3", "--config")])
def test_format_json_and_its_synonym(tool, write, command):
    source = write("r.yaml", YAML_AUTH)
    with_format = tool(*command, source, "--format", "json")
    with_flag = tool(*command, source, "--json")
    assert with_format.code == with_flag.code == 0, with_format.text
    assert json.loads(with_format.out) == json.loads(with_flag.out)
    assert "Pw-Sec-Ret-9" not in with_format.text
    assert_clean_error(tool(*command, source, "--format", "yaml-ish"), "--format")
    assert_clean_error(tool(*command, source, "--format", "text", "--json"), "--json")


def test_diff_and_check_speak_markdown(tool, write):
    a = write("a.yaml", YAML_AUTH)
    b = write("b.yaml", YAML_AUTH.replace("mirror.example.com\"]", "mirror2.example.com\"]"))
    assert tool("diff", a, b, "--format", "markdown").out.startswith("**registries-translator diff**")
    report = tool("check", write("c.toml", V2 + '[plugins."io.containerd.grpc.v1.cri".registry]\n'
                                  '  config_path = "/etc/containerd/certs.d"\n'), "--format", "markdown")
    assert report.code == 1
    assert report.out.startswith("**registries-translator check**")
    assert "| error |" in report.out and "`mirrors-with-config-path`" in report.out


def test_convert_report_accepts_format_as_a_synonym(tool, write):
    source = write("r.yaml", YAML_AUTH)
    assert json.loads(tool("convert", source, "--to", "certs-d", "--format", "json").err)["lossless"] is False


def test_version_and_completion(tool):
    run = tool("--version")
    assert run.code == 0 and run.out == f"registries-translator {__version__}\n"
    for shell, marker in (("bash", "complete"), ("zsh", "compdef"), ("fish", "complete")):
        completion = tool("--show-completion", shell)
        assert completion.code == 0, completion.text
        assert marker in completion.out and "_REGISTRIES_TRANSLATOR_COMPLETE" in completion.out
    unknown = tool("--show-completion", "tcsh")
    assert unknown.code == 2 and "'tcsh' is not one of bash, zsh, fish" in unknown.err
    env = {**os.environ, "PYTHONPATH": ROOT, "_REGISTRIES_TRANSLATOR_COMPLETE": "complete_bash",
           "COMP_WORDS": "registries-translator con", "COMP_CWORD": "1"}
    answer = subprocess.run([sys.executable, "-m", "translator"], capture_output=True, text=True, env=env)
    assert answer.stdout.split() == ["convert"]


def test_version_matches_the_package_metadata():
    text = Path(ROOT, "pyproject.toml").read_text()
    assert 'attr = "translator.__version__"' in text


# --- check, the linter -------------------------------------------------------------------------

BROKEN_YAML = "mirrors:\n  docker.io:\n    endpoint: [https://m.example.com\n"
LEGACY_BAD = """\
version = 2
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://m.example.com", "https://registry-1.docker.io"]
[plugins."io.containerd.grpc.v1.cri".registry.configs."docker.io".auth]
  username = "u"
  password = "Pw-Sec-Ret-9"
"""


def test_check_reports_every_file_and_a_parse_error_is_a_problem(tool, write):
    broken = write("broken.yaml", BROKEN_YAML)
    legacy = write("config.toml", LEGACY_BAD, mode=0o600)
    run = tool("check", broken, legacy, "--format", "json")
    assert run.code == 1, run.text
    problems = json.loads(run.out)["problems"]
    syntax = [p for p in problems if p["code"] == "syntax-error"]
    assert syntax and syntax[0]["file"] == broken and syntax[0]["line"] == 3 and syntax[0]["severity"] == "error"
    assert {"registry-1-twice", "hub-auth-key"} <= {p["code"] for p in problems if p["file"] == legacy}
    for problem in problems:
        assert set(problem) >= {"file", "line", "key", "severity", "code", "message", "fix", "where"}
    assert "Pw-Sec-Ret-9" not in run.text


def test_check_missing_file_is_exit_2_but_the_others_are_checked(tool, write):
    legacy = write("config.toml", LEGACY_BAD, mode=0o600)
    run = tool("check", "/nonexistent/config.toml", legacy, "--json")
    assert run.code == 2
    assert "error: /nonexistent/config.toml: no such file" in run.err
    assert any(p["code"] == "registry-1-twice" for p in json.loads(run.out)["problems"])


def test_select_and_ignore(tool, write):
    legacy = write("config.toml", LEGACY_BAD, mode=0o600)
    only = json.loads(tool("check", legacy, "--json", "--select", "hub-auth-key").out)["problems"]
    assert {p["code"] for p in only} == {"hub-auth-key"}
    rest = json.loads(tool("check", legacy, "--json", "--ignore", "hub-auth-key,ctr-ignores-cri").out)["problems"]
    assert "hub-auth-key" not in {p["code"] for p in rest} and "registry-1-twice" in {p["code"] for p in rest}
    assert_clean_error(tool("check", legacy, "--select", "hub-auth-keys"), "unknown check code", "hub-auth-key")


def test_inline_ignore_comment_on_the_line_or_above(tool, write):
    text = LEGACY_BAD.replace('"https://registry-1.docker.io"]',
                              '"https://registry-1.docker.io"]  # registries-translator: ignore[registry-1-twice]')
    text = text.replace('[plugins."io.containerd.grpc.v1.cri".registry.configs."docker.io".auth]',
                        '# registries-translator: ignore[hub-auth-key]\n'
                        '[plugins."io.containerd.grpc.v1.cri".registry.configs."docker.io".auth]')
    found = {p["code"] for p in json.loads(tool("check", write("c.toml", text, mode=0o600), "--json").out)["problems"]}
    assert "registry-1-twice" not in found and "hub-auth-key" not in found
    other = text.replace("ignore[hub-auth-key]", "ignore[unknown-key]")
    found = {p["code"] for p in json.loads(tool("check", write("d.toml", other, mode=0o600), "--json").out)["problems"]}
    assert "hub-auth-key" in found


def test_statistics(tool, write):
    legacy = write("config.toml", LEGACY_BAD, mode=0o600)
    run = tool("check", legacy, "--statistics")
    assert re.search(r"^1\s+registry-1-twice\s+warning$", run.out, re.M), run.out
    data = json.loads(tool("check", legacy, "--statistics", "--json").out)
    assert {"code": "hub-auth-key", "severity": "warning", "count": 1} in data["statistics"]


def test_fix_diff_changes_nothing_and_fix_repairs_with_a_backup(tool, write):
    legacy = write("config.toml", LEGACY_BAD, mode=0o640)
    preview = tool("check", legacy, "--fix", "--diff")
    assert preview.code == 1
    assert '-  endpoint = ["https://m.example.com", "https://registry-1.docker.io"]' in preview.out
    assert '+[plugins."io.containerd.grpc.v1.cri".registry.configs."registry-1.docker.io".auth]' in preview.out
    assert "Pw-Sec-Ret-9" not in preview.text
    assert Path(legacy).read_text() == LEGACY_BAD
    run = tool("check", legacy, "--fix", "--json")
    assert run.code == 0, run.text
    fixed = Path(legacy).read_text()
    assert 'endpoint = ["https://m.example.com"]' in fixed and 'configs."registry-1.docker.io".auth]' in fixed
    assert 'password = "Pw-Sec-Ret-9"' in fixed  # the payload keeps the secret
    assert Path(legacy + ".bak").read_text() == LEGACY_BAD
    assert stat.S_IMODE(os.stat(legacy).st_mode) == 0o640
    assert {p["code"] for p in json.loads(run.out)["problems"]} & {"registry-1-twice", "hub-auth-key"} == set()


def test_fix_hosts_toml_and_registries_yaml(tool, write, tmp_path):
    hosts = write("certs.d/docker.io/hosts.toml", 'server = "https://registry-1.docker.io"\nskip-verify = true\n')
    assert tool("check", str(tmp_path / "certs.d"), "--fix").code == 0
    assert Path(hosts).read_text() == 'server = "https://registry-1.docker.io"\nskip_verify = true\n\n[host]\n'
    yaml_text = ("mirrors:\n  docker.io:\n    endpoints:\n      - https://m.example.com\n"
                 "configs:\n  m.example.com:\n    tls:\n      skip_verify: true  # keep this comment\n")
    source = write("registries.yaml", yaml_text)
    assert tool("check", source, "--fix").code == 0
    assert Path(source).read_text() == yaml_text.replace("endpoints:", "endpoint:").replace(
        "skip_verify: true", "insecure_skip_verify: true")


def test_node_dependent_checks(tool, tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    source = repo / "registries.yaml"
    source.write_text("configs:\n  m.example.com:\n    tls: {ca_file: /etc/ssl/m.pem}\n"
                      "    auth: {username: u, password: Pw-Sec-Ret-9}\n")
    os.chmod(source, 0o644)
    in_git = json.loads(tool("check", str(source), "--json").out)["problems"]
    by_code = {p["code"]: p for p in in_git}
    assert by_code["missing-cert-file"]["severity"] == "info"
    assert by_code["plaintext-password-world-readable"]["severity"] == "info"
    node = tmp_path / "node"
    missing = json.loads(tool("check", str(source), "--json", "--root", str(node)).out)["problems"]
    assert {p["code"]: p for p in missing}["missing-cert-file"]["severity"] == "error"
    (node / "etc" / "ssl").mkdir(parents=True)
    (node / "etc" / "ssl" / "m.pem").write_text("pem")
    present = json.loads(tool("check", str(source), "--json", "--root", str(node)).out)["problems"]
    assert "missing-cert-file" not in {p["code"] for p in present}


def test_every_emitted_code_is_in_the_catalogue():
    pattern = re.compile(r'(?:warn\(|Problem\("(?:error|warning|info)",\s*|code=)\s*"([a-z0-9-]+)"')
    found = set()
    for folder, _dirs, names in os.walk(os.path.join(ROOT, "translator")):
        for name in names:
            if name.endswith(".py"):
                found |= set(pattern.findall(Path(folder, name).read_text()))
    assert found, "the pattern finds nothing: the test would pass vacuously"
    assert found - set(codes.CODES) == set()


# --- safe writes -----------------------------------------------------------------------------------

def test_a_directory_as_output_of_a_one_file_format_is_a_clear_error(tool, write, tmp_path):
    run = tool("convert", write("r.yaml", YAML_AUTH), "--to", "cri-v2", "-o", str(tmp_path))
    assert_clean_error(run, "is a directory", "--to cri-v2 writes one file")


def test_relative_output_becomes_an_absolute_config_path(tool, write, tmp_path):
    source = write("r.yaml", YAML_AUTH)
    run = tool("convert", source, "--to", "certs-d", "-o", "certs.d", "--cri-config", "config.toml",
               cwd=str(tmp_path))
    assert run.code == 0, run.text
    assert f'config_path = "{tmp_path / "certs.d"}"' in (tmp_path / "config.toml").read_text()
    assert_clean_error(tool("convert", source, "--to", "certs-d", "-o", "t", "--cri-config", "c.toml",
                            "--config-path", "rel/dir", cwd=str(tmp_path)), "relative")
    config = tmp_path / "legacy.toml"
    config.write_text(V2)
    assert tool("migrate", str(config), "--certs-dir", "tree", "--write", cwd=str(tmp_path)).code == 0
    assert f'config_path = "{tmp_path / "tree"}"' in config.read_text()


def test_dry_run_plans_and_writes_nothing(tool, write, tmp_path):
    source = write("r.yaml", YAML_AUTH)
    out = tmp_path / "certs.d"
    (out / "quay.io").mkdir(parents=True)
    (out / "quay.io" / "hosts.toml").write_text("# Generated by registries-translator\nserver = \"https://q\"\n")
    (out / "docker.io").mkdir()
    (out / "docker.io" / "hosts.toml").write_text("# hand-written\n")
    run = tool("convert", source, "--to", "certs-d", "-o", str(out), "--cri-config", str(tmp_path / "c.toml"),
               "--dry-run")
    assert run.code == 0, run.text
    assert "! refuse  docker.io/hosts.toml: exists and was not generated" in run.out
    assert f"- remove  {out}/quay.io/hosts.toml" in run.out
    assert "+++ " + str(tmp_path / "c.toml") in run.out and 'password = "***"' in run.out
    assert "nothing was written (--dry-run)" in run.out
    assert "Pw-Sec-Ret-9" not in run.text
    assert not (tmp_path / "c.toml").exists()
    assert (out / "docker.io" / "hosts.toml").read_text() == "# hand-written\n"
    assert (out / "quay.io" / "hosts.toml").exists()


def test_an_empty_directory_is_not_silently_an_empty_certs_d(tool, tmp_path):
    run = tool("show", str(tmp_path))
    assert run.code == 0
    assert "[empty-certs-dir]" in run.err


# --- resolve tells the story -----------------------------------------------------------------

def test_resolve_explains_normalisation_match_credentials_and_skips(tool, write, tmp_path):
    tree = tmp_path / "certs.d"
    (tree / "_default").mkdir(parents=True)
    (tree / "_default" / "hosts.toml").write_text(
        '[host."https://pull-only.example.com"]\n  capabilities = ["pull"]\n'
        '[host."https://mirror.example.com"]\n  capabilities = ["pull", "resolve"]\n')
    cri = write("config.toml", 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
                f'  config_path = "{tree}"\n'
                '[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com".auth]\n'
                '  username = "robot"\n  password = "Pw-Sec-Ret-9"\n')
    run = tool("resolve", "ghcr.io/org/app", "--config", cri, "--json")
    assert run.code == 0, run.text
    data = json.loads(run.out)
    assert data["input"] == "ghcr.io/org/app" and data["image"] == "ghcr.io/org/app:latest"
    assert any("the tag is latest" in step for step in data["normalized"])
    assert data["matched"].startswith("_default: there is no directory for ghcr.io")
    assert data["skipped"] == [{"url": "https://pull-only.example.com/v2",
                                "reason": data["skipped"][0]["reason"]}]
    assert "lack resolve" in data["skipped"][0]["reason"]
    mirror = data["hosts"][0]
    assert mirror["auth"] == {"username": "robot", "password": "***"}
    assert data["hosts"][-1]["role"] == "upstream"
    text = tool("resolve", "ghcr.io/org/app", "--config", cri)
    assert "credentials from configs.'mirror.example.com'.auth" in text.out
    assert "Pw-Sec-Ret-9" not in run.text + text.text


def test_resolve_of_a_config_the_cri_plugin_cannot_load(tool, write):
    broken = write("c.toml", V2 + '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/x"\n')
    run = tool("resolve", "alpine:3", "--config", broken, "--json")
    assert run.code == 1
    data = json.loads(run.out)
    assert data["hosts"] == [] and "fails to load" in data["error"]
    assert "no pulls" in tool("resolve", "alpine:3", "--config", broken).out


# --- colour ----------------------------------------------------------------------------------

def _on_a_terminal(*args: str, env: dict | None = None) -> str:
    """Run the tool with stdout and stderr on a pseudo-terminal; what it printed."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(PYTHONPATH=ROOT, TERM="xterm", **(env or {}))
    process = subprocess.Popen([sys.executable, "-m", "translator", *args], stdout=follower, stderr=follower,
                               stdin=subprocess.DEVNULL, env=environment, cwd=ROOT)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_only(tool, write):
    legacy = write("config.toml", LEGACY_BAD, mode=0o600)
    coloured = _on_a_terminal("check", legacy)
    assert "\x1b[" in coloured
    assert "\x1b[" not in _on_a_terminal("check", legacy, env={"NO_COLOR": "1"})
    assert "\x1b[" not in _on_a_terminal("check", legacy, "--no-color")
    assert "\x1b[" not in _on_a_terminal("--no-color", "check", legacy)
    assert "\x1b[" not in tool("check", legacy).text  # a pipe
    assert "\x1b[" not in _on_a_terminal("check", legacy, "--json")  # JSON is never coloured


# --- the one-step switch from k3s --------------------------------------------------------------

def test_convert_reads_what_it_wrote_back(tool, write, tmp_path):
    source = write("registries.yaml", YAML_AUTH)
    out = tmp_path / "certs.d"
    run = tool("convert", source, "--to", "certs-d", "-o", str(out), "--cri-config", str(tmp_path / "config.toml"))
    assert run.code == 0, run.text
    assert f"verified: {out} read back from disk means the same as the source for pulls" in run.err
    assert tool("diff", source, str(out), "--from-b", "certs-d").code == 1  # without credentials beside it


# --- one command built per run -----------------------------------------------------------------

@pytest.mark.parametrize("args", [["show", "--help"], ["--no-color", "convert", "--help"], ["--max-bytes", "9",
                                  "resolve", "--help"], ["--max-bytes=9", "check", "--help"], ["diff", "--help"],
                                  ["migrate", "--help"], ["--help"], ["shwo"], ["--version"]])
def test_building_only_the_invoked_command_changes_no_output(args, monkeypatch, capsys):
    """main() builds only the command its arguments name (start-up); what it prints is what the whole
    group prints, and the group keeps every command afterwards."""
    from typer.main import get_command

    from translator import cli, console, files

    monkeypatch.setattr(files, "max_bytes", files.max_bytes)  # --max-bytes and --no-color set process state
    monkeypatch.setattr(console, "_disabled", console._disabled)

    def run(entry) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit_info:
            entry()
        return exit_info.value.code or 0, capsys.readouterr().out

    monkeypatch.setattr(sys, "argv", [cli.PROG, *args])
    filtered = run(cli.main)
    whole = run(lambda: get_command(cli.app).main(args, prog_name=cli.PROG))
    assert filtered == whole
    assert len(cli.app.registered_commands) == 6


@pytest.mark.parametrize(("args", "built"), [(["show", "x"], ["show"]), (["--no-color", "--max-bytes", "9", "check"],
                                            ["check"]), (["--max-bytes=9", "diff", "a", "b"], ["diff"]),
                                            (["--help"], None), (["shwo"], None), ([], None), (["--max-bytes"], None)])
def test_the_invoked_command_is_found_after_the_group_options(args, built):
    from translator import cli

    commands = cli.app.registered_commands
    names = [c.callback.__name__ for c in cli._invoked(commands, args)]
    assert names == (built or [c.callback.__name__ for c in commands])


# --- the process ends at once, with everything said and every status kept ----------------------

def test_the_entry_point_ends_with_each_status_and_everything_printed(tool, write, tmp_path):
    """`python -m translator` skips the interpreter's shutdown (cli.entry): each exit status still
    arrives, and a large output on standard output (a file, not a terminal) arrives whole."""
    source = write("fleet.yaml", "mirrors:\n" + "".join(
        f"  r{i}.example.com:\n    endpoint:\n      - https://m{i}.example.com\n" for i in range(3000)))
    shown = tool("show", source, "--format", "json")
    assert shown.code == 0, shown.err
    assert len(json.loads(shown.out)["hosts"]) == 3000  # 3000 registries, none cut off
    changed = write("changed.yaml", "mirrors:\n  docker.io:\n    endpoint:\n      - https://other.example.com\n")
    example = os.path.join(ROOT, "examples", "registries.yaml")
    assert tool("diff", example, example).code == 0
    assert tool("diff", example, changed).code == 1
    assert_clean_error(tool("show", str(tmp_path / "missing.yaml")), "missing.yaml")
    assert tool("convert", example, "--to", "cri-v2", "--strict").code == 3
    assert tool("--version").out == f"registries-translator {__version__}\n"


def test_a_closed_standard_output_is_a_clean_error():
    """Standard output is a pipe nobody reads any more (`| head` gone): exit 2 and one error line,
    no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        for args in (["show", "examples/registries.yaml"], ["convert", "examples/registries.yaml", "--to", "cri-v2"]):
            run = subprocess.run([sys.executable, "-m", "translator", *args], stdout=write_end,
                                 stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60)
            assert run.returncode == 2, (args, run.stderr)
            assert "Traceback" not in run.stderr
            assert [line for line in run.stderr.splitlines() if line.startswith("error: ")] == ["error: Broken pipe"]
    finally:
        os.close(write_end)


@pytest.mark.parametrize(("code", "status", "said"), [(None, 0, ""), (0, 0, ""), (3, 3, ""), (True, 1, ""),
                                                       ("bye", 1, "bye\n")])
def test_exit_status_is_what_sys_exit_gives(code, status, said, capsys):
    from translator import cli

    assert cli._exit_status(code) == status
    assert capsys.readouterr().err == said
