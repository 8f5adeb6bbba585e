"""Reading a submission folder from disk without trusting it: symbolic links, sub-folders,
special files and oversized files are refused, never opened."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from recenter_bench.submissions.messages import problem, show_name, too_big, unexpected_file
from recenter_bench.submissions.names import ALLOWED_FILES, max_bytes


@dataclass
class FolderFiles:
    """A submission folder as read from disk: the readable files' bytes, the names that exist
    but were refused, and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def read_folder(folder: Path) -> FolderFiles:
    """The files of a submission folder as bytes, and the problems of the folder itself."""
    shown = str(folder)
    read = FolderFiles()
    if folder.is_symlink():
        read.problems.append(problem(shown, None, None, "is a symbolic link; submit a real folder"))
        return read
    if not folder.is_dir():
        read.problems.append(problem(shown, None, None, "no such submission folder"))
        return read
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        data, why = _read_entry(entry)
        if data is not None:
            read.files[entry.name] = data
            continue
        read.problems.append(problem(os.path.join(shown, show_name(entry.name)), None, None, why))
        if entry.name in ALLOWED_FILES:
            read.rejected.add(entry.name)
    return read


def _read_entry(entry: os.DirEntry) -> tuple[bytes | None, str]:
    """(the bytes of one folder entry, or None and why it was refused)."""
    if entry.is_symlink():
        return None, "symbolic links are not allowed"
    if entry.is_dir(follow_symlinks=False):
        return None, "folders are not allowed inside a submission"
    if not entry.is_file(follow_symlinks=False):
        return None, "not a regular file"
    if entry.name not in ALLOWED_FILES:
        return None, unexpected_file()
    limit = max_bytes(entry.name)
    size = entry.stat(follow_symlinks=False).st_size
    if size > limit:
        return None, too_big(size, entry.name)
    data = _read_no_follow(Path(entry.path), limit)
    if data is None:
        return None, "could not be read as a regular file"
    if len(data) > limit:  # it grew since it was listed
        return None, too_big(len(data), entry.name)
    return data, ""


def _read_no_follow(path: Path, limit: int) -> bytes | None:
    """Read at most limit + 1 bytes, refusing a file swapped for a link since it was listed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return handle.read(limit + 1)
    finally:
        if fd != -1:
            os.close(fd)
