"""Where the repository's rooms live on disk, so no module guesses a relative path of its own."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASET_CARD_DIR = REPO_ROOT / "dataset_card"
SCHEMA_DIR = DATASET_CARD_DIR / "schemas"
METRIC_DIR = REPO_ROOT / "metric" / "recenter_personalization"
SUBMISSIONS_DIR = REPO_ROOT / "submissions"
LEADERBOARD_DIR = REPO_ROOT / "leaderboard"
# CI and the tests find the authors' preview files beside the checkout, never inside it.
PREVIEW_RELEASE_DIR = REPO_ROOT.parent / "shared" / "preview-release"

HUB_DATASET_ID = "recenter-bench/recenter-personalization"
HUB_LEADERBOARD_ID = "recenter-bench/leaderboard"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the JSON Schema `dataset_card/schemas/<name>.schema.json` (read once; read-only)."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
