"""Writing files and folders so that a reader, or a kill, sees the old version or the new one,
never part of one, and nothing is left behind for good.

Every write goes to a hidden temporary sibling of its target (`.NAME.<random>.tmp` for a file,
`.NAME.tmp-<random>` for a folder) that is renamed over the target in one step. The writer holds
an advisory lock (`flock`) on its temporary while it works. The kernel drops that lock when the
process dies, however it dies, so a temporary whose lock is free was left by a killed run: the
next write to the same target deletes it, and readers skip it (`is_leftover`).

An existing folder is swapped with its replacement in one step (Linux `renameat2` with
`RENAME_EXCHANGE`), so the target is never absent. Where the kernel or file system cannot
exchange, the old folder is first renamed aside (`.NAME.old-<random>`); if a kill comes between
the two renames, the next write to that target puts the old folder back before anything else.

Every file and folder the project writes goes through `write_file`, `write_folder` or
`replacing_folder`: the dataset build, results.json, baselines and imported submissions.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from recenter_bench.errors import UserError, printable

# mkstemp/mkdtemp draw their random part from these characters.
_RANDOM = r"[a-z0-9_]+"
_TEMP_FILE = re.compile(rf"^\.(?P<target>.+)\.{_RANDOM}\.tmp$")
_TEMP_FOLDER = re.compile(rf"^\.(?P<target>.+)\.(?P<kind>tmp|old)-{_RANDOM}$")


def leftover_target(name: str) -> str | None:
    """The name of the file or folder a temporary of this module stands for (of a write in
    progress, or of a killed one), or None when `name` is not one of them."""
    match = _TEMP_FILE.match(name) or _TEMP_FOLDER.match(name)
    return match["target"] if match else None


def is_leftover(name: str) -> bool:
    """Whether a name is one of this module's temporaries: readers of a folder skip these
    instead of reporting them."""
    return leftover_target(name) is not None


def _leftovers(target: Path) -> Iterator[tuple[Path, str]]:
    """(path, "file" / "tmp" / "old") of every temporary of `target` in its folder."""
    try:
        entries = list(os.scandir(target.parent))
    except FileNotFoundError:
        return
    for entry in entries:
        file_match = _TEMP_FILE.match(entry.name)
        folder_match = _TEMP_FOLDER.match(entry.name)
        if file_match and file_match["target"] == target.name:
            yield Path(entry.path), "file"
        elif folder_match and folder_match["target"] == target.name:
            yield Path(entry.path), folder_match["kind"]


def _lock(path: Path, *, wait: bool) -> int | None:
    """An open descriptor holding an exclusive flock on `path` (never following a link), or
    None when another live process holds it (or it vanished)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_leftovers(target: Path) -> None:
    """Delete the temporaries that killed runs left beside `target`; a folder set aside by a run
    killed between its two renames is first put back when `target` is absent."""
    target = Path(target)
    found = list(_leftovers(target))
    # Newest last: if several were set aside, the most recent one was the target's last state.
    found.sort(key=lambda item: (item[1] == "old", _mtime(item[0])))
    for path, kind in reversed(found):
        fd = _lock(path, wait=False)
        if fd is None:  # a live writer's, or already gone
            continue
        try:
            if kind == "old" and not os.path.lexists(target):
                os.rename(path, target)
            else:
                _remove(path)
        finally:
            os.close(fd)


def clean_file_leftovers(folder: Path) -> None:
    """Delete the temporary files that killed writers left anywhere in `folder` (not in its
    sub-folders): one scan for a folder of many small files written with `clean=False`."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".")]
    except OSError:
        return
    for entry in entries:
        if _TEMP_FILE.match(entry.name):
            fd = _lock(Path(entry.path), wait=False)
            if fd is None:  # a live writer's, or already gone
                continue
            try:
                Path(entry.path).unlink(missing_ok=True)
            finally:
                os.close(fd)


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(path: Path) -> None:
    """Make a rename inside `path` durable (the entry lives in the folder, not in the file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new, empty temporary sibling of `path` (`.NAME.<random>.tmp`), opened for writing with
    the mode a plain open() gives (the umask applies; no umask round trip, which is not
    thread-safe, and no fchmod)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        tmp = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # 48 random bits taken: draw again
            continue


def write_file(path: Path, data: bytes, *, durable: bool = True, clean: bool = True) -> None:
    """Replace (or create) the file `path` with `data`: temporary sibling, fsync, rename.

    `durable=False` skips the two fsyncs: readers still see the old file or the new one, never
    part of one, but a power cut may lose the new one. For caches, whose lost entries are
    simply made again, where an fsync per entry is most of the cost of a write.
    `clean=False` skips the search for a killed writer's temporaries beside `path` (a scan of
    its folder per write); the caller cleans the folder otherwise (`clean_file_leftovers`)."""
    path = Path(path)
    if clean:
        clean_leftovers(path)
    fd, tmp = _create_temporary(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
        os.replace(tmp, path)
        if durable:
            _fsync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


# renameat2(2) flags and the "current directory" descriptor, from <fcntl.h> / <linux/fs.h>.
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step; False where the kernel or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a C library without renameat2
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(new: Path, target: Path) -> None:
    """Put the finished folder `new` at `target`; an old `target` ends up at `new`'s path."""
    if not os.path.lexists(target):
        os.rename(new, target)
    elif not _exchange(new, target):
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        # The set-aside folder is locked so that no other run mistakes it for a leftover.
        fd = _lock(target, wait=True)
        try:
            os.replace(target, aside)
            try:
                os.rename(new, target)
            except OSError:
                os.replace(aside, target)
                raise
            os.rename(aside, new)
        finally:
            if fd is not None:
                os.close(fd)
    _fsync_folder(target.parent)


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_folder(Path(root))


@contextlib.contextmanager
def replacing_folder(target: Path) -> Iterator[Path]:
    """An empty scratch folder to fill; when the block ends without an error it replaces (or
    creates) `target` in one step. On an error, `target` is left as it was.

        with replacing_folder(out) as scratch:
            (scratch / "README.md").write_text(card)
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    fd = _lock(scratch, wait=True)
    try:
        # mkdtemp makes a private (0700) folder; give it the mode a plain mkdir would.
        os.chmod(scratch, 0o777 & ~_umask())
        yield scratch
        _fsync_tree(scratch)
        _swap_in(scratch, target)
    finally:
        _remove(scratch)  # the unfinished folder, or the old one swapped out
        if fd is not None:
            os.close(fd)


def refuse_foreign(target: Path, may_hold: Collection[str], label: str) -> None:
    """Refuse (one-line `UserError`, named by `label`, e.g. "--out") to replace `target` when
    it exists and holds anything but regular files named in `may_hold`: a user's notes, a
    subfolder or a link there would be lost. A missing or empty folder may be replaced."""
    target = Path(target)
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        raise UserError(f"{label}: {target}: exists and is not a folder; nothing was written")
    allowed = set(may_hold)
    with os.scandir(target) as entries:  # stops at the first stranger, however large the folder
        strangers = (
            entry.name
            for entry in entries
            if entry.name not in allowed or not entry.is_file(follow_symlinks=False)
        )
        stranger = next(strangers, None)
    if stranger is not None:
        raise UserError(
            f"{label}: {target}: holds {printable(stranger)!r}, which this command did not "
            "write and would be lost when the folder is replaced; nothing was written (choose "
            "another folder, or move it away)"
        )


def write_folder(
    target: Path, files: Mapping[str, bytes], may_hold: Collection[str], label: str
) -> None:
    """Replace (or create) the folder `target` with exactly `files` ({name: bytes}), unless it
    holds anything but files named in `may_hold` (`refuse_foreign`)."""
    refuse_foreign(target, may_hold, label)
    with replacing_folder(target) as scratch:
        for name, data in files.items():
            (scratch / name).write_bytes(data)
