"""The pre-commit hooks and the pull-request diff script that the README tells users to copy."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT

CONSOLE = os.path.join(os.path.dirname(sys.executable), "registries-translator")
SCRIPT = os.path.join(ROOT, "examples", "ci", "registry-diff.sh")

pytestmark = pytest.mark.skipif(not os.path.exists(CONSOLE), reason="the console script is not installed")


def hooks() -> dict[str, dict]:
    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml")) as handle:
        return {hook["id"]: hook for hook in yaml.safe_load(handle)}


def run_hook(hook: dict, *files: str) -> subprocess.CompletedProcess:
    """Run a hook the way pre-commit does: its entry, its args, then the matching files."""
    entry = shlex.split(hook["entry"])
    assert entry[0] == "registries-translator"
    return subprocess.run([CONSOLE, *entry[1:], *hook.get("args", []), *files], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


@pytest.mark.parametrize(("hook_id", "matches", "ignores"), [
    ("registries-yaml", ["registries.yaml", "k3s/node-1/registries.yml"], ["registries.yaml.bak", "myregistries.yaml"]),
    ("containerd-config", ["config.toml", "etc/containerd/config.toml"], ["config.toml.bak", "pyproject.toml"]),
    ("hosts-toml", ["certs.d/docker.io/hosts.toml"], ["hosts.toml.bak", "certs.d/docker.io/ca.crt"]),
])
def test_hook_file_patterns(hook_id, matches, ignores):
    pattern = re.compile(hooks()[hook_id]["files"])
    assert all(pattern.search(path) for path in matches)
    assert not any(pattern.search(path) for path in ignores)


def test_hooks_pass_clean_files_and_fail_on_errors(write):
    all_hooks = hooks()
    clean = run_hook(all_hooks["registries-yaml"], "examples/registries.yaml",
                     "golden/ry-seed002-complete-example/registries.yaml")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    broken = write("registries.yaml", "mirrors:\n  docker.io/library:\n    endpoint: [https://m.example.com]\n")
    failed = run_hook(all_hooks["registries-yaml"], "examples/registries.yaml", broken)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"{broken}:2" in failed.stdout

    legacy = run_hook(all_hooks["containerd-config"], "golden/cri-seed003-library-key/config.toml")
    assert legacy.returncode == 1 and "mirror-key-has-path" in legacy.stdout, legacy.stdout
    hosts = run_hook(all_hooks["hosts-toml"], "golden/cd-directories/certs.d/_default/hosts.toml")
    assert hosts.returncode == 0, hosts.stdout + hosts.stderr
    lone = write("certs.d/docker.io/hosts.toml", 'server = "https://registry-1.docker.io"\n'
                 '[host."https://mirror.example.com"]\n  client = [["/etc/c.pem", ""]]\n')
    hosts = run_hook(all_hooks["hosts-toml"], lone)
    assert hosts.returncode == 1 and f"{lone}:3: [client-empty-key]" in hosts.stdout, hosts.stdout


def test_hook_reports_an_unreadable_file_and_still_checks_the_others(write):
    bad = write("registries.yaml", "mirrors: [\n")
    broken = write("b/registries.yaml", "mirrors:\n  docker.io/library:\n    endpoint: [https://m.example.com]\n")
    result = run_hook(hooks()["registries-yaml"], bad, broken)
    assert result.returncode == 1  # a linter: a file that does not parse is an error problem, not a crash
    assert f"error: {bad}:1: [syntax-error]" in result.stdout  # the unclosed bracket, not the end of the file
    assert "mirror-key-has-path" in result.stdout


def git(repo: str, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(tmp_path):
    """A configuration repository with a k3s file, a containerd config and a certs.d tree."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    path = str(tmp_path / "repo")
    os.makedirs(path)
    git(path, "init", "-q")
    shutil.copy(os.path.join(ROOT, "golden/diff/swapped-mirrors/a.yaml"), os.path.join(path, "registries.yaml"))
    os.makedirs(os.path.join(path, "node"))
    shutil.copy(os.path.join(ROOT, "golden/cri-v2-tls-and-auth/config.toml"), os.path.join(path, "node/config.toml"))
    shutil.copytree(os.path.join(ROOT, "golden/diff/fallback-turned-off/a"), os.path.join(path, "node/certs.d"))
    with open(os.path.join(path, "README"), "w") as handle:
        handle.write("configs\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "base")
    return path


def pr_comment(repo: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REGISTRY_DIFF_TOOL": CONSOLE}
    return subprocess.run(["bash", SCRIPT, "HEAD~1", "HEAD"], cwd=repo, capture_output=True, text=True, env=env,
                          timeout=120)


def test_pr_comment_names_what_each_changed_config_does_to_pulls(repo):
    shutil.copy(os.path.join(ROOT, "golden/diff/swapped-mirrors/b.yaml"), os.path.join(repo, "registries.yaml"))
    shutil.rmtree(os.path.join(repo, "node/certs.d"))
    shutil.copytree(os.path.join(ROOT, "golden/diff/fallback-turned-off/b"), os.path.join(repo, "node/certs.d"))
    with open(os.path.join(repo, "new-site-registries.yaml"), "w") as handle:  # not a registries.yaml name
        handle.write("mirrors: {}\n")
    os.makedirs(os.path.join(repo, "edge"))
    shutil.copy(os.path.join(ROOT, "examples/registries.yaml"), os.path.join(repo, "edge/registries.yaml"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    result = pr_comment(repo)
    assert result.returncode == 0, result.stderr
    comment = result.stdout
    assert "`before/registries.yaml` -> `after/registries.yaml`" in comment
    assert "endpoints reordered" in comment
    assert "`before/node/certs.d` -> `after/node/certs.d`" in comment
    assert "fallback to the upstream turned off" in comment
    assert "`before/edge/registries.yaml` -> `after/edge/registries.yaml`" in comment  # a new file vs empty
    assert "node/config.toml" not in comment and "new-site" not in comment
    assert "Old-Pa55word" not in comment


def test_pr_comment_is_empty_when_pulls_do_not_change(repo):
    with open(os.path.join(repo, "registries.yaml"), "a") as handle:
        handle.write("# reviewed\n")
    git(repo, "commit", "-qam", "comment only")
    result = pr_comment(repo)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_pr_comment_reports_an_unreadable_config(repo):
    with open(os.path.join(repo, "registries.yaml"), "w") as handle:
        handle.write("mirrors: [\n")
    git(repo, "commit", "-qam", "broken")
    result = pr_comment(repo)
    assert result.returncode == 2
    assert "could not read `registries.yaml`" in result.stdout
    assert "error: " in result.stdout
