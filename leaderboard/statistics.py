"""Which differences between systems are real: paired statistics over the benchmark's clusters.

Rows of one prompt (Stages 2, 3) or one user (Stage 1) are correlated, so every statistic here
resamples or permutes whole clusters, and it is *paired*: all systems are scored on the same
resampled clusters, which is what makes a difference between two of them meaningful.

- `paired_bootstrap`: the headline (F1 or Spearman) of every system in every resample, one
  matrix for all systems (the same group weights as the metric's `bootstrap_weights`).
- `rank_intervals`: each system's 95% rank interval across resamples (as Chatbot Arena shows
  rank bounds); `tie_groups`: systems that cannot be told from a fixed anchor (the best system
  not yet grouped) fall in its group (as ComparIA groups with an anchor).
- `difference_interval` and `permutation_p_value`: a difference between two systems, its 95%
  bootstrap interval and a two-sided paired permutation p-value (swapping the two systems'
  predictions within clusters; exact when all swaps can be enumerated, with the same
  conventions as `scipy.stats.permutation_test`).
- `agreement_matrix`: Cohen's kappa between every two raters (systems and the human majority).

The per-resample scores are the metric module's own functions (`binary_metrics`, the weighted
Spearman behind `spearman_bootstrap_ci`, `cohen_kappa`): nothing here re-defines a metric. Every
function is cross-checked against scipy / scikit-learn loops in
tests/test_leaderboard_statistics.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric

CI_LEVEL = metric.CI_LEVEL
N_BOOTSTRAP = 1000
N_PERMUTATIONS = 9999
# scipy.stats.permutation_test's tolerance: null values within this relative distance of the
# observed statistic count as equal to it (floating-point noise must not decide a p-value).
_RELATIVE_TOLERANCE = np.finfo(float).eps * 100
# Swap patterns scored at once (a batch holds patterns x 2 x rows weights).
_SWAP_BATCH = 256


@dataclass(frozen=True)
class Aligned:
    """Several systems' predictions on the same rows, with the reference and the clusters.

    `predictions` is (systems, rows); `clusters` gives each row's cluster as 0..n_clusters-1
    (sorted cluster names, so row order never changes a result).
    """

    stage: str
    references: np.ndarray
    predictions: np.ndarray
    clusters: np.ndarray
    n_clusters: int

    @classmethod
    def from_lists(
        cls,
        stage: str,
        references: Sequence[float | bool],
        predictions: Sequence[Sequence[float | bool]],
        clusters: Sequence[str],
    ) -> Aligned:
        names, index = np.unique(np.asarray(list(clusters), dtype=str), return_inverse=True)
        dtype = bool if metric.stage_record(stage).kind == metric.BINARY else float
        preds = np.asarray(predictions, dtype=dtype).reshape(len(predictions), len(references))
        return cls(stage, np.asarray(references, dtype=dtype), preds, index.ravel(), names.size)

    @property
    def binary(self) -> bool:
        return metric.stage_record(self.stage).kind == metric.BINARY


def _cluster_counts(aligned: Aligned, predictions: np.ndarray) -> np.ndarray:
    """(systems, clusters, 3): TP, FP, FN of each system in each cluster (binary stages)."""
    ref = aligned.references
    out = np.empty((predictions.shape[0], aligned.n_clusters, 3))
    for k, pred in enumerate(predictions):
        for j, hit in enumerate((ref & pred, ~ref & pred, ref & ~pred)):
            out[k, :, j] = np.bincount(
                aligned.clusters, weights=hit.astype(float), minlength=aligned.n_clusters
            )
    return out


def _f1_from_counts(counts: np.ndarray) -> np.ndarray:
    """F1 from TP, FP, FN in the last axis, through the metric's `binary_metrics`."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    return np.asarray(metric.binary_metrics(tp, fp, fn, np.zeros_like(tp))["f1"], dtype=float)


def weighted_scores(aligned: Aligned, weights: np.ndarray) -> np.ndarray:
    """(resamples, systems): the headline of every system under cluster weights (resamples,
    clusters); a row of ones is the plain score."""
    if aligned.binary:
        counts = _cluster_counts(aligned, aligned.predictions)  # (k, G, 3)
        return _f1_from_counts(np.einsum("bg,kgc->bkc", weights, counts))
    row_weights = weights[:, aligned.clusters]
    return np.stack(
        [
            metric._spearman_weighted(pred, aligned.references, row_weights)
            for pred in aligned.predictions
        ],
        axis=1,
    )


def point_scores(aligned: Aligned) -> np.ndarray:
    """(systems,): the headline of every system on all rows."""
    return weighted_scores(aligned, np.ones((1, aligned.n_clusters)))[0]


def paired_bootstrap(aligned: Aligned, n_bootstrap: int = N_BOOTSTRAP, seed: int = 0) -> np.ndarray:
    """(n_bootstrap, systems): every system's headline in the same cluster resamples."""
    weights = metric.bootstrap_weights(aligned.clusters, aligned.n_clusters, n_bootstrap, seed)
    return weighted_scores(aligned, weights)


def _percentile_interval(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    tail = 100 * (1 - CI_LEVEL) / 2
    low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=axis)
    return low, high


def ranks_of(
    scores: np.ndarray, higher_is_better: bool = True, fixed: Sequence[float] = ()
) -> np.ndarray:
    """Competition ranks (1 = best, ties share the best rank) along the last axis; an undefined
    score ranks below every defined one. `fixed` are the scores of rows that count in every
    rank but are not ranked here (the paper's reported rows: no resamples)."""
    sign = 1.0 if higher_is_better else -1.0
    signed = np.where(np.isnan(scores), -np.inf, sign * scores)
    others = sign * np.asarray(fixed, dtype=float)
    others = others[~np.isnan(others)]
    # rank = 1 + how many systems, and fixed rows, score strictly better.
    better = (signed[..., None, :] > signed[..., :, None]).sum(axis=-1)
    return 1 + better + (others > signed[..., None]).sum(axis=-1)


def rank_intervals(
    samples: np.ndarray, higher_is_better: bool = True, fixed: Sequence[float] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Each system's 95% rank interval across resamples (columns of `samples`), among them and
    the `fixed` rows: (lowest rank, highest rank) numbers, integers, from the 2.5th and 97.5th
    percentiles of its rank in each resample."""
    ranks = ranks_of(samples, higher_is_better, fixed).astype(float)
    low, high = _percentile_interval(ranks)
    return np.floor(low).astype(int), np.ceil(high).astype(int)


def difference_interval(samples: np.ndarray, a: int, b: int) -> tuple[float, float]:
    """95% paired bootstrap interval of system a's headline minus system b's."""
    low, high = _percentile_interval(samples[:, a] - samples[:, b])
    return float(low), float(high)


def tie_groups(
    points: np.ndarray, samples: np.ndarray, higher_is_better: bool = True
) -> np.ndarray:
    """Group number (1 = the leaders) of each system, with a fixed anchor.

    Systems are taken best first. The best system not yet grouped is the anchor of a new group;
    each following system joins the anchor's group while the 95% interval of its paired
    difference with the anchor contains 0, and the first one that is clearly worse starts the
    next group. Systems with an undefined score get no group (0).
    """
    signed = points if higher_is_better else -points
    order = [int(i) for i in np.argsort(-signed, kind="stable") if not np.isnan(points[i])]
    groups = np.zeros(points.size, dtype=int)
    group, anchor = 0, -1
    for i in order:
        if anchor < 0 or not _contains_zero(difference_interval(samples, anchor, i)):
            group, anchor = group + 1, i
        groups[i] = group
    return groups


def _contains_zero(interval: tuple[float, float]) -> bool:
    low, high = interval
    return low <= 0 <= high


def _swapped_statistic(aligned: Aligned, a: int, b: int, swaps: np.ndarray) -> np.ndarray:
    """headline(a) - headline(b) after swapping their predictions in the clusters where
    `swaps` (permutations, clusters) is True."""
    if aligned.binary:
        counts = _cluster_counts(aligned, aligned.predictions[[a, b]])  # (2, G, 3)
        s = swaps[:, :, None].astype(float)
        first = ((1 - s) * counts[0] + s * counts[1]).sum(axis=1)
        second = ((1 - s) * counts[1] + s * counts[0]).sum(axis=1)
        return _f1_from_counts(first) - _f1_from_counts(second)
    # Both systems' rows side by side, each (prediction, reference) once: a swap pattern is a
    # 0/1 weight row picking system b's rows in the swapped clusters and a's elsewhere, so the
    # metric's weighted Spearman scores a whole batch of patterns in one matrix pass.
    values = np.concatenate([aligned.predictions[a], aligned.predictions[b]])
    references = np.concatenate([aligned.references, aligned.references])
    out = np.empty(swaps.shape[0])
    for start in range(0, swaps.shape[0], _SWAP_BATCH):
        taken = swaps[start : start + _SWAP_BATCH][:, aligned.clusters].astype(float)
        first = np.hstack([1.0 - taken, taken])
        out[start : start + _SWAP_BATCH] = metric._spearman_weighted(
            values, references, first
        ) - metric._spearman_weighted(values, references, 1.0 - first)
    return out


def permutation_p_value(
    aligned: Aligned, a: int, b: int, n_resamples: int = N_PERMUTATIONS, seed: int = 0
) -> float:
    """Two-sided paired permutation p-value of headline(a) - headline(b).

    Under the null hypothesis the two systems are exchangeable, so their predictions are swapped
    within each cluster independently. With 2**clusters <= n_resamples every swap pattern is
    enumerated (an exact test); otherwise n_resamples random patterns are drawn and the observed
    statistic is counted once more (p is never 0). The p-value is twice the smaller tail,
    capped at 1, as in `scipy.stats.permutation_test(..., permutation_type="samples")`.
    """
    g = aligned.n_clusters
    observed = _swapped_statistic(aligned, a, b, np.zeros((1, g), dtype=bool))[0]
    if np.isnan(observed):
        return float("nan")
    if 2**g <= n_resamples:
        swaps = np.array(list(itertools.product([False, True], repeat=g)), dtype=bool)
        adjustment = 0
    else:
        swaps = np.random.default_rng(seed).random((n_resamples, g)) < 0.5
        adjustment = 1
    null = _swapped_statistic(aligned, a, b, swaps)
    gamma = abs(_RELATIVE_TOLERANCE * observed)
    total = null.size + adjustment
    less = (np.sum(null <= observed + gamma) + adjustment) / total
    greater = (np.sum(null >= observed - gamma) + adjustment) / total
    return float(min(1.0, 2 * min(less, greater)))


def agreement_matrix(raters: Mapping[str, Sequence[bool]]) -> dict[tuple[str, str], float]:
    """Cohen's kappa (the metric's `cohen_kappa`) between every two raters of the same rows,
    both orders; the diagonal is 1 where a rater's kappa with itself is defined."""
    names = list(raters)
    out: dict[tuple[str, str], float] = {}
    for i, a in enumerate(names):
        for b in names[i:]:
            kappa = metric.cohen_kappa(raters[a], raters[b], labels=[False, True])
            out[(a, b)] = out[(b, a)] = kappa
    return out
