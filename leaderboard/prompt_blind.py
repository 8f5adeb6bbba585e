"""The prompt-blind reference of Stage 2: what a system scores without reading the prompt.

The pairing splits share attributes and users with train, so part of a trained system's F1
needs no prompt. The best prompt-blind row (a `recenter run` row whose kind never reads the
prompt) is the reference; `leads` gives every other trained row's F1 minus the reference's on a
split, with the 95% paired cluster-bootstrap interval of that difference
(`statistics.paired_bootstrap` + `difference_interval`, clusters = prompts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from recenter_bench.leaderboard import statistics

PROMPT_BLIND_KINDS = frozenset({"attribute-prior", "attribute-only"})


def _metadata(folder: Path) -> dict[str, Any]:
    return yaml.safe_load((folder / "metadata.yaml").read_text(encoding="utf-8")) or {}


def _f1(folder: Path, split: str) -> float:
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return float(results["scores"]["pairing"][split]["f1"])


def is_prompt_blind(metadata: Mapping[str, Any]) -> bool:
    run = metadata.get("run")
    return isinstance(run, Mapping) and run.get("kind") in PROMPT_BLIND_KINDS


def leads(
    folders: Sequence[Path], rows: Sequence[Mapping[str, Any]], split: str = "test"
) -> tuple[str, float, list[dict[str, Any]]]:
    """(reference folder, its F1, [{submission, f1, lead, low, high}]) over the trained,
    re-scored pairing rows among `folders`; `rows` are the split's reference pairing rows."""
    trained = [
        f
        for f in folders
        if (f / "pairing.jsonl").is_file()
        and _metadata(f).get("trained_on")
        and _metadata(f).get("provenance") == "rescored"
        and _metadata(f).get("type") not in ("baseline", "human")
    ]
    blind = [f for f in trained if is_prompt_blind(_metadata(f))]
    if not blind:
        raise ValueError("no prompt-blind row among the folders")
    reference = max(blind, key=lambda f: _f1(f, split))
    others = [f for f in trained if f != reference]
    ordered = sorted(rows, key=lambda r: r["pair_id"])
    ids = [r["pair_id"] for r in ordered]

    def decisions(folder: Path) -> list[bool]:
        lines = (folder / "pairing.jsonl").read_text(encoding="utf-8").splitlines()
        made = {p["pair_id"]: bool(p["relevant"]) for p in map(json.loads, lines)}
        return [made[i] for i in ids]

    aligned = statistics.Aligned.from_lists(
        "pairing",
        [r["relevant"] for r in ordered],
        [decisions(reference), *(decisions(f) for f in others)],
        [r["prompt_id"] for r in ordered],
    )
    points = statistics.point_scores(aligned)
    samples = statistics.paired_bootstrap(aligned)
    table = []
    for i, folder in enumerate(others, start=1):
        low, high = statistics.difference_interval(samples, i, 0)
        table.append(
            {
                "submission": f"{folder.parent.name}/{folder.name}",
                "f1": float(points[i]),
                "lead": float(points[i] - points[0]),
                "low": low,
                "high": high,
            }
        )
    table.sort(key=lambda row: -row["lead"])
    return f"{reference.parent.name}/{reference.name}", float(points[0]), table
