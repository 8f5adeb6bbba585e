"""Where the distribution's files are, in a checkout and installed alike, so no module guesses a
relative path of its own.

Data folders keep their top-level place in the repository (`dataset_card/`, `submissions/`) and
are shipped inside the package as `recenter_bench/data/<folder>/` (pyproject's package-dir and
package-data); `data_dir` finds them either way with `importlib.resources`. Code packages that
carry data (the metric's card, the loaders) are found as packages.
"""

from __future__ import annotations

import functools
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

# The checkout this file sits in (meaningless, and unused, when the package is installed).
REPO_ROOT = Path(__file__).resolve().parent.parent


def package_dir(package: str) -> Path:
    """The folder of an importable package of the distribution (its code and package data)."""
    return Path(str(resources.files(package)))


def data_dir(folder: str) -> Path:
    """A data folder the distribution ships: `recenter_bench/data/<folder>` once installed from
    a wheel or an sdist, the checkout's top-level `<folder>` in an editable install (setuptools'
    editable finder does not map data-only folders, so they are looked up where they live)."""
    installed = resources.files("recenter_bench").joinpath("data", folder)
    return Path(str(installed)) if installed.is_dir() else REPO_ROOT / folder


DATASET_CARD_DIR = data_dir("dataset_card")
SCHEMA_DIR = DATASET_CARD_DIR / "schemas"
SUBMISSIONS_DIR = data_dir("submissions")
# `recenter_bench.metric` and `recenter_bench.loaders` have light `__init__` modules: finding
# them imports neither numpy nor datasets.
METRIC_DIR = package_dir("recenter_bench.metric") / "recenter_personalization"
LOADERS_DIR = package_dir("recenter_bench.loaders")
# A checkout (editable install or source tree) has its pyproject and data rooms beside the
# package; an installed wheel's REPO_ROOT is site-packages, which has neither.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "dataset_card").is_dir()
# CI and the tests find the authors' preview files beside the checkout, never inside it; an
# installed copy has no default there (None) and defaults to the Hub dataset.
PREVIEW_RELEASE_DIR: Path | None = (
    REPO_ROOT.parent / "shared" / "preview-release" if IN_CHECKOUT else None
)

HUB_DATASET_ID = "recenter-bench/recenter-personalization"
HUB_LEADERBOARD_ID = "recenter-bench/leaderboard"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the JSON Schema `dataset_card/schemas/<name>.schema.json` (read once; read-only)."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def cache_root() -> Path:
    """Where recenter-bench keeps its caches (built datasets, LLM answers): `$RECENTER_CACHE`,
    else `$XDG_CACHE_HOME`, else `~/.cache`, each with `recenter-bench/` below."""
    base = os.environ.get("RECENTER_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "recenter-bench" if base else Path.home() / ".cache" / "recenter-bench"
