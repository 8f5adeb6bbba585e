"""Check the submissions/ tree as a whole: the problems no single submission can see."""

from __future__ import annotations

import hashlib
from pathlib import Path

from recenter_bench.atomic import is_leftover
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review.files import problem, stage_files


def tree_problems(root: Path = SUBMISSIONS_DIR) -> list[str]:
    """Problems of the submissions tree itself: stray files, links, misnamed or clashing
    folders, and the same predictions committed twice."""
    problems = []
    seen_lower: dict[str, Path] = {}
    seen_content: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.name == "README.md" and entry.is_file() and not entry.is_symlink():
            continue
        if is_leftover(entry.name):
            continue  # a killed write's temporary: ignored, cleaned by the next write
        if entry.is_symlink() or not entry.is_dir():
            message = "only <org>__<model>/ folders and README.md belong here"
            problems.append(problem(str(entry), None, None, message))
            continue
        if "__" not in entry.name:
            problems.append(problem(str(entry), None, None, "folder name must be <org>__<model>"))
        for run in sorted(entry.iterdir()):
            if is_leftover(run.name):
                continue
            if run.is_symlink() or not run.is_dir():
                problems.append(problem(str(run), None, None, "only <run>/ folders belong here"))
                continue
            key = f"{entry.name}/{run.name}".lower()
            if key in seen_lower:
                message = f"clashes with {seen_lower[key]} on case-insensitive file systems"
                problems.append(problem(str(run), None, None, message))
            seen_lower[key] = run
            problems += _repeated_predictions(run, seen_content)
    return problems


def _repeated_predictions(run: Path, seen: dict[str, Path]) -> list[str]:
    """Stage files of `run` whose bytes an earlier run already holds (`seen`: digest -> file)."""
    problems = []
    for name in stage_files():
        path = run / name
        if not path.is_file() or path.is_symlink():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            message = f"the same predictions as {seen[digest]}: a run is committed once"
            problems.append(problem(str(path), None, None, message))
        seen[digest] = path
    return problems
