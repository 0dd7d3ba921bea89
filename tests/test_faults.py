"""Nothing lost under faults: kills at every step of a write, concurrent writers, full and read-only
disks, permissions, FIFOs, sockets and device nodes, modes and owners, secrets, nesting depth.

Kills use the test hook in translator/files.py (REGISTRIES_TRANSLATOR_FAULT=after:<step> sends
the process SIGKILL at that step; stop:, term:, int: send SIGSTOP, SIGTERM, SIGINT). After each
kill the target must be exactly the old state or exactly the new one, file by file (content,
kind, mode, owner), and the next run must finish the job and leave nothing behind. Tests that
mount file systems, change owners or make device nodes need root (CI runs as root).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import ROOT

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (mounts, owners, device nodes); CI runs as root")

A_YAML = """\
mirrors:
  docker.io:
    endpoint: ["https://m.example.com"]
  quay.io:
    endpoint: ["https://q.example.com"]
  r1.example.com:
    endpoint: ["https://r1-mirror.example.com"]
"""
B_YAML = """\
mirrors:
  docker.io:
    endpoint: ["https://m2.example.com", "https://m.example.com"]
  ghcr.io:
    endpoint: ["https://g.example.com"]
  r1.example.com:
    endpoint: ["https://r1-mirror.example.com"]
"""
LEGACY = """\
# the node's containerd config
version = 2
root = "/var/lib/containerd"

[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://mirror.example.com"]
[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com".auth]
  username = "robot"
  password = "pw"
[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com".tls]
  ca_file = "/etc/ssl/mirror.pem"

[metrics]
  address = "127.0.0.1:1338"
"""


def tool(*args: str, env: dict[str, str] | None = None, cwd: str | None = None, timeout: float = 60,
         unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it; UNPRIVILEGED: as root without any capability, so that
    permissions on files owned by another user apply (the interpreter stays reachable)."""
    prefix = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"] if unprivileged else []
    return subprocess.run(prefix + command(*args), capture_output=True, text=True, cwd=cwd or ROOT,
                          env=environment(env), timeout=timeout, stdin=subprocess.DEVNULL)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "translator", *args]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRIES_TRANSLATOR")}
    env["PYTHONPATH"] = ROOT
    env.update(extra or {})
    return env


def fault(directive: str) -> dict[str, str]:
    return {"REGISTRIES_TRANSLATOR_FAULT": directive}


def state(path: str | Path) -> dict[str, tuple] | None:
    """Everything at PATH, file by file, without following symlinks: kind, content or link
    target, mode and owner (not inode numbers or times)."""
    path = str(path)
    if not os.path.lexists(path):
        return None
    found: dict[str, tuple] = {}

    def visit(current: str, rel: str) -> None:
        st = os.lstat(current)
        mode, owner = stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid)
        if stat.S_ISDIR(st.st_mode):
            found[rel] = ("dir", None, mode, owner)
            for name in sorted(os.listdir(current)):
                visit(os.path.join(current, name), f"{rel}/{name}")
        elif stat.S_ISLNK(st.st_mode):
            found[rel] = ("link", os.readlink(current), mode, owner)
        elif stat.S_ISREG(st.st_mode):
            found[rel] = ("file", Path(current).read_bytes(), mode, owner)
        else:
            found[rel] = ("special", stat.S_IFMT(st.st_mode), mode, owner)

    visit(path, ".")
    return found


def leftovers(directory: str | Path) -> list[str]:
    """Staging directories and temporary files of this tool (or its older versions) in DIRECTORY
    and, for a certs.d tree, its host directories."""
    found = []
    for current, dirs, names in os.walk(directory):
        for name in dirs + names:
            if ".rt-" in name or name.endswith(".tmp") or name.endswith(".lock"):
                found.append(os.path.join(current, name))
    return found


def hand_written(root: Path) -> None:
    """What an operator keeps in a generated tree: a CA beside a generated hosts.toml, a
    hand-written host directory with a subdirectory, a symlink, a directory mode and an owner."""
    (root / "docker.io" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (root / "docker.io" / "client.key").write_text("key\n")
    os.chmod(root / "docker.io" / "client.key", 0o600)
    mine = root / "mine.example.com"
    (mine / "sub").mkdir(parents=True)
    (mine / "hosts.toml").write_text('server = "https://mine.example.com"\n[host]\n')
    (mine / "sub" / "note").write_text("keep\n")
    os.symlink("/etc/ssl/certs", root / "ssl-link")
    os.chmod(root / "quay.io", 0o750)
    if IS_ROOT:
        os.chown(root / "docker.io" / "hosts.toml", 1234, 5678)
        os.chown(root / "mine.example.com", 4321, 8765)


def existing_tree(base: Path) -> Path:
    source = base / "a.yaml"
    source.write_text(A_YAML)
    (base / "b.yaml").write_text(B_YAML)
    root = base / "certs.d"
    assert tool("convert", str(source), "--to", "certs-d", "-o", str(root)).returncode == 0
    hand_written(root)
    return root


def wait_stopped(pid: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop")


# --- kills at every step ----------------------------------------------------------------------

TREE_STEPS = ["locked", "tree-file", "tree-file#3", "tree-staged", "staged", "tree-swapped", "tree-cleaned", "done"]


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "three-renames"])
@pytest.mark.parametrize("existing", [True, False], ids=["over-existing-tree", "new-tree"])
def test_a_kill_at_any_step_leaves_the_tree_old_or_new_and_the_next_run_finishes(tmp_path, existing, exchange):
    steps = TREE_STEPS + ([] if exchange or not existing else ["tree-aside"])
    options = [] if exchange else ["noexchange"]

    def setup(base: Path) -> tuple[Path, tuple[str, ...]]:
        if base.exists():
            shutil.rmtree(base)
        base.mkdir()
        if existing:
            root = existing_tree(base)
        else:
            (base / "b.yaml").write_text(B_YAML)
            root = base / "certs.d"
        return root, ("convert", str(base / "b.yaml"), "--to", "certs-d", "-o", str(root))

    root, args = setup(tmp_path / "reference")
    old = state(root)
    assert tool(*args).returncode == 0
    new = state(root)
    assert new != old
    if existing:  # what the operator keeps is kept
        for rel in ("./docker.io/ca.crt", "./docker.io/client.key", "./mine.example.com/sub/note", "./ssl-link"):
            assert new[rel] == old[rel]
        assert "./quay.io" not in new and new["./docker.io"] == old["./docker.io"]
    for step in steps:
        root, args = setup(tmp_path / "work")
        assert state(root) == old
        run = tool(*args, env=fault(",".join([*options, f"after:{step}"])))
        assert run.returncode == -signal.SIGKILL, (step, run.stderr)
        after = state(root)
        if step == "tree-aside":
            assert after is None  # the one moment without RENAME_EXCHANGE; the next run rolls forward
        else:
            assert after in (old, new), step
        again = tool(*args)
        assert again.returncode == 0, (step, again.stderr)
        assert state(root) == new, step
        assert leftovers(tmp_path / "work") == [], step


MIGRATE_STEPS = ["read", "read-for-edit", "locked", "tree-file", "tree-staged", "file-temp", "staged", "file-backup",
                 "tree-swapped", "file-replaced", "done"]


def test_a_kill_during_migrate_leaves_each_target_old_or_new_and_the_backup_original(tmp_path):
    config = tmp_path / "config.toml"
    tree = tmp_path / "certs.d"
    args = ("migrate", str(config), "--certs-dir", str(tree), "--write")

    def reset() -> None:
        for path in (config, Path(str(config) + ".bak")):
            if path.exists():
                path.unlink()
        if tree.exists():
            shutil.rmtree(tree)
        config.write_text(LEGACY)
        os.chmod(config, 0o640)

    reset()
    assert tool(*args).returncode == 0
    new_config, new_tree = config.read_text(), state(tree)
    assert new_config != LEGACY and Path(str(config) + ".bak").read_text() == LEGACY
    for step in MIGRATE_STEPS:
        reset()
        run = tool(*args, env=fault(f"after:{step}"))
        assert run.returncode == -signal.SIGKILL, (step, run.stderr)
        assert config.read_text() in (LEGACY, new_config), step
        assert state(tree) in (None, new_tree), step
        backup = Path(str(config) + ".bak")
        assert not backup.exists() or backup.read_text() == LEGACY, step
        again = tool(*args)
        assert again.returncode == 0, (step, again.stderr)
        assert config.read_text() == new_config and state(tree) == new_tree, step
        assert backup.read_text() == LEGACY, step
        assert stat.S_IMODE(os.stat(config).st_mode) == 0o640
        assert leftovers(tmp_path) == [], step


@pytest.mark.parametrize("signum", ["term", "int"])
@pytest.mark.parametrize("step", ["tree-file", "tree-staged", "file-temp", "staged", "tree-swapped"])
def test_sigterm_and_sigint_clean_up_on_the_way_out(tmp_path, signum, step):
    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    tree = tmp_path / "certs.d"
    run = tool("migrate", str(config), "--certs-dir", str(tree), "--write", env=fault(f"{signum}:{step}"))
    assert run.returncode == (143 if signum == "term" else 130), run.stderr
    assert "interrupted by SIG" in run.stderr and "Traceback" not in run.stderr
    assert leftovers(tmp_path) == []
    if step == "tree-swapped":  # signals wait while targets are renamed: the commit completes
        assert config.read_text() != LEGACY and tree.is_dir()
    else:
        assert config.read_text() == LEGACY and not tree.exists()


def test_leftovers_of_the_older_tool_are_removed_and_no_longer_hide_default(tmp_path):
    root = existing_tree(tmp_path)
    (root / "docker.io" / ".hosts.toml.ab12cd34.tmp").write_text("half")
    (root / "orphan.example.com").mkdir()  # made by a killed run of the old tool, holding only its temp file
    (root / "orphan.example.com" / ".hosts.toml.zz99yy88.tmp").write_text("")
    (tmp_path / ".certs.d.k3j4h5g6.tmp").mkdir()
    (tmp_path / ".config.toml.q1w2e3r4.tmp").write_text("x")
    (tmp_path / "config.toml").write_text("version = 2\n")
    run = tool("convert", str(tmp_path / "a.yaml"), "--to", "certs-d", "-o", str(root),
               "--cri-config", str(tmp_path / "config.toml"))
    assert run.returncode == 0, run.stderr
    assert leftovers(tmp_path) == []
    assert not (root / "orphan.example.com").exists()
    assert (root / "mine.example.com" / "sub" / "note").exists()


# --- one writer at a time ---------------------------------------------------------------------

def test_a_second_writer_waits_or_fails_clearly_while_the_first_holds_the_lock(tmp_path):
    root = existing_tree(tmp_path)
    before = state(root)
    first = subprocess.Popen(command("convert", str(tmp_path / "b.yaml"), "--to", "certs-d", "-o", str(root)),
                             env=environment(fault("stop:locked")), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_stopped(first.pid)
        second = tool("convert", str(tmp_path / "a.yaml"), "--to", "certs-d", "-o", str(root),
                      env={"REGISTRIES_TRANSLATOR_LOCK_WAIT": "0.3"})
        assert second.returncode == 2, second.stderr
        assert "another registries-translator run is writing" in second.stderr
        assert "nothing was changed" in second.stderr and "Traceback" not in second.stderr
        assert state(root) == before
        waiting = subprocess.Popen(command("convert", str(tmp_path / "b.yaml"), "--to", "certs-d", "-o", str(root)),
                                   env=environment({"REGISTRIES_TRANSLATOR_LOCK_WAIT": "120"}),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        assert waiting.poll() is None  # it waits for the lock ...
    finally:
        first.send_signal(signal.SIGCONT)
        first.communicate(timeout=60)
    assert first.returncode == 0
    assert waiting.wait(timeout=180) == 0  # ... and goes on when it is free
    assert leftovers(tmp_path) == []


def test_another_program_locking_the_config_is_waited_for(tmp_path):
    import fcntl

    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    args = ("migrate", str(config), "--certs-dir", str(tmp_path / "certs.d"), "--write")
    with open(config) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        run = tool(*args, env={"REGISTRIES_TRANSLATOR_LOCK_WAIT": "0.2"})
        assert run.returncode == 2 and "holds the lock" in run.stderr, run.stderr
        assert config.read_text() == LEGACY and not (tmp_path / "certs.d").exists()
    assert tool(*args).returncode == 0


def test_a_config_changed_between_read_and_write_is_not_overwritten(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    tree = tmp_path / "certs.d"
    args = ("migrate", str(config), "--certs-dir", str(tree), "--write")
    first = subprocess.Popen(command(*args), env=environment(fault("stop:read-for-edit")), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_stopped(first.pid)
        second = tool(*args)
        assert second.returncode == 0, second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
        _out, err = first.communicate(timeout=60)
    migrated = config.read_text()
    assert first.returncode == 2, err
    assert "changed since it was read" in err and "nothing was changed" in err
    assert config.read_text() == migrated and migrated != LEGACY
    assert Path(str(config) + ".bak").read_text() == LEGACY
    assert leftovers(tmp_path) == []


def test_an_edit_by_someone_else_between_read_and_write_is_not_overwritten(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("version = 2\n")
    source = tmp_path / "a.yaml"
    source.write_text(A_YAML)
    args = ("convert", str(source), "--to", "certs-d", "-o", str(tmp_path / "certs.d"), "--cri-config", str(config))
    first = subprocess.Popen(command(*args), env=environment(fault("stop:read-for-edit")), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_stopped(first.pid)
        config.write_text("version = 2\n# edited by ansible\n")
    finally:
        first.send_signal(signal.SIGCONT)
        _out, err = first.communicate(timeout=60)
    assert first.returncode == 2, err
    assert "changed since it was read" in err
    assert config.read_text() == "version = 2\n# edited by ansible\n"
    assert not (tmp_path / "certs.d").exists()  # the tree beside it is not written either
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_migrations_keep_the_original_in_the_backup(tmp_path, attempt):
    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    tree = tmp_path / "certs.d"
    runs = [subprocess.Popen(command("migrate", str(config), "--certs-dir", str(tree), "--write"),
                             env=environment({"REGISTRIES_TRANSLATOR_LOCK_WAIT": "120"}), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    results = [(run.wait(timeout=180), run.stderr.read()) for run in runs]
    for code, err in results:
        assert "Traceback" not in err
        assert code == 0 or (code == 2 and "changed since it was read" in err), err
    assert sum("kept the original" in err for _code, err in results) == 1
    assert Path(str(config) + ".bak").read_text() == LEGACY
    assert "config_path" in config.read_text() and "mirrors" not in config.read_text()
    assert leftovers(tmp_path) == []


def test_concurrent_conversions_to_the_same_output_all_finish(tmp_path):
    source = tmp_path / "a.yaml"
    source.write_text(A_YAML)
    runs = [subprocess.Popen(command("convert", str(source), "--to", target, "-o", str(tmp_path / name)),
                             env=environment({"REGISTRIES_TRANSLATOR_LOCK_WAIT": "120"}), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for target, name in [("certs-d", "certs.d"), ("cri-v2", "out.toml")] * 3]
    assert [run.wait(timeout=180) for run in runs] == [0] * 6
    assert sorted(os.listdir(tmp_path)) == ["a.yaml", "certs.d", "out.toml", "out.toml.bak"]
    assert leftovers(tmp_path) == []


# --- only regular files -----------------------------------------------------------------------

def special_files(base: Path) -> dict[str, Path]:
    made = {"fifo": base / "fifo", "directory": base / "dir"}
    os.mkfifo(made["fifo"])
    made["directory"].mkdir()
    made["socket"] = base / "sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(made["socket"]))
    listener.close()
    if IS_ROOT:
        made["character device"] = base / "zero"
        os.mknod(made["character device"], stat.S_IFCHR | 0o644, os.makedev(1, 5))
        made["block device"] = base / "loop"
        os.mknod(made["block device"], stat.S_IFBLK | 0o644, os.makedev(7, 0))
    return made


def test_special_files_are_refused_as_input_immediately(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    for kind, path in special_files(tmp_path).items():
        commands = [("migrate", str(path), "--write"), ("show", str(path), "--from", "cri-v2"),
                    ("convert", str(tmp_path / "t"), "--to", "cri-v2", "--from", "certs-d", "--cri-config", str(path)),
                    ("convert", str(config), "--to", "certs-d", "-o", str(tmp_path / "t"), "--cri-config", str(path))]
        if kind != "directory":
            commands += [("show", str(path)), ("check", str(path)), ("diff", str(path), str(config)),
                         ("convert", str(path), "--to", "cri-v2", "--from", "registries-yaml")]
        (tmp_path / "t").mkdir(exist_ok=True)
        for args in commands:
            run = tool(*args, timeout=20)
            assert run.returncode == 2, (kind, args, run.stderr)
            assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr, (args, run.stderr)
            assert f"is {'a ' if kind != 'directory' else ''}" in run.stderr, (args, run.stderr)
    assert config.read_text() == LEGACY


def test_a_fifo_named_hosts_toml_fails_the_tree_instead_of_hanging(tmp_path):
    (tmp_path / "docker.io").mkdir()
    os.mkfifo(tmp_path / "docker.io" / "hosts.toml")
    run = tool("show", str(tmp_path), timeout=20)
    assert run.returncode == 2 and "is a FIFO" in run.stderr


def test_special_outputs_are_refused_or_written_in_place_never_replaced(tmp_path):
    source = tmp_path / "a.yaml"
    source.write_text(A_YAML)
    made = special_files(tmp_path)
    for kind, path in made.items():
        before = os.lstat(path)
        run = tool("convert", str(source), "--to", "cri-v2", "-o", str(path), timeout=20)
        assert run.returncode == 2, (kind, run.stderr)
        assert "not a regular file" in run.stderr or "is a directory" in run.stderr, run.stderr
        after = os.lstat(path)
        assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode), before.st_ino)
    assert tool("convert", str(source), "--to", "certs-d", "-o", str(made["fifo"])).returncode == 2
    stdout = tool("convert", str(source), "--to", "cri-v2", "-o", "/dev/stdout")
    assert stdout.returncode == 0 and "version = 2" in stdout.stdout
    assert tool("convert", str(source), "--to", "cri-v2", "-o", "/dev/null").returncode == 0
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    if IS_ROOT:
        null = tmp_path / "null"
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        assert tool("convert", str(source), "--to", "cri-v2", "-o", str(null)).returncode == 0
        assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert leftovers(tmp_path) == []


def test_a_directory_where_a_file_is_expected_is_refused(tmp_path):
    source = tmp_path / "a.yaml"
    source.write_text(A_YAML)
    (tmp_path / "out.toml").mkdir()
    run = tool("convert", str(source), "--to", "cri-v2", "-o", str(tmp_path / "out.toml"))
    assert run.returncode == 2 and "is a directory" in run.stderr
    run = tool("convert", str(source), "--to", "certs-d", "-o", str(tmp_path / "t"), "--cri-config", str(tmp_path))
    assert run.returncode == 2 and "is a directory" in run.stderr
    assert not (tmp_path / "t").exists()


# --- operating-system errors ------------------------------------------------------------------

@pytest.fixture
def small_disk():
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) to mount a tmpfs")
    mount = tempfile.mkdtemp(prefix="rt-disk-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "none", mount], capture_output=True).returncode:
        os.rmdir(mount)
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield Path(mount)
    finally:
        subprocess.run(["umount", "-l", mount], check=False)
        os.rmdir(mount)


def fill(directory: Path) -> None:
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 1024)
    except OSError:
        pass
    finally:
        os.close(fd)


@needs_root
def test_a_full_disk_is_the_users_error_and_changes_nothing(small_disk, tmp_path):
    source = tmp_path / "b.yaml"
    source.write_text(B_YAML)
    config = small_disk / "config.toml"
    config.write_text(LEGACY)
    tree = small_disk / "certs.d"
    assert tool("convert", str(tmp_path / "b.yaml"), "--to", "certs-d", "-o", str(tree)).returncode == 0
    (tmp_path / "a.yaml").write_text(A_YAML)
    fill(small_disk)
    before = state(small_disk)
    for args in (("migrate", str(config), "--certs-dir", str(tree), "--write"),
                 ("convert", str(tmp_path / "a.yaml"), "--to", "certs-d", "-o", str(tree)),
                 ("convert", str(tmp_path / "a.yaml"), "--to", "cri-v2", "-o", str(config))):
        run = tool(*args)
        assert run.returncode == 2, run.stderr
        assert "No space left on device; nothing was changed" in run.stderr, run.stderr
        assert "internal error" not in run.stderr and "Traceback" not in run.stderr
        assert state(small_disk) == before


@needs_root
def test_a_read_only_file_system_is_the_users_error(small_disk, tmp_path):
    config = small_disk / "config.toml"
    config.write_text(LEGACY)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    run = tool("migrate", str(config), "--certs-dir", str(small_disk / "certs.d"), "--write")
    assert run.returncode == 2
    assert "Read-only file system; nothing was changed" in run.stderr, run.stderr
    assert config.read_text() == LEGACY


@needs_root
def test_an_immutable_config_puts_the_swapped_tree_back(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    tree = tmp_path / "certs.d"
    (tmp_path / "a.yaml").write_text(A_YAML)
    assert tool("convert", str(tmp_path / "a.yaml"), "--to", "certs-d", "-o", str(tree)).returncode == 0
    before = state(tmp_path)
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(config)], capture_output=True).returncode:
        pytest.skip("this file system has no immutable attribute")
    try:
        run = tool("migrate", str(config), "--certs-dir", str(tree), "--write")
    finally:
        subprocess.run(["chattr", "-i", str(config)], check=True)
    assert run.returncode == 2 and "Operation not permitted; nothing was changed" in run.stderr, run.stderr
    assert state(tmp_path) == before


OTHER = 1234
needs_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")


@needs_root
@needs_setpriv
def test_permission_errors_are_plain_and_an_unreadable_host_directory_is_an_error(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    tree = tmp_path / "certs.d"
    (tmp_path / "a.yaml").write_text(A_YAML)
    assert tool("convert", str(tmp_path / "a.yaml"), "--to", "certs-d", "-o", str(tree)).returncode == 0
    for current, dirs, names in os.walk(tmp_path):
        for name in [".", *dirs, *names]:
            os.chown(os.path.join(current, name), OTHER, OTHER)
    os.chmod(tmp_path, 0o755)
    os.chmod(tree / "docker.io", 0o700)
    for args, fragment in ((("show", str(tree)), "Permission denied"),
                           (("check", str(tree)), "Permission denied"),
                           (("migrate", str(config), "--certs-dir", str(tmp_path / "new"), "--write"),
                            "Permission denied; nothing was changed"),
                           (("convert", str(tmp_path / "a.yaml"), "--to", "cri-v2", "-o", str(tmp_path / "o")),
                            "Permission denied; nothing was changed")):
        run = tool(*args, unprivileged=True)
        assert run.returncode == 2, (args, run.stderr)
        assert fragment in run.stderr and "internal error" not in run.stderr, (args, run.stderr)
    os.chmod(config, 0o600)
    run = tool("show", str(config), unprivileged=True)
    assert run.returncode == 2 and "Permission denied" in run.stderr
    assert config.read_text() == LEGACY and not (tmp_path / "new").exists() and not (tmp_path / "o").exists()


# --- modes, owners, backups -------------------------------------------------------------------

@needs_root
def test_an_edit_keeps_mode_and_owner_and_so_does_the_backup(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(LEGACY)
    os.chmod(config, 0o640)
    os.chown(config, 1234, 5678)
    assert tool("migrate", str(config), "--certs-dir", str(tmp_path / "certs.d"), "--write").returncode == 0
    for path in (config, Path(str(config) + ".bak")):
        st = os.stat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1234, 5678), path
    assert Path(str(config) + ".bak").read_text() == LEGACY


def test_files_holding_credentials_are_0600_and_the_first_backup_is_kept(tmp_path):
    source = tmp_path / "auth.yaml"
    source.write_text(A_YAML + "configs:\n  m.example.com:\n    auth: {username: u, password: pw}\n")
    out = tmp_path / "out.toml"
    out.write_text("# an earlier, world-readable file\n")
    os.chmod(out, 0o644)
    assert tool("convert", str(source), "--to", "cri-v2", "-o", str(out)).returncode == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert Path(str(out) + ".bak").read_text() == "# an earlier, world-readable file\n"
    run = tool("convert", str(tmp_path / "auth.yaml"), "--to", "registries-yaml", "-o", str(out))
    assert run.returncode == 0
    assert Path(str(out) + ".bak").read_text() == "# an earlier, world-readable file\n"  # never overwritten
    cri = tmp_path / "new-config.toml"
    assert tool("convert", str(source), "--to", "certs-d", "-o", str(tmp_path / "t"), "--cri-config", str(cri)
                ).returncode == 0
    assert stat.S_IMODE(os.stat(cri).st_mode) == 0o600
    tree = tmp_path / "h"
    (tree / "r.example.com").mkdir(parents=True)
    (tree / "r.example.com" / "hosts.toml").write_text(
        'server = "https://r.example.com"\n[host."https://m.example.com"]\n  capabilities = ["pull", "resolve"]\n'
        '  [host."https://m.example.com".header]\n    Authorization = "Bearer s3cr3t-t0ken"\n')
    assert tool("convert", str(tree), "--to", "certs-d", "-o", str(tmp_path / "copy")).returncode == 0
    assert stat.S_IMODE(os.stat(tmp_path / "copy" / "r.example.com" / "hosts.toml").st_mode) == 0o600


@pytest.mark.parametrize("umask", [0o077, 0o022, 0o000])
def test_a_tree_gets_its_modes_whatever_the_umask(tmp_path, umask):
    """hosts.toml files are 0644 (containerd reads them as any user may) and a file with a credential
    0600, under a strict umask as under none (files are created with their mode only when the umask
    leaves it whole)."""
    source = tmp_path / "tree"
    for host, extra in (("plain.example.com", ""), ("secret.example.com", '  [host."https://m.example.com".header]\n'
                                                     '    Authorization = "Bearer s3cr3t"\n')):
        (source / host).mkdir(parents=True)
        (source / host / "hosts.toml").write_text(f'[host."https://m.example.com"]\n  capabilities = ["pull"]\n{extra}')
    out = tmp_path / "out"
    run = subprocess.run(["sh", "-c", f'umask {umask:03o} && exec "$@"', "sh", *command("convert", str(source), "--to",
                          "certs-d", "-o", str(out))], capture_output=True, text=True, cwd=ROOT, env=environment(),
                         stdin=subprocess.DEVNULL, timeout=60)
    assert run.returncode == 0, run.stderr
    modes = {host: stat.S_IMODE(os.stat(out / host / "hosts.toml").st_mode) for host in os.listdir(out)}
    assert modes == {"plain.example.com": 0o644, "secret.example.com": 0o600}


# --- secrets in every output ------------------------------------------------------------------

def test_the_migrate_diff_masks_secrets_in_every_toml_spelling(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('version = 2\n'
                      '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                      '  endpoint = ["https://mirror.example.com"]\n'
                      '[plugins."io.containerd.grpc.v1.cri".registry]\n'
                      '  configs."mirror.example.com".auth.password = "pw1"\n'
                      '  configs."a.example.com".auth = { username = "u", password = \'pw2\' }\n'
                      '  configs."b.example.com".auth.identitytoken = """\nt0k\n"""\n'
                      '  configs."c.example.com".auth.auth = "dTpwdzM="\n'
                      '  headers = { Authorization = ["Basic dTpwdzQ="] }\n')
    run = tool("migrate", str(config), "--certs-dir", str(tmp_path / "certs.d"))
    assert run.returncode == 0, run.stderr
    for secret in ("pw1", "pw2", "t0k", "dTpwdzM=", "dTpwdzQ="):
        assert secret not in run.stdout + run.stderr, secret
    assert "mirror.example.com" in run.stdout  # masked by field, not by hunting the text


def test_errors_mask_bare_auth_strings_and_userinfo_without_a_scheme(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("configs:\n  r.example.com:\n    auth: dTpwdw==\n")
    run = tool("show", str(bad))
    assert run.returncode == 2 and "dTpwdw==" not in run.stderr
    hosts = tmp_path / "t" / "x.example.com"
    hosts.mkdir(parents=True)
    (hosts / "hosts.toml").write_text('server = "user:pw@x.example.com"\n[host]\n')
    run = tool("check", str(tmp_path / "t"))
    assert ":pw@" not in run.stdout + run.stderr and "user:***@x.example.com" in run.stdout + run.stderr


# --- bounded parsing --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "a = " + "[" * 5000 + "]" * 5000 + "\n",
    "[" + ".".join(["k"] * 5000) + "]\n",
    ".".join(["k"] * 5000) + " = 1\n",
    "a = " + "{b = " * 500 + "1" + "}" * 500 + "\n",
])
def test_toml_nesting_is_bounded_before_parsing(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text("version = 2\n" + text)
    for args in (("show", str(path)), ("migrate", str(path)), ("check", str(path))):
        run = tool(*args)
        assert "Traceback" not in run.stderr
        assert "nests too deeply" in run.stderr + run.stdout and ":2" in run.stderr + run.stdout, run.stderr


# --- what an edit keeps -----------------------------------------------------------------------

def test_an_edit_keeps_line_endings_and_byte_order_mark(tmp_path):
    crlf = tmp_path / "crlf.toml"
    crlf.write_bytes(LEGACY.replace("\n", "\r\n").encode())
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + LEGACY.encode())
    for path in (crlf, bom):
        run = tool("migrate", str(path), "--certs-dir", str(tmp_path / f"{path.stem}.d"), "--write",
                   "--containerd", "1.7")
        assert run.returncode == 0, run.stderr
    text = crlf.read_bytes()
    assert text.count(b"\n") == text.count(b"\r\n") and b"config_path" in text
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf") and b"config_path" in bom.read_bytes()
    assert tool("diff", str(crlf) + ".bak", str(crlf), "--containerd", "1.7").returncode == 0


def test_an_output_reached_through_a_symlink_replaces_its_target(tmp_path):
    source = tmp_path / "a.yaml"
    source.write_text(A_YAML)
    real = tmp_path / "real.toml"
    real.write_text("# before\n")
    link = tmp_path / "link.toml"
    link.symlink_to(real.name)
    run = tool("convert", str(source), "--to", "cri-v2", "-o", str(link))
    assert run.returncode == 0, run.stderr
    assert link.is_symlink() and "version = 2" in real.read_text()
    assert Path(str(real) + ".bak").read_text() == "# before\n"


@needs_root
def test_a_tree_that_is_a_mount_point_is_refused(small_disk, tmp_path):
    (tmp_path / "a.yaml").write_text(A_YAML)
    before = state(small_disk)
    run = tool("convert", str(tmp_path / "a.yaml"), "--to", "certs-d", "-o", str(small_disk))
    assert run.returncode == 2 and "mount point" in run.stderr and "nothing was changed" in run.stderr
    assert state(small_disk) == before
