"""Comparing model outputs recomputed on this machine with outputs committed from another.

Float kernels (BLAS, torch) of AMD and Intel CPUs differ in the last digits: on an AMD EPYC the
committed all-MiniLM-L6-v2 scores came out up to 1.7e-5 away from Intel's. A recomputed run is
the same run when its scores agree at a float32 tolerance and its decisions agree except for
a few rows whose score sits at the decision threshold, where the last digit decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

# Scores: float32 kernels agree to about 1e-5 (1.7e-5 measured); ten times that.
SCORE_TOLERANCE = {"rel": 1e-4, "abs": 1e-4}
# A decision may flip only for a row this close to the threshold, and for at most this share
# of the rows.
NEAR_THRESHOLD = 1e-4
MAX_FLIP_SHARE = 0.005
# Thresholds are written to 4 significant digits: across CPUs the last one may differ by one.
THRESHOLD_TOLERANCE = {"rel": 2e-3}
# An F1 written to 4 decimals moves by about 1/(2 x positives) per flipped row; a few flips.
F1_TOLERANCE = {"abs": 5e-3}

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def rule_thresholds(rule: str) -> list[float]:
    """The thresholds a rule text names (`score >= 0.0688`, `P(relevant) >= 0.7698`)."""
    return [float(x) for x in re.findall(r">=? (-?\d+(?:\.\d+)?(?:e-?\d+)?)", rule)]


def assert_same_decisions(
    committed: Sequence[Mapping[str, Any]],
    recomputed: Sequence[Mapping[str, Any]],
    thresholds: Sequence[float],
    id_field: str = "pair_id",
) -> None:
    """Same IDs in the same order, scores at SCORE_TOLERANCE, and decisions equal except at
    most MAX_FLIP_SHARE of the rows, each within NEAR_THRESHOLD of a threshold."""
    assert [r[id_field] for r in committed] == [r[id_field] for r in recomputed], "other IDs"
    scores = [r["score"] for r in committed]
    assert scores == pytest.approx([r["score"] for r in recomputed], **SCORE_TOLERANCE), (
        "scores differ beyond a float32 tolerance"
    )
    flipped = [
        (old[id_field], old["score"])
        for old, new in zip(committed, recomputed, strict=True)
        if old["relevant"] != new["relevant"]
    ]
    assert len(flipped) <= MAX_FLIP_SHARE * len(committed), f"{len(flipped)} flips: {flipped[:5]}"
    far = [
        (key, score)
        for key, score in flipped
        if not any(abs(score - t) <= NEAR_THRESHOLD for t in thresholds)
    ]
    assert not far, f"decisions flipped away from the thresholds {thresholds}: {far[:5]}"


def assert_same_record(committed: Any, recomputed: Any, path: str = "run") -> None:
    """Two run records equal but for numbers: numbers in text (thresholds) at
    THRESHOLD_TOLERANCE, numeric values (F1s) at F1_TOLERANCE."""
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
        assert recomputed == pytest.approx(committed, **F1_TOLERANCE), path
    else:
        assert committed == recomputed, path
