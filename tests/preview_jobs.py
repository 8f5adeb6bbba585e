"""Tiny module-level jobs for the PreviewRunner tests (spawned workers import them by name)."""

from __future__ import annotations

import os
import sys
import time


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def ready() -> None:
    return None


def niceness() -> int:
    """The calling process's niceness."""
    return os.nice(0)


def pid(seconds: float) -> int:
    """The worker's process ID, after `seconds`."""
    time.sleep(seconds)
    return os.getpid()


def imported(module: str) -> bool:
    """Whether the calling process has imported `module`."""
    return module in sys.modules
