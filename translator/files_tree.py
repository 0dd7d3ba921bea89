"""Writing a certs.d tree whole or not at all, over an existing tree too.

The complete new tree is built in a hidden sibling, `.<root>.rt-stage-XXXXXXXX`: the new
hosts.toml files, and everything of the old tree that stays (hand-written host directories,
certificates and other files beside a generated hosts.toml, symlinks) hard-linked or
recreated with its mode and owner. It is flushed, then swapped with the root in one
`renameat2(RENAME_EXCHANGE)`, and the old tree, now under the staging name, is removed. A
kill at any moment leaves the root exactly old or exactly new; a new root is renamed into
place with RENAME_NOREPLACE.

Where the exchange is not supported (an old kernel or C library, some file systems) the swap
is three renames — `stage` to `ready` (complete), the root to `aside`, `ready` to the root —
and the next run rolls a root found missing forward from `ready` (or back from `aside`).

Every writer holds the lock of the root's parent directory, so a leftover `.<root>.rt-*` found there is
a killed run's and is removed (or rolled forward) first, as are the older tool's per-file
`.hosts.toml.XXXXXXXX.tmp` files inside host directories, which are never carried over.

The rules of what may be replaced are unchanged: a path that would leave the root, a symlink
on the way, or an existing hosts.toml this tool did not generate (unless `force`) stops the
whole write; generated directories no longer in the tree are pruned, hand-written ones kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import stat
from typing import TYPE_CHECKING

from .errors import InputError
from .files import MAX_TREE_ENTRIES, fault, fault_option, is_generated, os_error, read_nofollow
from .files_write import fsync_dir, keep_owner, random_suffix, write_all
from .record import field, record

if TYPE_CHECKING:
    from .files_write import WriteBatch

_FSYNC_EACH = 64
_MAX_NESTING = 64
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: renameat2's number where the C library has no wrapper (glibc < 2.28, older musl)
_SYSCALLS = {"x86_64": 316, "aarch64": 276, "riscv64": 276, "i386": 353, "i686": 353, "armv7l": 382,
             "armv6l": 382, "ppc64le": 357, "ppc64": 357, "s390x": 347, "loongarch64": 276}
_LEGACY_TEMP = re.compile(r"^\.hosts\.toml\.[a-z0-9_]{8}\.tmp$")


@record(mutable=True)
class TreeWrite:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: bool = False


def _safe_component(name: str) -> bool:
    return (bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name
            and "\x00" not in name and len(name.encode("utf-8", "surrogateescape")) < 256)


def leftover_pattern(name: str) -> re.Pattern[str]:
    """A killed run's staging names for the root NAME: (kind, suffix), kind None for the older
    tool's `.<root>.XXXXXXXX.tmp`."""
    return re.compile(rf"^\.{re.escape(name)}\.(?:rt-(stage|ready|aside|trash)-([a-z0-9]{{8}})|[a-z0-9_]{{8}}\.tmp)$")


# --- renameat2 --------------------------------------------------------------------------------

_renameat2_fn: object = None


def _renameat2_function() -> object:
    global _renameat2_fn
    if _renameat2_fn is None:
        _renameat2_fn = False
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if hasattr(libc, "renameat2"):
                _renameat2_fn = libc.renameat2
            elif os.uname().machine in _SYSCALLS:
                number = _SYSCALLS[os.uname().machine]

                def via_syscall(*args: object) -> int:
                    return libc.syscall(ctypes.c_long(number), *args)  # type: ignore[no-any-return]

                _renameat2_fn = via_syscall
    return _renameat2_fn


def renameat2(source: str, target: str, flags: int) -> bool:
    """renameat2(SOURCE, TARGET, FLAGS); False when this system cannot do it (nothing happened)."""
    function = _renameat2_function()
    if not function or fault_option("noexchange"):
        return False
    result = function(ctypes.c_int(_AT_FDCWD), os.fsencode(source), ctypes.c_int(_AT_FDCWD),  # type: ignore[operator]
                      os.fsencode(target), ctypes.c_uint(flags))
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), target)


# --- leftovers --------------------------------------------------------------------------------

def _remove(path: str) -> None:
    """Remove PATH (a tree, a file or a symlink), never following a symlink."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path, onerror=_make_writable)
    else:
        os.unlink(path)


def _make_writable(function: object, path: str, _info: object) -> None:
    """rmtree's retry for a directory without write permission (a carried mode like 0555)."""
    parent = os.path.dirname(path)
    with contextlib.suppress(OSError):
        os.chmod(parent, stat.S_IMODE(os.lstat(parent).st_mode) | stat.S_IRWXU)
        function(path)  # type: ignore[operator]


def recover(root: str) -> None:
    """Finish or undo what a killed run left beside ROOT (call under ROOT's lock): a missing
    root is rolled forward from a complete `ready` tree or back from `aside`; every other
    leftover is removed."""
    parent, name = os.path.split(root)
    pattern = leftover_pattern(name)
    found: list[tuple[str | None, str]] = []
    with os.scandir(parent) as scan:
        for entry in scan:
            match = pattern.match(entry.name)
            if match:
                found.append((match.group(1), entry.path))
    if not found:
        return
    if not os.path.lexists(root):
        candidates = [p for kind in ("ready", "aside") for k, p in found
                      if k == kind and os.path.isdir(p) and not os.path.islink(p)]
        for candidate in candidates:
            try:
                os.rename(candidate, root)
            except OSError:
                continue
            fsync_dir(parent)
            found = [(k, p) for k, p in found if p != candidate]
            break
    for _kind, path in found:
        _remove(path)


# --- the new tree -----------------------------------------------------------------------------

class _Stager:
    """Builds the staging directory: new hosts.toml files and everything of the old tree that stays."""

    def __init__(self, stage: str, label: str) -> None:
        self.stage = stage
        self.label = label
        self.made_files: list[int] = []
        self.made_dirs: list[str] = []
        self.entries = 0
        self.fsync_each = True
        self.umask = os.umask(0o077)  # read (there is no other way) and put back at once
        os.umask(self.umask)

    def count(self) -> None:
        self.entries += 1
        if self.entries > MAX_TREE_ENTRIES:
            raise InputError(f"more than {MAX_TREE_ENTRIES} entries", file=self.label)

    def new_file(self, path: str, data: bytes, mode: int, old: os.stat_result | None) -> None:
        self.count()
        # created owner-only, widened after the owner is kept; a new file the umask leaves at MODE is
        # created with it (one fchmod less per file of a fleet)
        created = mode if old is None and not mode & self.umask else 0o600
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, created)
        try:
            write_all(fd, data)
            if old is not None:
                keep_owner(fd, old, self.label)
            if created != mode:
                os.fchmod(fd, mode)
            if self.fsync_each:
                os.fsync(fd)
        finally:
            os.close(fd)
        fault("tree-file")

    def new_dir(self, path: str) -> None:
        self.count()
        os.mkdir(path, 0o755)
        self.made_dirs.append(path)

    def carry(self, source: str, target: str, depth: int = 0) -> None:
        """SOURCE, an entry of the old tree, at TARGET in the new one: a file hard-linked (copied
        where links are refused), a directory recreated around its carried entries, a symlink or
        special file recreated, each with its mode, owner and times."""
        self.count()
        st = os.lstat(source)
        if stat.S_ISREG(st.st_mode):
            try:
                os.link(source, target, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES):
                    raise
                self._copy(source, target, st)
            return
        if stat.S_ISDIR(st.st_mode):
            if depth >= _MAX_NESTING:
                raise InputError(f"nests more than {_MAX_NESTING} directories deep", file=source)
            self.open_dir(target)
            with os.scandir(source) as scan:
                children = sorted(entry.name for entry in scan)
            for name in children:
                self.carry(os.path.join(source, name), os.path.join(target, name), depth + 1)
            self.close_dir(target, st, source, times=True)
            return
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(source), target)
        else:  # a FIFO, socket or device node someone keeps there
            os.mknod(target, st.st_mode, st.st_rdev)
        self._owner(target, st)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)

    def open_dir(self, path: str) -> None:
        os.mkdir(path, 0o700)
        self.made_dirs.append(path)

    def close_dir(self, path: str, st: os.stat_result, source: str, times: bool = False) -> None:
        """Give the recreated directory PATH the old one's owner, mode and extended attributes
        (SELinux labels, ACLs), and its times when its content is carried over unchanged."""
        self._owner(path, st)
        _copy_xattrs(source, path)
        os.chmod(path, stat.S_IMODE(st.st_mode))
        if times:
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    def _owner(self, path: str, st: os.stat_result) -> None:
        now = os.lstat(path)
        if (now.st_uid, now.st_gid) == (st.st_uid, st.st_gid):
            return
        try:
            os.lchown(path, st.st_uid, st.st_gid)
        except OSError as exc:
            raise InputError(f"cannot keep the owner ({st.st_uid}:{st.st_gid}) of what it holds: "
                             f"{exc.strerror}; nothing was changed", file=self.label,
                             fix="run as the tree's owner or as root") from None

    def _copy(self, source: str, target: str, st: os.stat_result) -> None:
        with open(source, "rb") as handle:
            data = handle.read()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            write_all(fd, data)
            keep_owner(fd, st, self.label)
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            if self.fsync_each:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))

    def flush(self) -> None:
        if self.fsync_each:
            for directory in self.made_dirs:
                fsync_dir(directory)
            fsync_dir(self.stage)
        else:
            _sync_file_system(self.stage)  # one flush for a whole fleet instead of one fsync per file


def _sync_file_system(directory: str) -> None:
    """Flush the file system that holds DIRECTORY: syncfs(2) where the C library has it (Linux), so
    that a large tree waits for its own disk only, not for every dirty page of the machine as
    sync(2) does; sync(2) elsewhere."""
    try:
        import ctypes

        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (OSError, AttributeError):
        os.sync()
        return
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _copy_xattrs(source: str, target: str) -> None:
    with contextlib.suppress(OSError, AttributeError):
        for name in os.listxattr(source, follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.setxattr(target, name, os.getxattr(source, name, follow_symlinks=False), follow_symlinks=False)


# --- one tree write ---------------------------------------------------------------------------

@record(mutable=True)
class _Host:
    """What an existing host directory holds: its entries and its hosts.toml."""

    names: list[str]
    hosts: bytes | None
    hosts_stat: os.stat_result | None
    legacy_temps: bool


class TreeOp:
    """The certs.d tree FILES ({"<dir>/hosts.toml": (text, mode)}) for ROOT, as a WriteBatch step."""

    def __init__(self, root: str, files: dict[str, tuple[str, int]], force: bool) -> None:
        self.path = root
        self.files = files
        self.force = force
        self.root = ""
        self.stage: str | None = None
        self.exists = False
        self.swapped = False
        self.renamed_new = False
        self.made_parents: list[str] = []
        self.result = TreeWrite()

    def prepare(self, batch: WriteBatch) -> TreeWrite:
        plan = self._plan_paths()
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise InputError("exists and is not a directory; nothing was changed", file=self.path)
        self.root = os.path.realpath(self.path)
        parent, name = os.path.split(self.root)
        if not name or not parent:
            raise InputError("cannot write a certs.d tree at the root of the file system", file=self.path)
        try:
            if os.path.lexists(parent) and not os.path.isdir(parent):
                raise InputError(f"{parent} is not a directory", file=self.path)
            missing = []
            above = parent
            while not os.path.lexists(above):
                missing.append(above)
                above = os.path.dirname(above)
            for directory in reversed(missing):
                os.mkdir(directory, 0o755)
                self.made_parents.append(directory)  # removed again if the write fails
        except OSError as exc:
            raise InputError(f"cannot create it: {exc.strerror}; nothing was changed", file=self.path) from None
        batch.lock(parent, self.path)
        try:
            recover(self.root)  # what a killed run left beside the root
        except OSError as exc:
            raise os_error(exc, self.path, changed=False) from None
        self.exists = os.path.lexists(self.root)
        if self.exists and not os.path.isdir(self.root):
            raise InputError("exists and is not a directory", file=self.path)
        if self.exists:
            batch.lock(self.root, self.path, optional=True)
        if self.exists and os.path.ismount(self.root):
            raise InputError("is a mount point, and a tree is replaced whole by renaming it within its parent; "
                             "nothing was changed", file=self.path,
                             fix="mount the directory above it instead, or write the tree inside the mount and "
                                 "point config_path there")
        self.result.written = [os.path.join(self.path, rel) for rel in self.files]
        try:
            hosts = self._existing() if self.exists else {}
            self._check(plan, hosts)
            if self.exists and self._unchanged(plan, hosts):
                self.result.unchanged = True
                return self.result
            self._build(plan, hosts, parent, name)
        except OSError as exc:
            raise os_error(exc, self.path, changed=False) from None
        return self.result

    def _plan_paths(self) -> dict[str, tuple[bytes, int]]:
        plan: dict[str, tuple[bytes, int]] = {}
        for rel, (text, mode) in self.files.items():
            parts = rel.split("/")
            if len(parts) != 2 or parts[1] != "hosts.toml" or not _safe_component(parts[0]):
                raise InputError(f"refusing to write {rel!r}: not a <host>/hosts.toml path below the output "
                                 "directory", file=self.path)
            plan[parts[0]] = (text.encode("utf-8"), mode)
        return plan

    def _existing(self) -> dict[str, _Host | None]:
        """Every entry of the old root: a real directory's contents, None for anything else."""
        found: dict[str, _Host | None] = {}
        with os.scandir(self.root) as scan:
            entries = list(scan)
        if len(entries) > MAX_TREE_ENTRIES:
            raise InputError(f"more than {MAX_TREE_ENTRIES} entries", file=self.path)
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                found[entry.name] = None
                continue
            with os.scandir(entry.path) as scan:
                names = sorted(item.name for item in scan)
            hosts = hosts_stat = None
            if "hosts.toml" in names:
                path = os.path.join(entry.path, "hosts.toml")
                hosts_stat = os.lstat(path)
                if stat.S_ISREG(hosts_stat.st_mode):
                    hosts = read_nofollow(path)
            legacy = any(_LEGACY_TEMP.match(n) for n in names)
            found[entry.name] = _Host(names, hosts, hosts_stat, legacy)
        return found

    def _check(self, plan: dict[str, tuple[bytes, int]], hosts: dict[str, _Host | None]) -> None:
        problems = []
        for directory in plan:
            if directory not in hosts:
                continue
            host = hosts[directory]
            path = os.path.join(self.root, directory)
            rel = f"{directory}/hosts.toml"
            if host is None:
                if os.path.islink(path):
                    problems.append(f"{rel}: is a symlink; refusing to write through it")
                else:
                    problems.append(f"{directory}: exists and is not a directory")
                continue
            if host.hosts_stat is None:
                continue
            if stat.S_ISLNK(host.hosts_stat.st_mode):
                problems.append(f"{rel}: is a symlink; refusing to write through it")
            elif not stat.S_ISREG(host.hosts_stat.st_mode):
                problems.append(f"{rel}: exists and is not a regular file")
            elif not self.force and not is_generated(host.hosts):
                problems.append(f"{rel}: exists and was not generated by registries-translator "
                                "(pass --force to replace it)")
        if problems:
            raise InputError("not written, nothing was changed:\n  " + "\n  ".join(problems), file=self.path)

    @staticmethod
    def _mode(plan_mode: int, old: os.stat_result | None) -> int:
        """A replaced hosts.toml keeps its mode, less group and other bits when it now holds credentials."""
        if old is None:
            return plan_mode
        mode = stat.S_IMODE(old.st_mode)
        return mode & ~0o077 if not plan_mode & 0o077 else mode

    def _stale(self, host: _Host) -> bool:
        return host.hosts is not None and is_generated(host.hosts)

    def _unchanged(self, plan: dict[str, tuple[bytes, int]], hosts: dict[str, _Host | None]) -> bool:
        for directory, (data, mode) in plan.items():
            host = hosts.get(directory)
            if host is None or host.hosts != data or host.legacy_temps or host.hosts_stat is None:
                return False
            if stat.S_IMODE(host.hosts_stat.st_mode) != self._mode(mode, host.hosts_stat):
                return False
        return not any(host is not None and directory not in plan and (self._stale(host) or host.legacy_temps)
                       for directory, host in hosts.items())

    def _build(self, plan: dict[str, tuple[bytes, int]], hosts: dict[str, _Host | None], parent: str,
               name: str) -> None:
        for _attempt in range(100):
            stage = os.path.join(parent, f".{name}.rt-stage-{random_suffix()}")
            try:
                os.mkdir(stage, 0o700)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover
            raise FileExistsError(errno.EEXIST, "no free staging name", parent)
        self.stage = stage
        stager = _Stager(stage, self.path)
        stager.fsync_each = len(plan) + len(hosts) <= _FSYNC_EACH
        for entry_name in sorted(hosts):
            host = hosts[entry_name]
            source = os.path.join(self.root, entry_name)
            target = os.path.join(stage, entry_name)
            if host is None:
                stager.carry(source, target)
                continue
            planned = plan.get(entry_name)
            stale = planned is None and self._stale(host)
            keep = [n for n in host.names if not _LEGACY_TEMP.match(n)
                    and not (n == "hosts.toml" and (planned is not None or stale))]
            if stale:
                self.result.removed.append(os.path.join(self.path, entry_name, "hosts.toml"))
            if planned is None and not keep and (stale or host.legacy_temps):
                continue  # only this tool's files were in it: the directory goes too
            st = os.lstat(source)
            stager.open_dir(target)
            for child in keep:
                stager.carry(os.path.join(source, child), os.path.join(target, child), 1)
            if planned is not None:
                data, mode = planned
                stager.new_file(os.path.join(target, "hosts.toml"), data, self._mode(mode, host.hosts_stat),
                                host.hosts_stat)
            stager.close_dir(target, st, source)
        for entry_name in sorted(plan):
            if entry_name in hosts:
                continue
            data, mode = plan[entry_name]
            stager.new_dir(os.path.join(stage, entry_name))
            stager.new_file(os.path.join(stage, entry_name, "hosts.toml"), data, mode, None)
        if self.exists:
            stager.close_dir(stage, os.stat(self.root), self.root)
        else:
            os.chmod(stage, 0o755)
        stager.flush()
        fault("tree-staged")

    # commit: one rename (or three without RENAME_EXCHANGE)
    def precommit(self) -> None:
        return None

    def commit(self) -> None:
        if self.stage is None:
            return
        parent = os.path.dirname(self.root)
        if not self.exists:
            if not renameat2(self.stage, self.root, _RENAME_NOREPLACE):
                if os.path.lexists(self.root):
                    raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), self.root)
                os.rename(self.stage, self.root)
            self.renamed_new = True
        elif renameat2(self.stage, self.root, _RENAME_EXCHANGE):
            self.swapped = True
        else:
            self._swap_by_renames(parent)
        fsync_dir(parent)
        fault("tree-swapped")

    def _swap_by_renames(self, parent: str) -> None:
        assert self.stage is not None
        suffix = self.stage.rsplit("-", 1)[1]
        base = os.path.join(parent, f".{os.path.basename(self.root)}.rt-")
        ready, aside, trash = (f"{base}{kind}-{suffix}" for kind in ("ready", "aside", "trash"))
        os.rename(self.stage, ready)
        self.stage = ready
        fsync_dir(parent)
        os.rename(self.root, aside)
        fault("tree-aside")
        os.rename(ready, self.root)
        fsync_dir(parent)
        os.rename(aside, trash)
        self.stage = trash

    def finish(self) -> None:
        """Remove the old tree (best effort: a leftover is removed by the next run)."""
        if self.stage is not None and not self.renamed_new:
            with contextlib.suppress(OSError):
                _remove(self.stage)
        fault("tree-cleaned")

    def rollback(self) -> None:
        """A later target of the batch failed: put the old tree back."""
        if self.swapped and self.stage is not None:
            with contextlib.suppress(OSError):
                if renameat2(self.stage, self.root, _RENAME_EXCHANGE):
                    self.swapped = False
        elif self.renamed_new and self.stage is not None:
            with contextlib.suppress(OSError):
                os.rename(self.root, self.stage)
                self.renamed_new = False

    def abort(self) -> None:
        if self.stage is not None and not self.renamed_new:
            with contextlib.suppress(OSError):
                if self.swapped:  # a rollback that failed: the new tree stays, the old one goes
                    _remove(self.stage)
                else:
                    recover(self.root)
        if not self.renamed_new:
            for directory in reversed(self.made_parents):
                with contextlib.suppress(OSError):
                    os.rmdir(directory)
