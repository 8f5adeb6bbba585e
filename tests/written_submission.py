"""What every command that writes a Stage-2 submission folder must leave behind (one place for
the baseline and the runner tests)."""

from __future__ import annotations

import json
from pathlib import Path

from recenter_bench.review import Reference, validate_submission


def assert_complete_pairing_submission(out: Path, reference: Reference) -> None:
    """`out` holds exactly metadata, predictions and results; it validates with results required
    and its results score every split of Stage 2."""
    assert sorted(p.name for p in out.iterdir()) == [
        "metadata.yaml",
        "pairing.jsonl",
        "results.json",
    ]
    assert validate_submission(out, reference=reference, require_results=True) == []
    results = json.loads((out / "results.json").read_text())
    assert set(results["scores"]["pairing"]) == {"train", "validation", "test", "all"}
