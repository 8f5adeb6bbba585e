"""Decision rules that turn relevance scores into yes/no, fit and chosen on labelled splits.

A rule is fit on one split (`fit_on`, normally train) and candidates (a scorer variant times a
rule) are compared on another (`choose_on`, normally validation); the test split is never looked
at. F1 comes from scikit-learn throughout (`precision_recall_curve`, `f1_score`).

Rules:
- `positive`: relevant when the score is above 0 (for BM25: the pair shares a word);
- `threshold`: relevant when the score reaches the threshold with the best F1 on `fit_on`;
- `top-share`: within each (user, prompt) item, the top `share` of its attributes by score are
  relevant (at least one), the share with the best F1 on `fit_on` (0.05, 0.10, ... 0.95).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SHARES = tuple(round(0.05 * k, 2) for k in range(1, 20))
# A fitted threshold keeps this many significant digits. Float kernels differ across CPUs (AMD
# and Intel BLAS, torch) in the last digits of a score; a threshold fit on those scores, written
# to 7 digits, would differ between machines although every decision is the same.
THRESHOLD_DIGITS = 4


def f1(labels: np.ndarray, decisions: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(labels, decisions, zero_division=0))


def significant(value: float, digits: int = THRESHOLD_DIGITS) -> float:
    """`value` rounded to `digits` significant digits.

    >>> significant(0.0688002), significant(-0.0147349), significant(0.640773)
    (0.0688, -0.01473, 0.6408)
    """
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits - 1}e}")


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) of the rule `score >= threshold` with the best F1 on these rows
    (ties: the higher threshold), the threshold rounded to THRESHOLD_DIGITS significant digits
    and the F1 that of the rounded threshold."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(labels, scores)
    precision, recall = precision[:-1], recall[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1s = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = np.flatnonzero(f1s == f1s.max())[-1]
    threshold = significant(float(thresholds[best]))
    return threshold, f1(labels, np.asarray(scores) >= threshold)


def top_share(scores: np.ndarray, groups: Sequence[Any], share: float) -> np.ndarray:
    """Within each group, the top ceil(share x size) rows by score (ties: earlier rows)."""
    decisions = np.zeros(len(scores), dtype=bool)
    members: dict[Any, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    for rows in members.values():
        keep = max(1, math.ceil(share * len(rows)))
        ranked = sorted(rows, key=lambda i: (-scores[i], i))
        decisions[ranked[:keep]] = True
    return decisions


@dataclass(frozen=True)
class Rule:
    """A fitted rule: its name and parameter, and how to apply it."""

    name: str
    parameter: float

    def apply(self, scores: np.ndarray, groups: Sequence[Any]) -> np.ndarray:
        if self.name == "positive":
            return scores > 0
        if self.name == "threshold":
            return scores >= self.parameter
        return top_share(scores, groups, self.parameter)

    def describe(self) -> str:
        if self.name == "positive":
            return "score > 0"
        if self.name == "threshold":
            return f"score >= {self.parameter:.{THRESHOLD_DIGITS}g}"
        return f"top {self.parameter:.0%} of each (user, prompt) item's attributes by score"


def fit_rule(name: str, scores: np.ndarray, groups: Sequence[Any], labels: np.ndarray) -> Rule:
    """The rule `name` with its parameter fit on these rows (best F1)."""
    if name == "positive":
        return Rule(name, 0.0)
    if name == "threshold":
        return Rule(name, best_threshold(scores, labels)[0])
    fits = [(f1(labels, top_share(scores, groups, s)), s) for s in SHARES]
    best = max(f for f, _ in fits)
    return Rule(name, min(s for f, s in fits if f == best))


@dataclass
class Choice:
    """The chosen candidate, and every candidate's F1 on the fitting and choosing splits."""

    variant: str
    rule: Rule
    table: list[dict[str, Any]] = field(default_factory=list)


def choose(
    variants: Mapping[str, np.ndarray],
    rule_names: Sequence[str],
    splits: Sequence[str],
    groups: Sequence[Any],
    labels: Sequence[bool | None],
    fit_on: str = "train",
    choose_on: str = "validation",
) -> tuple[Choice, np.ndarray]:
    """Fit every (variant, rule) on `fit_on`, keep the best F1 on `choose_on` (ties: the
    first declared), and return the choice and its scores over all rows. `variants` maps a
    name to the scores of all rows (labels of other splits are not used)."""
    split_array = np.asarray(splits)
    label_array = np.array([bool(v) for v in labels])
    fit_rows = np.flatnonzero(split_array == fit_on)
    choose_rows = np.flatnonzero(split_array == choose_on)
    best: tuple[float, str, Rule, np.ndarray] | None = None
    table = []
    for variant, scores in variants.items():
        fit_groups = [groups[i] for i in fit_rows]
        choose_groups = [groups[i] for i in choose_rows]
        for name in rule_names:
            rule = fit_rule(name, scores[fit_rows], fit_groups, label_array[fit_rows])
            fit_f1 = f1(label_array[fit_rows], rule.apply(scores[fit_rows], fit_groups))
            choose_f1 = f1(label_array[choose_rows], rule.apply(scores[choose_rows], choose_groups))
            table.append(
                {
                    "variant": variant,
                    "rule": rule.describe(),
                    f"{fit_on}_f1": round(fit_f1, 4),
                    f"{choose_on}_f1": round(choose_f1, 4),
                }
            )
            if best is None or choose_f1 > best[0]:
                best = (choose_f1, variant, rule, scores)
    assert best is not None
    return Choice(best[1], best[2], table), best[3]
