"""Inter-annotator agreement for the dataset card, computed from the per-annotator judgments.

Where a release has no per-annotator labels for a stage (the preview has none), every figure is
None and the card says "not available" instead of copying the paper's number.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

from loaders.annotations import Judgments

STAGE1_CATEGORIES = ("accepted", "uncertain", "rejected")


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    weights: str | None = None,
    labels: Sequence[Hashable] | None = None,
) -> float | None:
    """Cohen's kappa of two raters over the same units; `weights="linear"` for ordinal ratings.

    Matches `sklearn.metrics.cohen_kappa_score`; None where it is undefined (no units, or
    chance agreement is perfect).
    """
    if len(a) != len(b):
        raise ValueError("both raters must rate the same units")
    if not a:
        return None
    labels = sorted(set(a) | set(b)) if labels is None else list(labels)
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    observed = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        observed[index[x], index[y]] += 1
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    if weights is None:
        penalty = 1 - np.eye(k)
    else:
        # Ordinal distance between label positions, as sklearn does; pass `labels` to fix the
        # scale (ratings 1..5) so an unused middle rating still counts as distance.
        positions = np.arange(k, dtype=float)
        penalty = np.abs(positions[:, None] - positions[None, :])
        if weights == "quadratic":
            penalty = penalty**2
    denominator = (penalty * expected).sum()
    if denominator == 0:
        return None
    return float(1 - (penalty * observed).sum() / denominator)


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


def mean_pairwise(
    votes: dict[Any, list[tuple[str, Any]]],
    statistic: Callable[[list[Any], list[Any]], float | None],
) -> float | None:
    """Mean of `statistic` over every pair of annotators, each on the units both judged."""
    by_annotator: dict[str, dict[Any, Any]] = {}
    for unit, unit_votes in votes.items():
        for annotator, value in unit_votes:
            by_annotator.setdefault(annotator, {})[unit] = value
    values = []
    for first, second in combinations(sorted(by_annotator), 2):
        shared = sorted(set(by_annotator[first]) & set(by_annotator[second]), key=repr)
        if len(shared) < 2:
            continue
        value = statistic(
            [by_annotator[first][u] for u in shared], [by_annotator[second][u] for u in shared]
        )
        if value is not None and np.isfinite(value):
            values.append(value)
    return float(np.mean(values)) if values else None


def _spearman(a: list[Any], b: list[Any]) -> float | None:
    result = stats.spearmanr(a, b).statistic
    return None if np.isnan(result) else float(result)


def _fleiss_of(votes: dict[Any, list[tuple[str, Any]]], categories: Sequence[Any]) -> float | None:
    """Fleiss' kappa over the units judged by the most common number of annotators."""
    sizes = [len(v) for v in votes.values() if len(v) >= 2]
    if not sizes:
        return None
    n = max(set(sizes), key=lambda size: (sizes.count(size), size))
    return fleiss_kappa(
        [[value for _, value in v] for v in votes.values() if len(v) == n], categories
    )


def stage_agreement(judgments: Judgments) -> dict[str, dict[str, float | None]]:
    """Agreement figures per config; None where the release has no per-annotator labels."""
    multi1 = {k: v for k, v in judgments.stage1.items() if len(v) >= 2}
    multi2 = {k: v for k, v in judgments.stage2.items() if len(v) >= 2}
    multi3 = {k: v for k, v in judgments.stage3.items() if len(v) >= 2}
    return {
        "extraction": {
            "units": len(multi1),
            "fleiss_kappa": _fleiss_of(multi1, STAGE1_CATEGORIES),
            "mean_pairwise_cohen_kappa": mean_pairwise(multi1, cohen_kappa),
        },
        "pairing": {
            "units": len(multi2),
            "fleiss_kappa": _fleiss_of(multi2, (False, True)),
            "mean_pairwise_cohen_kappa": mean_pairwise(multi2, cohen_kappa),
        },
        "response_quality": {
            "units": len(multi3),
            "mean_pairwise_spearman": mean_pairwise(multi3, _spearman),
            "mean_pairwise_weighted_kappa": mean_pairwise(
                multi3, lambda a, b: cohen_kappa(a, b, weights="linear", labels=range(1, 6))
            ),
        },
    }
