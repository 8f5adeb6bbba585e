"""The one atomic writer (`recenter_bench.atomic`), proven with real kills.

Each test runs the writer in a child process that stops at a chosen step (a function of the
writer replaced by one that says "paused" and sleeps), kills it with SIGKILL there, and checks
what a reader, and the next run, find on disk (issue 11, item 4).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from recenter_bench import atomic
from recenter_bench.cli import main
from recenter_bench.errors import UserError
from recenter_bench.loaders import build
from recenter_bench.loaders.build import build_dataset
from tests.fixture_release import make_fixture_release

PAUSE = """
import os, sys, time
from pathlib import Path

def pause(*args, **kwargs):
    print("paused", flush=True)
    time.sleep(600)
"""


def _run_until_paused(script: str) -> subprocess.Popen:
    """Start `script` in a child process and return once it has paused."""
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSE + textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = child.stdout.readline()
    if line != "paused\n":
        child.kill()
        raise AssertionError(f"the child did not pause: {line!r} {child.communicate()[1]}")
    return child


def _kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    child.stderr.close()


def _killed_at(script: str) -> None:
    _kill(_run_until_paused(script))


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


# -- files ------------------------------------------------------------------------------------


def test_killed_file_write_keeps_the_old_file_and_the_next_write_cleans_up(tmp_path) -> None:
    target = tmp_path / "results.json"
    target.write_bytes(b"old")
    _killed_at(
        f"""
        from recenter_bench import atomic
        os.fsync = pause  # stop with the new bytes written to the temporary, not yet renamed
        atomic.write_file(Path({str(target)!r}), b"new")
        """
    )
    assert target.read_bytes() == b"old"
    leftovers = [n for n in _names(tmp_path) if n != "results.json"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".results.json.")
    assert leftovers[0].endswith(".tmp") and atomic.is_leftover(leftovers[0])

    atomic.write_file(target, b"newer")
    assert _names(tmp_path) == ["results.json"] and target.read_bytes() == b"newer"


def test_a_live_writers_temporary_is_never_cleaned(tmp_path) -> None:
    target = tmp_path / "results.json"
    child = _run_until_paused(
        f"""
        from recenter_bench import atomic
        os.fsync = pause
        atomic.write_file(Path({str(target)!r}), b"new")
        """
    )
    try:
        atomic.clean_leftovers(target)
        assert len(_names(tmp_path)) == 1  # still there: its writer holds the lock
    finally:
        _kill(child)
    atomic.clean_leftovers(target)
    assert _names(tmp_path) == []


def test_file_mode_follows_the_umask(tmp_path) -> None:
    atomic.write_file(tmp_path / "a.txt", b"x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~atomic._umask()


def test_a_cache_write_is_atomic_without_fsync(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsynced = []
    monkeypatch.setattr(atomic.os, "fsync", fsynced.append)
    target = tmp_path / "entry.json"
    atomic.write_file(target, b"old", durable=False)
    atomic.write_file(target, b"new", durable=False)
    assert target.read_bytes() == b"new" and _names(tmp_path) == ["entry.json"]
    assert fsynced == []
    atomic.write_file(target, b"durable")
    assert len(fsynced) == 2  # the file, then the folder that holds its name


def test_leftover_names() -> None:
    assert atomic.leftover_target(".results.json.k2j4_x9a.tmp") == "results.json"
    assert atomic.leftover_target(".out.tmp-abc123_z") == "out"
    assert atomic.is_leftover(".results.json.k2j4_x9a.tmp")
    assert atomic.is_leftover(".out.tmp-abc123_z") and atomic.is_leftover(".out.old-abc123_z")
    for name in ("results.json", ".results.json", "pairing.jsonl", ".hidden", "x.tmp"):
        assert not atomic.is_leftover(name), name


# -- folders: the dataset build -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_release(tmp_path_factory) -> Path:
    return make_fixture_release(tmp_path_factory.mktemp("atomic") / "release")


@pytest.fixture
def previous_build(fixture_release: Path, tmp_path: Path) -> Path:
    """A finished build at `out`, marked so that a test can tell it from the next one (the
    marker is in the build's manifest, so the build still counts as unchanged)."""
    out = tmp_path / "out"
    build_dataset(fixture_release, out)
    (out / "data" / "old-build-marker").write_text("old")
    (out / build.MANIFEST).write_text(build.manifest_text(out))
    return out


def _build_script(release: Path, out: Path, patch: str) -> str:
    """A child that patches the writer (`patch`, Python at the top level), then builds."""
    run = f"build.build_dataset(Path({str(release)!r}), Path({str(out)!r}))"
    return "\n".join(
        [
            "from recenter_bench import atomic",
            "from recenter_bench.loaders import build",
            textwrap.dedent(patch),
            run,
        ]
    )


def _is_complete_build(out: Path) -> bool:
    configs = {p.name for p in (out / "data").iterdir() if p.is_dir()}
    return (out / "README.md").is_file() and (out / "eval.yaml").is_file() and len(configs) == 4


def test_build_killed_while_writing_keeps_the_old_build(fixture_release, previous_build) -> None:
    out = previous_build
    before = _tree(out)
    _killed_at(_build_script(fixture_release, out, "build.write_parquet = pause"))
    assert _tree(out) == before  # the old build, untouched
    leftovers = [n for n in _names(out.parent) if n != "out"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".out.tmp-")

    build_dataset(fixture_release, out)  # the next run cleans up
    assert _names(out.parent) == ["out"] and _is_complete_build(out)
    assert not (out / "data" / "old-build-marker").exists()


def test_build_killed_after_the_swap_has_the_new_build(fixture_release, previous_build) -> None:
    out = previous_build
    _killed_at(_build_script(fixture_release, out, "atomic._remove = pause"))
    assert _is_complete_build(out) and not (out / "data" / "old-build-marker").exists()
    (leftover,) = [out.parent / n for n in _names(out.parent) if n != "out"]
    assert leftover.name.startswith(".out.tmp-")
    assert (leftover / "data" / "old-build-marker").exists()  # the old build, swapped out

    build_dataset(fixture_release, out)
    assert _names(out.parent) == ["out"] and _is_complete_build(out)


def test_fallback_killed_between_the_renames_is_put_back(fixture_release, previous_build):
    # Where the kernel cannot exchange two folders, the old one is renamed aside first; a kill
    # before the second rename leaves no `out`, and the next run puts the old build back.
    out = previous_build
    patch = f"""
        atomic._exchange = lambda a, b: False
        real_rename = os.rename
        def rename(src, dst):
            if str(dst) == {str(out)!r}:
                pause()
            real_rename(src, dst)
        os.rename = rename
        """
    _killed_at(_build_script(fixture_release, out, patch))
    assert not out.exists()
    kinds = sorted(n.split("-")[0] for n in _names(out.parent))
    assert kinds == [".out.old", ".out.tmp"]

    atomic.clean_leftovers(out)
    assert _names(out.parent) == ["out"]
    assert (out / "data" / "old-build-marker").read_text() == "old"


def test_fallback_swap_without_a_kill(fixture_release, previous_build, monkeypatch) -> None:
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    build_dataset(fixture_release, previous_build)
    assert _names(previous_build.parent) == ["out"] and _is_complete_build(previous_build)
    assert not (previous_build / "data" / "old-build-marker").exists()


def test_a_failed_build_leaves_the_old_one(fixture_release, previous_build, monkeypatch) -> None:
    before = _tree(previous_build)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("recenter_bench.loaders.build.write_parquet", fail)
    with pytest.raises(UserError, match=r"out: --out: cannot write the dataset \(No space left"):
        build_dataset(fixture_release, previous_build)
    assert _tree(previous_build) == before and _names(previous_build.parent) == ["out"]


def test_an_unwritable_out_is_one_line(fixture_release, tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "dataset"  # its parent is a file
    code = main(["build", "--release", str(fixture_release), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith(f"error: {blocker}: --out"), err


def test_write_folder_replaces_the_whole_folder(tmp_path) -> None:
    target = tmp_path / "run"
    names = ("a.txt", "b.txt")
    atomic.write_folder(target, {"a.txt": b"1", "b.txt": b"2"}, names, "--out")
    atomic.write_folder(target, {"a.txt": b"3"}, names, "--out")
    assert _names(target) == ["a.txt"] and (target / "a.txt").read_bytes() == b"3"
    assert _names(tmp_path) == ["run"]
