"""The package as installed: a light `import recenter_bench`, a command line that never loads
`datasets` / `evaluate` / `transformers` to validate or score, and package data that covers
every file the code reads at run time (CI also installs the wheel and runs it)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from recenter_bench.paths import REPO_ROOT, SUBMISSIONS_DIR

# Libraries that take from a few hundred ms to many seconds to import.
HEAVY = {"datasets", "evaluate", "transformers", "torch", "gradio", "sentence_transformers"}


def imported(*args: str) -> set[str]:
    """Top-level names of every module a fresh interpreter imports for `python -X importtime
    ARGS` (the command must succeed)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True
    )
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_importtime_sees_an_import() -> None:
    # The parser above is what the next tests rely on: it must see a library that is imported.
    assert "yaml" in imported("-c", "import yaml")


def test_import_recenter_bench_imports_nothing_heavy() -> None:
    names = imported("-c", "import recenter_bench")
    data_libraries = {"numpy", "pandas", "pyarrow", "scipy", "huggingface_hub", "jsonschema"}
    assert not names & (HEAVY | data_libraries)


@pytest.mark.parametrize("command", ["validate", "score"])
def test_validate_and_score_load_no_heavy_library(command: str, preview_dataset: Path) -> None:
    submission = SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2"
    names = imported(
        "-m", "recenter_bench.cli", command, str(submission), "--dataset", str(preview_dataset)
    )
    assert "recenter_bench" in names and "pyarrow" in names  # it did read the dataset
    assert not names & HEAVY


def _package_folders(setuptools: dict) -> dict[str, Path]:
    """Package name -> its folder in the checkout, from pyproject's package-dir."""
    mapped = setuptools["package-dir"]
    folders = {}
    for package in setuptools["packages"]:
        prefix = max(
            (p for p in mapped if package == p or package.startswith(f"{p}.")),
            key=len,
            default=None,
        )
        if prefix is None:
            folders[package] = REPO_ROOT.joinpath(*package.split("."))
        else:
            rest = package[len(prefix) :].lstrip(".")
            folders[package] = REPO_ROOT.joinpath(mapped[prefix], *rest.split(".") if rest else ())
    return folders


def test_package_data_ships_every_data_file() -> None:
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["tool"][
        "setuptools"
    ]
    folders = _package_folders(setuptools)
    assert all(folder.is_dir() for folder in folders.values()), folders
    shipped = {
        path
        for package, patterns in setuptools["package-data"].items()
        for pattern in patterns
        for path in folders[package].glob(pattern)
    }
    # Every file of the data rooms, and every non-Python file of the metric's folder.
    needed = [p for root in ("dataset_card", "submissions") for p in (REPO_ROOT / root).rglob("*")]
    needed += list((REPO_ROOT / "metric" / "recenter_personalization").iterdir())
    needed = {
        p for p in needed if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
    }
    assert len(needed) > 40
    assert not sorted(needed - shipped)


def _room(module: str) -> str | None:
    """The room of a project module: `core` (errors, paths, hub, the atomic writer, the limits
    on untrusted input), a mapped folder, or the module's own name for the command modules
    beside them."""
    parts = module.split(".")
    if parts[0] != "recenter_bench":
        return None
    if len(parts) == 1 or parts[1] in ("errors", "paths", "hub", "atomic", "limits"):
        return "core"
    return parts[1]


def test_rooms_import_one_way() -> None:
    folders = {"recenter_bench": "recenter_bench", "loaders": "recenter_bench.loaders"}
    folders |= {"leaderboard": "recenter_bench.leaderboard", "metric": "recenter_bench.metric"}
    edges: dict[str, set[str]] = {}
    for folder, package in folders.items():
        for path in (REPO_ROOT / folder).rglob("*.py"):
            parts = path.relative_to(REPO_ROOT / folder).with_suffix("").parts
            source = _room(".".join([package, *(p for p in parts if p != "__init__")]))
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    targets = [node.module]
                elif isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                else:
                    continue
                for target in map(_room, targets):
                    if target not in (None, source):
                        edges.setdefault(source, set()).add(target)
    # The core (errors, paths, the Hub client, the writer) sits below everything; the metric is
    # self-contained.
    assert "core" not in edges and "metric" not in edges
    assert edges["loaders"] <= {"core", "metric"}
    # No cycle between rooms (imports inside functions count too).
    done: set[str] = set()

    def visit(room: str, path: tuple[str, ...]) -> None:
        assert room not in path, " -> ".join((*path, room))
        if room not in done:
            for target in edges.get(room, ()):
                visit(target, (*path, room))
            done.add(room)

    for room in list(edges):
        visit(room, ())


def test_a_command_of_a_missing_extra_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['gradio'] = None  # as in a core install: importing gradio fails\n"
        "from recenter_bench.cli import main\n"
        "sys.exit(main(['leaderboard']))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr == (
        "error: `recenter leaderboard` needs gradio, which is not installed: "
        "pip install 'recenter-bench[space]'\n"
    )
