"""The command line itself: a usage mistake is one line and exit code 1, like any user mistake
(issue 11, item 7: `recenter leaderboard --port 99999` ended in an OverflowError traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RECENTER = Path(sys.executable).parent / "recenter"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RECENTER, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("port", ["99999", "0", "-1", "abc", "8080.5", "\u0661\u0662", "9" * 6000])
def test_a_bad_port_is_one_line_before_anything_starts(port: str) -> None:
    done = _run("leaderboard", "--port", port)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: recenter leaderboard: argument --port: '")
    assert "is not a TCP port (1-65535) (see `recenter leaderboard --help`)" in lines[0]


def test_a_missing_argument_is_one_line() -> None:
    done = _run("build", "--release", "somewhere")
    assert done.returncode == 1
    assert done.stderr == (
        "error: recenter build: the following arguments are required: --out "
        "(see `recenter build --help`)\n"
    )


def test_help_still_exits_zero() -> None:
    done = _run("build", "--help")
    assert done.returncode == 0 and "--release" in done.stdout
