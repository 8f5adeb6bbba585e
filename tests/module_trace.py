"""The order in which a command's flow enters the project's modules (issue 14's "one pass").

A flow reads as one pass when, after it leaves a module for the next step, it never comes back:
read -> check -> score -> compare -> write, each step entered once. `module_order` records the
project modules whose functions are called, in order, with consecutive calls in one module
counted once; `reentered` names the modules the flow came back to.

Modules below every step (types and helpers any step may call: errors, paths, atomic writes)
are not steps, so they are left out of the order; `BELOW_EVERY_STEP` lists them, and a test may
add its own. Trace a warm run: a first call imports modules lazily, and an import runs module
code, which would count as entering it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

PROJECT = "recenter_bench."

BELOW_EVERY_STEP = frozenset(
    {
        "recenter_bench.errors",
        "recenter_bench.paths",
        "recenter_bench.atomic",
        "recenter_bench.limits",
    }
)


@contextmanager
def module_order(below: Iterable[str] = BELOW_EVERY_STEP) -> Iterator[list[str]]:
    """Record, while the block runs (in any thread), the project modules the flow enters."""
    skipped = frozenset(below)
    entered: list[str] = []

    def profile(frame, event, arg) -> None:  # noqa: ANN001 - sys.setprofile's signature
        if event != "call":
            return
        name = frame.f_globals.get("__name__", "")
        if not name.startswith(PROJECT) or name in skipped:
            return
        if not entered or entered[-1] != name:
            entered.append(name)

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield entered
    finally:
        sys.setprofile(None)
        threading.setprofile(None)


def steps(order: list[str], groups: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The steps a traced module order goes through, consecutive repeats counted once. A step
    may span several modules: `groups` maps a module-name prefix to its step's name; any other
    module is the step named by its last part.

    >>> steps(["a.cli", "a.check_x", "a.check_y", "a.check_x", "a.score"], [("a.check", "check")])
    ['cli', 'check', 'score']
    """
    collapsed: list[str] = []
    for module in order:
        step = next((name for prefix, name in groups if module.startswith(prefix)), None)
        step = step or module.rsplit(".", 1)[-1]
        if not collapsed or collapsed[-1] != step:
            collapsed.append(step)
    return collapsed


def reentered(order: list[str]) -> list[str]:
    """The modules the flow came back to after leaving them, in the order it came back.

    >>> reentered(["cli", "read", "check", "score", "write"])
    []
    >>> reentered(["cli", "pipeline", "read", "pipeline", "check", "read"])
    ['pipeline', 'read']
    """
    seen: set[str] = set()
    again: list[str] = []
    for name in order:
        if name in seen and name not in again:
            again.append(name)
        seen.add(name)
    return again
