"""The prompt-blind reference of Stage 2: what a system scores without reading the prompt.

The pairing splits share attributes and users with train, so part of a trained system's F1
needs no prompt. The best prompt-blind row (a `recenter run` row whose kind never reads the
prompt) is the reference; `leads` gives every other trained row's F1 minus the reference's on a
split, with the 95% paired cluster-bootstrap interval of that difference
(`statistics.paired_bootstrap` + `difference_interval`, clusters = prompts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from recenter_bench.leaderboard import statistics

if TYPE_CHECKING:
    from recenter_bench.leaderboard.ranking import SplitRanking
    from recenter_bench.leaderboard.table import Submission

PROMPT_BLIND_KINDS = frozenset({"attribute-prior", "attribute-only"})
# The stage whose board shows the reference (the prompt-blind kinds make pairing decisions).
PROMPT_BLIND_STAGE = "pairing"
# What the board's lead column says on the reference row itself.
REFERENCE_TEXT = "prompt-blind reference"


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
        lead, low, high = lead_interval(points, samples, i, 0)
        table.append(
            {
                "submission": f"{folder.parent.name}/{folder.name}",
                "f1": float(points[i]),
                "lead": lead,
                "low": low,
                "high": high,
            }
        )
    table.sort(key=lambda row: -row["lead"])
    return f"{reference.parent.name}/{reference.name}", float(points[0]), table


def lead_interval(
    points: np.ndarray, samples: np.ndarray, system: int, reference: int
) -> tuple[float, float, float]:
    """(headline of `system` minus the reference's, 95% paired bootstrap interval low, high)."""
    low, high = statistics.difference_interval(samples, system, reference)
    return float(points[system] - points[reference]), low, high


def ranking_leads(
    ranking: SplitRanking, submissions: Iterable[Submission]
) -> tuple[str | None, dict[str, tuple[float, float, float]]]:
    """The board's figures on one ranked split, from the ranking's own bootstrap resamples (no
    second bootstrap): (the reference's id, {trained row id: (lead, low, high)}).

    The reference is the best prompt-blind row ranked here (held out on the split); the trained
    rows are the other ranked rows whose metadata lists `trained_on` splits (fitted or tuned on
    benchmark labels, as `leads` takes them). (None, {}) without a prompt-blind row ranked here.
    """
    by_id = {s.id: s for s in submissions}
    ranked = [i for i, sid in enumerate(ranking.ids) if ranking.ranked[i] and sid in by_id]
    blind = [i for i in ranked if is_prompt_blind(by_id[ranking.ids[i]].metadata)]
    if not blind:
        return None, {}
    points = ranking.points
    best = max(blind, key=lambda i: points[i] if ranking.higher_is_better else -points[i])
    return ranking.ids[best], {
        ranking.ids[i]: lead_interval(points, ranking.samples, i, best)
        for i in ranked
        if i != best and by_id[ranking.ids[i]].trained_on
    }


def lead_text(lead: float, low: float, high: float) -> str:
    """A lead as the board shows it.

    >>> lead_text(0.0481, -0.0512, 0.1503)
    '+0.048 (−0.051 to +0.150)'
    """

    def signed(x: float) -> str:
        return f"{x:+.3f}".replace("-", "−")

    return f"{signed(lead)} ({signed(low)} to {signed(high)})"
