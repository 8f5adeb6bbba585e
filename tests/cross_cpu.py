"""Comparing model outputs recomputed on this machine with outputs committed from another.

Float kernels (BLAS, torch) of AMD and Intel CPUs differ in the last digits: on an AMD EPYC the
committed all-MiniLM-L6-v2 scores came out up to 1.7e-5 away from Intel's. A recomputed run is
the same run when its scores agree at a float32 tolerance and its decisions agree except for
a few rows whose score sits at the decision threshold, where the last digit decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

# Scores computed straight from the inputs (BM25, cosine similarity, counts): float32 kernels
# agree to about 1e-5 (1.7e-5 measured on an AMD EPYC); ten times that.
SCORE_TOLERANCE = {"rel": 1e-4, "abs": 1e-4}
# Scores of a model fit by an iterative solver (scikit-learn's lbfgs, tol 1e-4): the fit stops
# where the gradient is small enough, a point other kernels move. Measured 4.1e-4 with
# OpenBLAS's Haswell (AMD Zen) kernels (benchmarks/cross_cpu_paths.py); five times that.
SOLVER_SCORE_TOLERANCE = {"rel": 0.0, "abs": 2e-3}
SOLVER_KINDS = frozenset({"embedding-classifier", "attribute-only"})
# A tree ensemble (scikit-learn's HistGradientBoosting) refit on features that moved in their
# last float32 digits grows other trees: on AMD's kernel paths the committed gradient-boosting
# row's scores moved by up to 0.34, 245 of its 3,969 decisions flipped and its threshold went
# from 0.1629 to as far as 0.3089 (benchmarks/cross_cpu_paths.py). Row by row that is another
# model; what a re-run on another CPU reproduces is the system: the same candidates, their
# cross-validated F1s near the committed ones, and most decisions.
REFIT_KINDS = frozenset({"features"})
# Measured: at least 93.8% of the decisions agree, cross-validated F1s within 0.0061.
REFIT_AGREEMENT = 0.9
REFIT_F1_TOLERANCE = {"abs": 0.02}
# A decision may flip only for a row this close to the threshold (the score tolerance), and
# for at most this share of the rows.
NEAR_THRESHOLD = SCORE_TOLERANCE["abs"]
MAX_FLIP_SHARE = 0.005
# Thresholds are written to 4 significant digits: across CPUs the last one may differ by one.
THRESHOLD_TOLERANCE = {"rel": 2e-3}
# An F1 written to 4 decimals moves by about 1/(2 x positives) per flipped row: the last digit
# of a threshold moving (0.7698 to 0.7699 with torch's scalar kernels) moved the MiniLM
# logistic regression's validation F1 by 0.0095; twice that.
F1_TOLERANCE = {"abs": 0.02}

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def rule_thresholds(rule: str) -> list[float]:
    """The thresholds a rule text names (`score >= 0.0688`, `P(relevant) >= 0.7698`)."""
    return [float(x) for x in re.findall(r">=? (-?\d+(?:\.\d+)?(?:e-?\d+)?)", rule)]


def score_tolerance(kind: str) -> dict[str, float]:
    """How far a re-run of a `recenter run` kind may move a score on other float kernels."""
    return SOLVER_SCORE_TOLERANCE if kind in SOLVER_KINDS else SCORE_TOLERANCE


@dataclass(frozen=True)
class Comparison:
    """How a recomputed run differs from the committed one, row by row."""

    rows: int
    max_score_diff: float
    flips: list[tuple[str, float]]  # (id, committed score) of each decision that changed
    far_flips: list[tuple[str, float]]  # the flips not within NEAR_THRESHOLD of a threshold

    @property
    def max_flips(self) -> int:
        """The most flips a same run may show over these rows."""
        return int(MAX_FLIP_SHARE * self.rows)


def compare_runs(
    committed: Sequence[Mapping[str, Any]],
    recomputed: Sequence[Mapping[str, Any]],
    thresholds: Sequence[float],
    id_field: str = "pair_id",
    near: float = NEAR_THRESHOLD,
) -> Comparison:
    """Score differences and decision flips of two runs over the same IDs in the same order; a
    flip is far when its committed score is more than `near` away from every threshold."""
    assert [r[id_field] for r in committed] == [r[id_field] for r in recomputed], "other IDs"
    diffs = [abs(a["score"] - b["score"]) for a, b in zip(committed, recomputed, strict=True)]
    flips = [
        (old[id_field], old["score"])
        for old, new in zip(committed, recomputed, strict=True)
        if old["relevant"] != new["relevant"]
    ]
    far = [
        (key, score) for key, score in flips if not any(abs(score - t) <= near for t in thresholds)
    ]
    return Comparison(len(committed), max(diffs, default=0.0), flips, far)


def assert_same_decisions(
    committed: Sequence[Mapping[str, Any]],
    recomputed: Sequence[Mapping[str, Any]],
    thresholds: Sequence[float],
    id_field: str = "pair_id",
    tolerance: Mapping[str, float] = SCORE_TOLERANCE,
) -> None:
    """Same IDs in the same order, scores at `tolerance` (`score_tolerance` of the kind), and
    decisions equal except at most MAX_FLIP_SHARE of the rows, each within the tolerance of a
    threshold."""
    comparison = compare_runs(committed, recomputed, thresholds, id_field, tolerance["abs"])
    scores = [r["score"] for r in committed]
    assert scores == pytest.approx([r["score"] for r in recomputed], **tolerance), (
        f"scores differ beyond {dict(tolerance)}"
    )
    flips = comparison.flips
    assert len(flips) <= comparison.max_flips, f"{len(flips)} flips: {flips[:5]}"
    far = comparison.far_flips
    assert not far, f"decisions flipped away from the thresholds {thresholds}: {far[:5]}"


def assert_same_refit(
    committed: Sequence[Mapping[str, Any]],
    recomputed: Sequence[Mapping[str, Any]],
    committed_record: Mapping[str, Any],
    recomputed_record: Mapping[str, Any],
) -> None:
    """A refit of a REFIT_KINDS system: the same IDs in the same order, at least
    REFIT_AGREEMENT of the decisions, the same candidates with cross-validated F1s at
    REFIT_F1_TOLERANCE, and the same one chosen."""
    comparison = compare_runs(committed, recomputed, [])
    agreement = 1 - len(comparison.flips) / max(comparison.rows, 1)
    assert agreement >= REFIT_AGREEMENT, f"{agreement:.1%} of the decisions agree"
    chosen = [record["rule"].split(";")[0] for record in (committed_record, recomputed_record)]
    assert chosen[0] == chosen[1], f"another candidate chosen: {chosen}"
    old, new = committed_record["candidates"], recomputed_record["candidates"]
    assert [c["variant"] for c in old] == [c["variant"] for c in new], "other candidates"
    for theirs, mine in zip(old, new, strict=True):
        assert mine["cv_f1"] == pytest.approx(theirs["cv_f1"], **REFIT_F1_TOLERANCE), theirs


def assert_same_record(committed: Any, recomputed: Any, path: str = "run") -> None:
    """Two run records equal but for numbers: thresholds (in rule text, or a `threshold`
    value) at THRESHOLD_TOLERANCE, other numeric values (F1s) at F1_TOLERANCE."""
    if isinstance(committed, Mapping):
        assert isinstance(recomputed, Mapping) and committed.keys() == recomputed.keys(), path
        for key in committed:
            assert_same_record(committed[key], recomputed[key], f"{path}.{key}")
    elif isinstance(committed, list):
        assert isinstance(recomputed, list) and len(committed) == len(recomputed), path
        for i, (a, b) in enumerate(zip(committed, recomputed, strict=True)):
            assert_same_record(a, b, f"{path}[{i}]")
    elif isinstance(committed, str):
        assert isinstance(recomputed, str), path
        assert _NUMBER.split(committed) == _NUMBER.split(recomputed), (path, committed, recomputed)
        old = [float(x) for x in _NUMBER.findall(committed)]
        new = [float(x) for x in _NUMBER.findall(recomputed)]
        assert old == pytest.approx(new, **THRESHOLD_TOLERANCE), (path, committed, recomputed)
    elif isinstance(committed, float):
        tolerance = THRESHOLD_TOLERANCE if path.endswith(".threshold") else F1_TOLERANCE
        assert recomputed == pytest.approx(committed, **tolerance), path
    else:
        assert committed == recomputed, path
