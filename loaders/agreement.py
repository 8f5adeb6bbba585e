"""Inter-annotator agreement for the dataset card, computed from the built rows' judgments.

The pairwise figures are the metric's `human_reference` (split "all"), so the card and the
leaderboard's human row print the same numbers. Fleiss' kappa is added here because the metric
has no equivalent. Where a release has no per-annotator labels for a stage (the preview has
none), every figure is None and the card says "not available" instead of copying the paper's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

# Single source of each statistic: the metric owns the kappas and correlations, and it is a leaf
# (numpy and scipy, evaluate optional; no project imports), so importing it cannot make a cycle.
from recenter_bench.metric.recenter_personalization import BINARY, STAGE_RECORDS, human_reference

# The `human_reference` figures the card shows per config: each stage's inter-annotator ones.
PAIRWISE_FIGURES = {
    name: tuple(m for m in record.human_metric_names if m.startswith("inter_annotator_"))
    for name, record in STAGE_RECORDS.items()
}
# config -> the field of each judgment that Fleiss' kappa is computed over, and its categories:
# the records' annotator labels of the binary stages (a rating stage reports weighted kappa).
FLEISS = {
    name: (record.judgment_field, record.annotator_labels)
    for name, record in STAGE_RECORDS.items()
    if record.kind == BINARY
}


def fleiss_kappa(
    units: Sequence[Sequence[Hashable]], categories: Sequence[Hashable]
) -> float | None:
    """Fleiss' kappa over units that each have the same number of ratings (>= 2)."""
    if not units:
        return None
    n = len(units[0])
    if n < 2 or any(len(u) != n for u in units):
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings per unit")
    index = {c: i for i, c in enumerate(categories)}
    counts = np.zeros((len(units), len(categories)))
    for row, ratings in enumerate(units):
        for rating in ratings:
            counts[row, index[rating]] += 1
    p_category = counts.sum(axis=0) / counts.sum()
    p_unit = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_expected = float((p_category**2).sum())
    if p_expected == 1:
        return None
    return float((p_unit.mean() - p_expected) / (1 - p_expected))


def _fleiss_of(units: list[list[Hashable]], categories: Sequence[Hashable]) -> float | None:
    """Fleiss' kappa over the units judged by the most common number (>= 2) of annotators.

    Fleiss needs a fixed number of ratings per unit; a unit an annotator skipped is left out
    rather than padded.
    """
    sizes = Counter(len(unit) for unit in units if len(unit) >= 2)
    if not sizes:
        return None
    n = max(sizes, key=lambda size: (sizes[size], size))
    return fleiss_kappa([unit for unit in units if len(unit) == n], categories)


def _defined(value: float) -> float | None:
    # The metric writes NaN where a figure is undefined; the card says "not available".
    return None if math.isnan(value) else value


def stage_agreement(
    splits: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
) -> dict[str, dict[str, float | None]]:
    """config -> agreement figures over all splits of the built rows (`splits[config][split]`).

    `units` counts the rows judged by at least two annotators; the other figures are None
    where the release has no per-annotator labels.
    """
    human = human_reference({config: splits[config] for config in PAIRWISE_FIGURES})
    out: dict[str, dict[str, float | None]] = {}
    for config, names in PAIRWISE_FIGURES.items():
        figures = human[config]["all"]
        out[config] = {"units": int(figures["n"])}
        out[config].update((name, _defined(figures[name])) for name in names)
    for config, (key, categories) in FLEISS.items():
        units = [
            [judgment[key] for judgment in row["judgments"]]
            for rows in splits[config].values()
            for row in rows
        ]
        out[config]["fleiss_kappa"] = _fleiss_of(units, categories)
    return out
