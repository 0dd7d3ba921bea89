"""The Ansible collection on a simulated fleet, with a real ansible-core (the `test` extra).

The fleet is examples/ansible/simulated_fleet.py's: seven nodes, each a directory holding a
containerd config.toml from golden/ (real ones from blog posts among them), the certificate files it
names and, where this machine has them, Python 3.9 or 3.10 as its interpreter; one node already
uses config_path. README's playbook (examples/ansible/migrate.yml) runs with `--check --diff`, then
for real, then again; then on a fresh fleet with one node's disk read-only. Ad-hoc runs read the
modules' results as JSON: the check facts, the dry-run diff against the CLI's, no_log.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

from .conftest import ROOT, run_tool

BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(ROOT, "examples", "ansible", "migrate.yml")
MIGRATE_ALL = {"node-seed000", "node-seed002", "node-seed004", "node-auth", "node-tls-2x", "node-wildcard"}
ALREADY = "node-migrated"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
AD_HOC = re.compile(r"^(\S+) \| (SUCCESS|CHANGED|FAILED!|UNREACHABLE!) => ", re.MULTILINE)

if shutil.which("ansible-playbook", path=BIN) is None:  # pragma: no cover - the test extra installs it
    pytest.skip("ansible-core is not installed (pip install -e '.[test]')", allow_module_level=True)


def _fleet_module():
    spec = importlib.util.spec_from_file_location("simulated_fleet",
                                                  os.path.join(ROOT, "examples", "ansible", "simulated_fleet.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


simulated_fleet = _fleet_module()


class Fleet:
    def __init__(self, directory, pyz: str) -> None:
        self.directory = directory
        self.inventory = simulated_fleet.make_fleet(str(directory))
        self.remote_tmp = directory / "remote-tmp"
        self.env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, "ansible"), "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_REMOTE_TMP": str(self.remote_tmp),
                    "ANSIBLE_LOCAL_TEMP": str(directory / "local-tmp"), "ANSIBLE_RETRY_FILES_ENABLED": "0",
                    "ANSIBLE_DEPRECATION_WARNINGS": "0", "REGISTRIES_TRANSLATOR_PYZ": pyz,
                    "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
        self.env.pop("ANSIBLE_CONFIG", None)

    def root(self, node: str) -> str:
        return str(self.directory / "nodes" / node)

    def config(self, node: str) -> str:
        return os.path.join(self.root(node), "etc", "containerd", "config.toml")

    def playbook(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, PLAYBOOK, *args],
                              capture_output=True, text=True, env=self.env, cwd=str(self.directory), timeout=300)

    def ad_hoc(self, module: str, args: str, *options: str) -> dict[str, tuple[str, dict]]:
        """host -> (state, result) of `ansible containerd_nodes -m fleet.registries_translator.MODULE`."""
        run = subprocess.run([os.path.join(BIN, "ansible"), "containerd_nodes", "-i", self.inventory,
                              "-m", f"fleet.registries_translator.{module}", "-a", args, *options],
                             capture_output=True, text=True, env=self.env, cwd=str(self.directory), timeout=300)
        found = {}
        decoder = json.JSONDecoder()
        for match in AD_HOC.finditer(run.stdout):
            found[match.group(1)] = (match.group(2), decoder.raw_decode(run.stdout, match.end())[0])
        assert set(found) == {*MIGRATE_ALL, ALREADY}, run.stdout + run.stderr
        return found


def recap(run: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    found = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "unreachable": int(m.group(4)),
                          "failed": int(m.group(5))} for m in RECAP.finditer(run.stdout)}
    assert set(found) == {*MIGRATE_ALL, ALREADY}, run.stdout + run.stderr
    return found


def snapshot(directory) -> dict[str, tuple[bytes, int, int]]:
    """Every file under DIRECTORY: content, mode, inode (an unchanged file is not even rewritten)."""
    out = {}
    for base, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(base, name)
            st = os.lstat(path)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, directory)] = (handle.read(), stat.S_IMODE(st.st_mode), st.st_ino)
    return out


def secrets_in(fleet: Fleet) -> set[str]:
    """Every password and auth value the fleet's configs hold: none may appear in Ansible's output."""
    found = set()
    for node in [*MIGRATE_ALL, ALREADY]:
        with open(fleet.config(node)) as handle:
            found.update(re.findall(r'^\s*(?:password|auth|identitytoken)\s*=\s*"([^"]+)"', handle.read(), re.M))
    return found


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, pyz: str) -> Fleet:
    return Fleet(tmp_path_factory.mktemp("fleet"), pyz)


def test_check_diff_then_migrate_then_nothing_changes(fleet: Fleet) -> None:
    nodes = fleet.directory / "nodes"
    secrets = secrets_in(fleet)
    assert secrets, "the fleet must hold credentials for this test to mean anything"
    before = snapshot(nodes)

    # 1. --check --diff: every node with legacy mirrors would change, shows migrate's diff, nothing is written
    dry = fleet.playbook("--check", "--diff")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    counts = recap(dry)
    assert {n for n, c in counts.items() if c["changed"]} == MIGRATE_ALL
    assert all(c["failed"] == 0 for c in counts.values())
    assert snapshot(nodes) == before
    cli = run_tool("migrate", fleet.config("node-auth"), "--certs-dir",
                   os.path.join(fleet.root("node-auth"), "etc", "containerd", "certs.d"), "--containerd", "1.7")
    assert cli.code == 0 and cli.out in dry.stdout, "the diff must be migrate's dry run, as the CLI prints it"
    assert 'password = "***"' in dry.stdout and "node-tls-2x: 4 error(s)" in dry.stdout
    assert f"{fleet.config('node-auth')}: mode 0644 -> 0600 (it keeps credentials)" in dry.stdout
    assert not [s for s in secrets if s in dry.stdout + dry.stderr]

    # 2. for real
    real = fleet.playbook("--diff")
    assert real.returncode == 0, real.stdout + real.stderr
    counts = recap(real)
    assert {n for n, c in counts.items() if c["changed"]} == MIGRATE_ALL
    assert all(c["failed"] == 0 for c in counts.values())
    assert not [s for s in secrets if s in real.stdout + real.stderr]
    for node in MIGRATE_ALL:
        with open(fleet.config(node)) as handle:
            assert "config_path = " in handle.read()
        with open(fleet.config(node) + ".bak", "rb") as handle:
            assert handle.read() == before[os.path.relpath(fleet.config(node), nodes)][0]
        assert os.listdir(os.path.join(fleet.root(node), "etc", "containerd", "certs.d"))
    # a config that keeps credentials is made owner-only; the others keep their mode
    assert stat.S_IMODE(os.stat(fleet.config("node-auth")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(fleet.config("node-wildcard")).st_mode) == 0o644
    mine = ALREADY + os.sep  # the node that already used config_path is left exactly as it was
    assert {k: v for k, v in snapshot(nodes).items() if k.startswith(mine)} == {
        k: v for k, v in before.items() if k.startswith(mine)}

    # 3. again: changed=0 everywhere, no file rewritten
    migrated = snapshot(nodes)
    again = fleet.playbook("--diff")
    assert again.returncode == 0, again.stdout + again.stderr
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in recap(again).values()), again.stdout
    assert snapshot(nodes) == migrated
    assert not list(fleet.remote_tmp.iterdir()), "the copies of the build are removed with each task's tmp"


def test_check_facts_are_the_cli_findings(fleet: Fleet) -> None:
    results = fleet.ad_hoc("check", "src={{ node_root }}/etc/containerd/config.toml root={{ node_root }} "
                                    "containerd={{ containerd_version }} fail_on=never")
    for node, (state, result) in results.items():
        assert state == "SUCCESS", result
        facts = result["ansible_facts"]["registries_translator_check"]
        cli = run_tool("check", fleet.config(node), "--root", fleet.root(node), "--containerd",
                       facts["containerd"], "--format", "json")
        assert facts["problems"] == json.loads(cli.out)["problems"]
        assert facts["exit_code"] == cli.code
        assert facts["errors"] == sum(p["severity"] == "error" for p in facts["problems"])
    wanted = {"node-seed000": "3.9", "node-seed002": "3.10"}
    for node, version in wanted.items():
        if simulated_fleet.python(version) != simulated_fleet.python(None):
            assert results[node][1]["python"].startswith(version + "."), "the node's own older Python runs it"


def test_check_fails_a_node_only_when_asked(fleet: Fleet, tmp_path) -> None:
    broken = tmp_path / "config.toml"
    broken.write_text('version = 3\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                      'endpoint = ["https://m.example.com"]\n')
    results = fleet.ad_hoc("check", f"src={broken} root={tmp_path} containerd=2.1")
    state, result = results["node-auth"]
    assert state == "FAILED!" and result["msg"].startswith("check found problems: 1 error(s)"), result


def test_convert_from_vaulted_content_logs_no_secret(fleet: Fleet, tmp_path) -> None:
    """`content` is no_log: the registries.yaml (with a password) never appears; the tree and the config
    beside it are written once, the second run changes nothing; check mode writes nothing."""
    with open(os.path.join(ROOT, "examples", "registries.yaml")) as handle:
        source = handle.read()
    password = re.search(r'password:\s*"?([^"\n]+)"?', source).group(1).strip()
    out = tmp_path / "{{ inventory_hostname }}"
    args = json.dumps({"content": source, "source_format": "registries-yaml", "to": "certs-d",
                       "dest": f"{out}/certs.d", "cri_config": f"{out}/config.toml", "containerd": "1.7"})
    dry = fleet.ad_hoc("convert", args, "--check", "--diff")
    assert all(state == "CHANGED" for state, _result in dry.values()), dry
    assert not list(tmp_path.iterdir())
    first = fleet.ad_hoc("convert", args)
    second = fleet.ad_hoc("convert", args, "-vvv")  # -vvv: the module's arguments are shown, content masked
    for node in first:
        assert first[node][0] == "CHANGED" and second[node][0] == "SUCCESS", (first[node], second[node])
        assert stat.S_IMODE(os.stat(tmp_path / node / "config.toml").st_mode) == 0o600
        assert second[node][1]["invocation"]["module_args"]["content"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert password not in json.dumps([dry, first, second])


def _read_only(root: str):
    """Make ROOT's file system read-only for writers: a read-only bind mount (root), else the
    directories without write permission (a user who cannot write). Returns the undo, or None."""
    if os.geteuid() == 0 and shutil.which("mount"):
        mounted = subprocess.run(["mount", "--bind", root, root], capture_output=True)
        if mounted.returncode == 0:
            if subprocess.run(["mount", "-o", "remount,bind,ro", root], capture_output=True).returncode == 0:
                return lambda: subprocess.run(["umount", root], check=True)
            subprocess.run(["umount", root], check=True)
        return None
    directories = [base for base, _dirs, _names in os.walk(root)]
    for directory in directories:
        os.chmod(directory, 0o555)
    return lambda: [os.chmod(directory, 0o755) for directory in directories]


def test_a_read_only_node_fails_cleanly_and_the_others_complete(tmp_path, pyz: str) -> None:
    fleet = Fleet(tmp_path, pyz)
    victim = "node-auth"
    before = snapshot(fleet.root(victim))
    undo = _read_only(fleet.root(victim))
    if undo is None:
        pytest.skip("cannot make a directory read-only here (no mount permission)")
    try:
        run = fleet.playbook()
        cli = run_tool("migrate", fleet.config(victim), "--certs-dir",
                       os.path.join(fleet.root(victim), "etc", "containerd", "certs.d"), "--containerd", "1.7",
                       "--write")
    finally:
        undo()
    assert run.returncode == 2, run.stdout + run.stderr
    counts = recap(run)
    assert counts[victim]["failed"] == 1
    assert all(counts[n]["failed"] == 0 and counts[n]["changed"] == 1 for n in MIGRATE_ALL - {victim}), counts
    line = cli.err.strip().splitlines()[-1]
    assert line.startswith("error: ") and line.endswith("nothing was changed"), cli.err
    assert f'"msg": {json.dumps(line)}' in run.stdout, "the node fails with the CLI's own error line"
    assert "Traceback" not in run.stdout + run.stderr
    assert snapshot(fleet.root(victim)) == before
