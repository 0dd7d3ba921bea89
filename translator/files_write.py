"""Writing files whole or not at all, one writer at a time (files_tree.py writes trees).

A `WriteBatch` writes several targets (a certs.d tree and the config.toml that names it) as
one: every target is locked, checked and staged before anything is replaced, and replacing
is renames only (signals held), so a failure leaves nothing changed and a kill leaves every
target exactly old or exactly new.

- **Lock**: `flock` on the directory that holds the target (no lock file to leave behind); a
  second writer waits up to REGISTRIES_TRANSLATOR_LOCK_WAIT seconds (default 3), then fails
  plainly.
- **Changed meanwhile**: a file edited in place (`expect`) is compared, under the lock, with
  what was read (inode, size, mtime, then SHA-256); a file changed by anyone else is not
  overwritten.
- **Temporary files** are `.<name>.rt-XXXXXXXX.tmp` beside the target; a killed run's are
  removed by the next run under the lock (and the older tool's `.<name>.XXXXXXXX.tmp`).
- **Mode and owner**: a replaced file keeps both (a generated output holding credentials loses
  its group and other bits); a new file is 0644, or 0600 when it holds credentials.
- **`.bak`**: the first backup is a hard link to the original (same mode, owner, content) and
  is never overwritten, so it keeps the original across runs, however many run at once.
- **Only regular files are replaced**: a directory, FIFO, socket or device is refused, except
  that standard streams (`/dev/stdout`, `/dev/fd/N`) and null devices are written in place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
import time
from typing import TYPE_CHECKING

from .errors import InputError
from .files import ABSENT, Fingerprint, fault, kind_of, os_error, read_nofollow
from .record import record

if TYPE_CHECKING:
    from .files_tree import TreeWrite

LOCK_WAIT_ENV = "REGISTRIES_TRANSLATOR_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 3.0
_NULL_DEVICE = os.makedev(1, 3)
_BOM = b"\xef\xbb\xbf"
_STREAMS = re.compile(r"^/(?:dev/(?:stdout|stderr|fd/(\d+))|proc/self/fd/(\d+))$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def random_suffix() -> str:
    """Eight random letters and digits for a temporary name (os.urandom: the `secrets` module would
    load hashlib and random, a tenth of a start-up, for a name that only has to be unlikely)."""
    return "".join(_ALPHABET[byte % 36] for byte in os.urandom(8))


def temp_pattern(name: str) -> re.Pattern[str]:
    """Temporary files of NAME left by a killed run (this tool's, and the older tool's)."""
    return re.compile(rf"^\.{re.escape(name)}\.(?:rt-[a-z0-9]{{8}}|[a-z0-9_]{{8}})\.tmp$")


def fsync_dir(directory: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- locks ------------------------------------------------------------------------------------

def _lock_wait() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT)))
    except ValueError:
        return DEFAULT_LOCK_WAIT


def acquire_lock(path: str, label: str, optional: bool = False) -> int:
    """An exclusive flock on PATH, a directory or a regular file (no lock file is left anywhere),
    waited for up to the lock wait; LABEL is the target named in errors. Every writer of a target
    locks the directory that holds it, so two runs writing there take turns; the target itself is
    locked too, for other programs that lock the file or the tree they edit (OPTIONAL: -1 when it
    cannot be opened)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if optional:
            return -1
        raise os_error(exc, label, changed=False) from None
    try:
        deadline = time.monotonic() + _lock_wait()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InputError(f"another registries-translator run is writing it (or another program holds "
                                     f"the lock on {path}); nothing was changed", file=label,
                                     fix="try again when it has finished") from None
                time.sleep(0.05)
            except OSError as exc:
                if exc.errno in (errno.ENOLCK, errno.EBADF, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
                    return fd  # a file system that cannot lock a directory (NFS): changes are still detected
                raise os_error(exc, label, changed=False, fix=f"cannot lock {path}") from None
    except BaseException:
        os.close(fd)
        raise


# --- single files -----------------------------------------------------------------------------

@record(mutable=True)
class FileWrite:
    """What writing one file did: its path, and its backup (`backup_existed`: an earlier `.bak`
    was there and was kept as it was)."""

    path: str
    backup: str | None = None
    backup_existed: bool = False
    in_place: bool = False


def _stream_fd(path: str) -> int | None:
    """The open file descriptor a `/dev/stdout`-like PATH names, to write to in place."""
    match = _STREAMS.match(path)
    if not match:
        return None
    if path.endswith("stdout"):
        return 1
    if path.endswith("stderr"):
        return 2
    return int(match.group(1) or match.group(2))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _FileOp:
    """One file, prepared: a complete temporary file beside the target, ready to be renamed."""

    def __init__(self, path: str, data: bytes, secret: bool, edit: bool, backup: bool,
                 expect: Fingerprint | None) -> None:
        self.path = path
        self.data = data
        self.secret = secret
        self.edit = edit
        self.backup = backup
        self.expect = expect
        self.stream: int | None = None
        self.target = ""
        self.temp: str | None = None
        self.old: os.stat_result | None = None
        self.made_backup: str | None = None
        self.replaced = False
        self.result = FileWrite(path)

    # prepare: nothing visible changes
    def prepare(self, batch: WriteBatch) -> FileWrite:
        path = self.path
        self.stream = _stream_fd(path)
        if self.stream is not None:
            self.result.in_place = True
            return self.result
        try:
            st: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise os_error(exc, path, changed=False) from None
        if st is not None and not stat.S_ISREG(st.st_mode):
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == _NULL_DEVICE:
                self.stream = -1  # a null device: written in place, which discards it
                self.result.in_place = True
                return self.result
            raise InputError(f"is {kind_of(st.st_mode)}, not a regular file; nothing was written", file=path,
                             fix="name a regular file, or leave out -o to print to standard output")
        self.target = os.path.realpath(path)
        directory = os.path.dirname(self.target) or "."
        name = os.path.basename(self.target)
        if not os.path.isdir(directory):
            raise InputError("its directory does not exist; nothing was changed", file=path)
        batch.lock(directory, path)
        remove_temp_files(directory, name)
        try:
            self.old = os.lstat(self.target)
        except FileNotFoundError:
            self.old = None
        except OSError as exc:
            raise os_error(exc, path, changed=False) from None
        if self.old is not None and not stat.S_ISREG(self.old.st_mode):
            raise InputError(f"is {kind_of(self.old.st_mode)}, not a regular file; nothing was written", file=path)
        if self.old is not None:
            batch.lock(self.target, path, optional=True)
        if self.expect is not None:
            self._check_unchanged(full=True)
        if (self.edit and self.old is not None and not self.data.startswith(_BOM)
                and (read_nofollow(self.target) or b"").startswith(_BOM)):
            self.data = _BOM + self.data  # an edit keeps the file's byte-order mark
        try:
            self._stage(directory, name)
        except OSError as exc:
            raise os_error(exc, path, changed=False) from None
        fault("file-temp")
        return self.result

    def _check_unchanged(self, full: bool) -> None:
        expect = self.expect or ABSENT
        try:
            now: os.stat_result | None = os.stat(self.target)
        except FileNotFoundError:
            now = None
        if expect.same_stat(now):
            return
        if full and now is not None and expect.exists:
            import hashlib

            if hashlib.sha256(read_nofollow(self.target) or b"").hexdigest() == expect.sha256:
                # the same content, touched: from here on it must stay as it is now
                self.expect = Fingerprint(now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns, expect.sha256)
                return
        raise InputError("changed since it was read (another program wrote it meanwhile); nothing was changed",
                         file=self.path, fix="run the command again to work on the new content")

    def _mode(self) -> int:
        if self.old is None:
            return 0o600 if self.secret else 0o644
        mode = stat.S_IMODE(self.old.st_mode)
        if self.secret and not self.edit:
            mode &= ~0o077  # a generated output that now holds credentials
        return mode

    def _stage(self, directory: str, name: str) -> None:
        for _attempt in range(100):
            temp = os.path.join(directory, f".{name}.rt-{random_suffix()}.tmp")
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                             | getattr(os, "O_CLOEXEC", 0), 0o600)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 100 collisions of 8 random characters
            raise FileExistsError(errno.EEXIST, "no free temporary name", directory)
        self.temp = temp
        try:
            write_all(fd, self.data)
            if self.old is not None:
                keep_owner(fd, self.old, self.path)
            os.fchmod(fd, self._mode())
            os.fsync(fd)
        finally:
            os.close(fd)

    # commit: renames and links only
    def precommit(self) -> None:
        if self.stream is not None:
            return
        if self.expect is not None:
            self._check_unchanged(full=False)
        if self.backup and self.old is not None:
            self._make_backup()

    def _make_backup(self) -> None:
        backup = self.target + ".bak"
        self.result.backup = backup if os.path.islink(self.path) else self.path + ".bak"
        try:
            os.link(self.target, backup, follow_symlinks=False)
        except FileExistsError:
            self.result.backup_existed = True
            return
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES):
                raise os_error(exc, backup, changed=False) from None
            self._copy_backup(backup)
            return
        self.made_backup = backup
        fault("file-backup")

    def _copy_backup(self, backup: str) -> None:
        """A file system without hard links: the original copied, mode and owner included."""
        assert self.old is not None
        directory, name = os.path.split(self.target)
        temp = os.path.join(directory, f".{name}.rt-{random_suffix()}.tmp")
        try:
            with open(self.target, "rb") as source:
                original = source.read()
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                write_all(fd, original)
                keep_owner(fd, self.old, backup)
                os.fchmod(fd, stat.S_IMODE(self.old.st_mode))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(temp, backup, follow_symlinks=False)
                self.made_backup = backup
            except FileExistsError:
                self.result.backup_existed = True
        except OSError as exc:
            raise os_error(exc, backup, changed=False) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def commit(self) -> None:
        if self.stream is not None:
            self._write_in_place()
            return
        assert self.temp is not None
        os.replace(self.temp, self.target)
        self.replaced = True
        fault("file-replaced")
        fsync_dir(os.path.dirname(self.target) or ".")

    def _write_in_place(self) -> None:
        try:
            if self.stream == -1:
                fd = os.open(self.path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
                try:
                    write_all(fd, self.data)
                finally:
                    os.close(fd)
            else:
                assert self.stream is not None
                write_all(self.stream, self.data)
        except OSError as exc:
            raise os_error(exc, self.path) from None

    def finish(self) -> None:
        return None

    def abort(self) -> None:
        if self.temp is not None and not self.replaced:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
        if self.made_backup is not None and not self.replaced:
            with contextlib.suppress(OSError):
                os.unlink(self.made_backup)

    def rollback(self) -> None:
        return None


def keep_owner(fd: int, old: os.stat_result, label: str) -> None:
    """Give the new file FD the owner of the file it replaces (refusing to change who owns it)."""
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) == (old.st_uid, old.st_gid):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except OSError as exc:
        raise InputError(f"cannot keep its owner ({old.st_uid}:{old.st_gid}): {exc.strerror}; nothing was changed",
                         file=label, fix="run as its owner or as root") from None


def remove_temp_files(directory: str, name: str) -> None:
    """Temporary files of NAME left in DIRECTORY by a killed run (call under NAME's lock)."""
    pattern = temp_pattern(name)
    with contextlib.suppress(OSError), os.scandir(directory) as scan:
        for entry in scan:
            if pattern.match(entry.name) and not entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


# --- batches ----------------------------------------------------------------------------------

@contextlib.contextmanager
def _signals_held():
    """SIGINT, SIGTERM and SIGHUP wait while targets are renamed into place (a few renames)."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not a POSIX main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class WriteBatch:
    """Targets written as one: `tree()` and `file()` lock, check and stage; `commit()` renames
    everything into place, trees first; leaving the `with` block without a commit removes
    whatever was staged, and a failed commit puts a swapped tree back."""

    def __init__(self) -> None:
        self._locks: dict[str, int] = {}
        self._ops: list[object] = []
        self._committed: list[object] = []
        self._done = False
        self._finished = False

    def __enter__(self) -> WriteBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self._done:
                for op in reversed(self._committed):
                    op.rollback()  # type: ignore[attr-defined]
                for op in reversed(self._ops):
                    op.abort()  # type: ignore[attr-defined]
            elif not self._finished:  # interrupted after the commit: the old trees still go
                self._finish()
        finally:
            for fd in self._locks.values():
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._locks.clear()

    def lock(self, path: str, label: str, optional: bool = False) -> None:
        """Hold PATH's lock (a directory, or a regular file) until the batch ends, once. OPTIONAL:
        the target itself, which is skipped if it cannot be opened (its directory is locked)."""
        path = os.path.realpath(path)
        if path not in self._locks:
            fd = acquire_lock(path, label, optional)
            if fd >= 0:
                self._locks[path] = fd
                fault("locked")

    def file(self, path: str, data: bytes, *, secret: bool = False, edit: bool = False, backup: bool = False,
             expect: Fingerprint | None = None) -> FileWrite:
        """Stage DATA for PATH. SECRET: it holds credentials (0600 when new). EDIT: PATH's own
        content edited (its mode is kept exactly). BACKUP: keep the original as PATH.bak.
        EXPECT: PATH as it was read; anything else there now is refused."""
        op = _FileOp(path, data, secret, edit, backup, expect)
        self._ops.append(op)
        return op.prepare(self)

    def tree(self, root: str, files: dict[str, tuple[str, int]], force: bool = False) -> TreeWrite:
        """Stage the certs.d tree FILES for ROOT (files_tree.TreeOp)."""
        from .files_tree import TreeOp

        op = TreeOp(root, files, force)
        self._ops.append(op)
        return op.prepare(self)

    def tidy(self, path: str, tree: bool = False) -> None:
        """Only clean up what a killed run left beside PATH (a tree's root when TREE, else a file)."""
        from .files_tree import recover

        target = os.path.realpath(path)
        directory, name = os.path.split(target)
        if not name or not os.path.isdir(directory):
            return
        self.lock(directory, path)
        if tree:
            recover(target)
        else:
            remove_temp_files(directory, name)

    def commit(self) -> None:
        fault("staged")
        try:
            with _signals_held():
                for op in self._ops:
                    op.precommit()  # type: ignore[attr-defined]
                for op in self._ops:
                    self._committed.append(op)
                    op.commit()  # type: ignore[attr-defined]
                self._done = True
        except OSError as exc:
            label = getattr(self._committed[-1] if self._committed else self._ops[0], "path", "")
            raise os_error(exc, label, changed=False) from None
        self._finish()
        fault("done")

    def _finish(self) -> None:
        self._finished = True
        for op in self._ops:
            op.finish()  # type: ignore[attr-defined]
