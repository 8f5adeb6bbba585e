# Copyright 2026 The recenter-bench authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Scoring of the Re-Centering Humans personalization benchmark (arXiv 2606.06614).

One self-contained file, so `evaluate.load(<this folder>)` can copy it into its module cache:
it imports only numpy (scipy for Kendall's tau, when asked for), and `evaluate` / `datasets`
only for the `evaluate.Metric` wrapper, so scoring from the command line never loads them.
Every score of the project (CLI, CI, leaderboard) comes from the functions here, and the facts
of the benchmark are declared here once: one `Stage` record per stage (`STAGE_RECORDS`: its
kind, fields, labels, bootstrap unit, headline, metric names), from which the per-stage tables
(`ID_FIELD`, `METRIC_NAMES`, ...) are derived. The validator, the loaders and the leaderboard
read them, and a test checks the JSON Schemas against them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

__version__ = "1.1.0"
METRIC_VERSION = __version__


# --------------------------------------------------------------------------------------------
# The benchmark's facts: splits, one record per stage, the tables derived from the records
# --------------------------------------------------------------------------------------------

SPLITS = ("train", "validation", "test")
ALL = "all"
CI_LEVEL = 0.95
NAN = float("nan")

# The two kinds of stage: what a prediction is, how it is scored, and its `evaluate` features.
BINARY = "binary"  # a yes/no decision per row; F1 with the positive class = True
RATING = "rating"  # a 1-5 rating per row; Spearman with the mean human rating
KINDS = (BINARY, RATING)
RATING_SCALE = (1, 2, 3, 4, 5)  # the annotators' scale: 1 = prefer generic, 5 = personalized
EXTRACTION_LABELS = ("accepted", "problematic")
_FEATURES = {BINARY: ("bool", "bool"), RATING: ("float64", "float64")}


@dataclass(frozen=True)
class Stage:
    """Everything that differs between two stages, declared once (in the spirit of mteb's
    `TaskMetadata`): code branches on `kind` and reads the fields, never on the stage's name.

    - `name`: the dataset config, the `evaluate` config_name and the submission file's stem;
      `number`: the paper's stage number; `title`: the leaderboard tab's title; `plot`: the
      leaderboard's figure of the stage ("precision-recall", "rating-vs-spearman" or None).
    - `kind`: BINARY or RATING.
    - `id_field`: the key of a row; `prediction_field`: what a prediction holds (for a binary
      stage also the name of its positive class); `reference_field`: the row's human reference
      (`reference_labels`: its (negative, positive) labels, when it holds a label rather than a
      boolean or a number).
    - `annotator_labels`: each annotator's own label values, read from `judgment_field` of each
      item of the row's `judgments_field`; `annotator_negative`: the one label that counts as a
      "no" when they are labels rather than booleans (binary stages).
    - `bootstrap_unit`: the row field whose groups the bootstrap resamples (rows of one user or
      one prompt are correlated, so resampling rows would understate the CI).
    - `headline`: the metric a system is ranked on (its direction: `higher_is_better`);
      `metric_names` / `human_metric_names`: the scores of a system / of the human reference,
      in the order results.json holds them.
    """

    name: str
    number: int
    kind: str
    title: str
    id_field: str
    prediction_field: str
    reference_field: str
    annotator_labels: tuple[Any, ...]
    judgments_field: str
    judgment_field: str
    bootstrap_unit: str
    headline: str
    metric_names: tuple[str, ...]
    human_metric_names: tuple[str, ...]
    plot: str | None = None
    reference_labels: tuple[Any, Any] | None = None
    annotator_negative: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"stage {self.name}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.headline not in self.metric_names:
            raise ValueError(f"stage {self.name}: headline {self.headline!r} is not a metric")

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger headline is better (a fact of the metric: `HIGHER_IS_BETTER`)."""
        return bool(HIGHER_IS_BETTER[self.headline])

    @property
    def unit(self) -> str:
        """The bootstrap unit as a reader says it: "user" or "prompt"."""
        return self.bootstrap_unit.removesuffix("_id")

    @property
    def features(self) -> tuple[str, str]:
        """The `evaluate` feature types of (predictions, references)."""
        return _FEATURES[self.kind]


_BINARY_METRICS = ("accuracy", "precision", "recall", "f1", "f1_ci_low", "f1_ci_high")
_COUNTS = ("n", "tp", "fp", "fn", "tn")
_BINARY_HUMAN = ("accuracy", "precision", "recall", "f1")

STAGE_RECORDS: Mapping[str, Stage] = MappingProxyType(
    {
        record.name: record
        for record in (
            Stage(
                name="extraction",
                number=1,
                kind=BINARY,
                title="Stage 1 · attribute extraction",
                id_field="attribute_id",
                prediction_field="problematic",
                # `label` is the reference: positive = problematic (uncertain counts as such).
                reference_field="label",
                reference_labels=EXTRACTION_LABELS,
                annotator_labels=("accepted", "uncertain", "rejected"),
                annotator_negative="accepted",
                judgments_field="judgments",
                judgment_field="label",
                bootstrap_unit="user_id",
                headline="f1",
                metric_names=(
                    *_BINARY_METRICS,
                    "flag_rate",
                    "kappa_vs_annotators",
                    *_COUNTS,
                ),
                human_metric_names=(
                    *_BINARY_HUMAN,
                    "flag_rate",
                    "kappa_vs_annotators",
                    "inter_annotator_kappa",
                    "inter_annotator_kappa_3way",
                    "n",
                    "n_annotators",
                ),
            ),
            Stage(
                name="pairing",
                number=2,
                kind=BINARY,
                title="Stage 2 · relevance pairing",
                id_field="pair_id",
                prediction_field="relevant",
                # `relevant` is the annotators' majority vote.
                reference_field="relevant",
                annotator_labels=(False, True),
                judgments_field="judgments",
                judgment_field="relevant",
                bootstrap_unit="prompt_id",
                headline="f1",
                metric_names=(
                    *_BINARY_METRICS,
                    "yes_rate",
                    "human_yes_rate",
                    "kappa_vs_annotators",
                    *_COUNTS,
                ),
                human_metric_names=(
                    *_BINARY_HUMAN,
                    "yes_rate",
                    "human_yes_rate",
                    "kappa_vs_annotators",
                    "inter_annotator_kappa",
                    "n",
                    "n_annotators",
                ),
                plot="precision-recall",
            ),
            Stage(
                name="response_quality",
                number=3,
                kind=RATING,
                title="Stage 3 · response judging",
                id_field="rating_id",
                prediction_field="rating",
                # The mean 1-5 rating of the annotators.
                reference_field="mean_rating",
                annotator_labels=RATING_SCALE,
                judgments_field="ratings",
                judgment_field="rating",
                bootstrap_unit="prompt_id",
                headline="spearman",
                metric_names=(
                    "spearman",
                    "spearman_ci_low",
                    "spearman_ci_high",
                    "kendall",
                    "pearson",
                    "mean_rating",
                    "human_mean_rating",
                    "inflation",
                    "n",
                ),
                human_metric_names=(
                    "spearman",
                    "kendall",
                    "pearson",
                    "mean_rating",
                    "human_mean_rating",
                    "inflation",
                    "inter_annotator_spearman",
                    "inter_annotator_weighted_kappa",
                    "n",
                    "n_annotators",
                ),
                plot="rating-vs-spearman",
            ),
        )
    }
)


class RecordView(Mapping):
    """A read-only table of one fact per stage, read from `STAGE_RECORDS` when it is looked up
    (not copied at import), so a stage added to the records is in every table at once.

    >>> RecordView(lambda record: record.headline)["pairing"]
    'f1'
    """

    def __init__(self, read: Any) -> None:
        self._read = read  # Stage -> the fact

    def __getitem__(self, stage: str) -> Any:
        return self._read(STAGE_RECORDS[stage])

    def __iter__(self) -> Any:
        return iter(STAGE_RECORDS)

    def __len__(self) -> int:
        return len(STAGE_RECORDS)

    def __repr__(self) -> str:
        return repr(dict(self))


class StageNames(Sequence):
    """The names of the stages in record order (of those `keep` accepts), read from
    `STAGE_RECORDS` when used; equal to the tuple of the same names.

    >>> StageNames() == ("extraction", "pairing", "response_quality")
    True
    """

    def __init__(self, keep: Any = None) -> None:
        self._keep = keep  # Stage -> bool, or None for every stage

    def _names(self) -> tuple[str, ...]:
        return tuple(
            name
            for name, record in STAGE_RECORDS.items()
            if self._keep is None or self._keep(record)
        )

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StageNames | tuple | list):
            return self._names() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:  # as the equal tuple's, so it can key a cache like a tuple
        return hash(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


class _Directions(Mapping):
    """`HIGHER_IS_BETTER`: every score any stage's record writes, but those in `_NO_DIRECTION`."""

    def _names(self) -> dict[str, bool]:
        return {
            name: True
            for record in STAGE_RECORDS.values()
            for name in (*record.metric_names, *record.human_metric_names)
            if name not in _NO_DIRECTION
        }

    def __getitem__(self, name: str) -> bool:
        return self._names()[name]

    def __iter__(self) -> Any:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


# The per-stage tables other modules import: views of the records, read when looked up (a
# stage declared in STAGE_RECORDS is in each of them with no other change).
STAGES = StageNames()
HEADLINE = RecordView(lambda record: record.headline)
ID_FIELD = RecordView(lambda record: record.id_field)
PREDICTION_FIELD = RecordView(lambda record: record.prediction_field)
BOOTSTRAP_UNIT = RecordView(lambda record: record.bootstrap_unit)
ANNOTATOR_LABELS = RecordView(lambda record: record.annotator_labels)
REFERENCE_FIELD = RecordView(lambda record: record.reference_field)
METRIC_NAMES = RecordView(lambda record: record.metric_names)
HUMAN_METRIC_NAMES = RecordView(lambda record: record.human_metric_names)

# Which way a score is better (lm-eval's `higher_is_better`): every score above but the rates,
# counts, means and the signed `inflation`, which have no better direction and are not listed.
_NO_DIRECTION = frozenset(
    {"flag_rate", "yes_rate", "human_yes_rate", "mean_rating", "human_mean_rating", "inflation"}
    | {"n", "n_annotators", "tp", "fp", "fn", "tn"}
)
HIGHER_IS_BETTER = _Directions()
RATING_LABELS = RATING_SCALE


def stage_record(stage: str) -> Stage:
    """The record of a stage; a ValueError names the known stages.

    >>> stage_record("pairing").kind, stage_record("pairing").unit
    ('binary', 'prompt')
    """
    try:
        return STAGE_RECORDS[stage]
    except (KeyError, TypeError):
        known = ", ".join(STAGE_RECORDS)
        raise ValueError(f"unknown stage {stage!r}; expected one of {known}") from None


def stages_of_kind(kind: str) -> tuple[str, ...]:
    """The names of the stages of one kind, in record order.

    >>> stages_of_kind(BINARY)
    ('extraction', 'pairing')
    """
    return tuple(name for name, record in STAGE_RECORDS.items() if record.kind == kind)


_DESCRIPTION = """
Scores a system on the three human-judged stages of LLM personalization of "Re-Centering Humans
in LLM Personalization" (Zhang, Liu and August, 2026). Pick the stage with `config_name`:

- `extraction` (paper Table 2): does the system flag the extracted user attributes that humans
  find problematic? Binary, positive class = problematic.
- `pairing` (paper Table 3, Figure 3): is an attribute relevant to a new prompt? Binary, positive
  class = relevant, reference = the annotators' majority vote.
- `response_quality` (paper Table 6): how much better is the personalized response than the
  generic one, on 1-5 (1 = prefer generic, 5 = prefer personalized)? Reference = mean human
  rating; agreement is read as rank correlation.

The headline metric (F1, F1, Spearman) comes with a 95% percentile bootstrap confidence interval
that resamples whole groups (pass `groups`: user IDs for extraction, prompt IDs for the other
two), seeded and reproducible. Undefined values (for example precision with no positive
prediction, or a correlation with a constant input) come back as NaN, never as an error; see
`undefined_reasons` for why.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `bool` for extraction / pairing, of `float` in [1, 5] for
        response_quality): the system's outputs, aligned with `references`. Booleans may also
        be the integers 0 and 1; anything else (a string such as "no", a probability such as
        0.1, NaN or infinity, a rating outside [1, 5]) raises ValueError instead of being cast.
    references (`list` of `bool` / `float`): the human reference: problematic (extraction),
        relevant by majority vote (pairing), mean human rating (response_quality); checked the
        same way.
    groups (`list` of `str`, optional): the bootstrap unit of each row (user for extraction,
        prompt for pairing and response_quality). Default: every row is its own unit.
    annotator_labels (`list` of `dict[str, bool]`, optional, binary stages): each row's label by
        each annotator, for `kappa_vs_annotators`. Default: none (the value is NaN).
    n_bootstrap (`int`): bootstrap resamples for the headline CI; 0 disables it. Default 1000.
    seed (`int`): seed of the bootstrap. Default 0.
Returns:
    A flat dict of floats. extraction: accuracy, precision, recall, f1, f1_ci_low, f1_ci_high,
    flag_rate, kappa_vs_annotators, n, tp, fp, fn, tn. pairing: the same with yes_rate and
    human_yes_rate instead of flag_rate. response_quality: spearman, spearman_ci_low,
    spearman_ci_high, kendall, pearson, mean_rating, human_mean_rating, inflation, n.
Examples:
    Example 1, pairing (positive = relevant):
        >>> import os, evaluate
        >>> here = os.path.dirname(__file__)  # this metric's folder
        >>> metric = evaluate.load(here, config_name="pairing")
        >>> results = metric.compute(
        ...     predictions=[True, True, False, True, False, False],
        ...     references=[True, False, False, True, True, False],
        ...     groups=["lima-01", "lima-01", "lima-02", "lima-02", "lima-03", "lima-03"],
        ... )
        >>> print({k: round(results[k], 3) for k in ("accuracy", "precision", "recall", "f1")})
        {'accuracy': 0.667, 'precision': 0.667, 'recall': 0.667, 'f1': 0.667}
        >>> print(results["yes_rate"], results["human_yes_rate"], results["n"])
        0.5 0.5 6.0

    Example 2, response_quality: a constant judge has no rank correlation (NaN, not an error):
        >>> metric = evaluate.load(here, config_name="response_quality")
        >>> results = metric.compute(predictions=[3, 3, 3, 3], references=[1.0, 2.5, 4.0, 5.0])
        >>> print(results["spearman"], results["mean_rating"], results["inflation"])
        nan 3.0 -0.125

    Example 3, a probability is not a decision (it would count as True if cast):
        >>> metric = evaluate.load(here, config_name="pairing")
        >>> metric.compute(predictions=[0.1, 0.9], references=[False, True])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: predictions: expected booleans (True/False or 0/1), got 0.1; threshold ...
"""

_CITATION = """\
@article{zhang2026recentering,
  title   = {Re-Centering Humans in {LLM} Personalization},
  author  = {Zhang, Lechen and Liu, Jiarui and August, Tal},
  journal = {arXiv preprint arXiv:2606.06614},
  year    = {2026}
}
"""


# --------------------------------------------------------------------------------------------
# Elementary statistics (vectorised; each is cross-checked against scikit-learn / scipy)
# --------------------------------------------------------------------------------------------


def _ratio(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator, NaN where the denominator is 0 (the statistic is undefined)."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out if out.ndim else float(out)


def _array(values: Iterable[Any], dtype: Any = None) -> np.ndarray:
    return np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype).ravel()


def _odd_one_out(items: Any, accepted: Any) -> tuple[bool, Any]:
    """(found, the first item `accepted` rejects), looked up in the values as given: numpy's
    conversion may have hidden it (`[True, 2]` becomes `[1, 2]`, `[1, "x"]` strings)."""
    listed = items.ravel().tolist() if isinstance(items, np.ndarray) else items
    for value in listed:
        if not accepted(value):
            return True, value
    return False, None


def _as_bool(values: Iterable[Any], name: str) -> np.ndarray:
    """Booleans (or the integers 0 and 1). Anything else is an error, not a cast: `bool("no")`
    and `bool(0.1)` are True, which would score a string or a probability as a "yes"."""
    items = values if isinstance(values, np.ndarray) else list(values)
    array = _array(items)
    if array.dtype == bool or (array.dtype.kind in "iu" and np.isin(array, (0, 1)).all()):
        return array.astype(bool)
    found, bad = _odd_one_out(items, _is_bool)
    if found:
        raise ValueError(
            f"{name}: expected booleans (True/False or 0/1), got {bad!r:.40}; "
            "threshold scores or probabilities before scoring"
        )
    return array.astype(bool)


def _is_bool(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, int | np.integer) and value in (0, 1)


def _as_float(values: Iterable[Any], name: str) -> np.ndarray:
    """Finite real numbers; a string, a boolean or NaN/infinity is an error, not a cast."""
    items = values if isinstance(values, np.ndarray) else list(values)
    array = _array(items)
    if array.dtype.kind not in "iuf" or not isinstance(items, np.ndarray):
        found, bad = _odd_one_out(items, _is_number)
        if found:
            raise ValueError(f"{name}: expected numbers, got {bad!r:.40}")
    array = array.astype(float)
    if not np.isfinite(array).all():
        bad = float(array[~np.isfinite(array)][0])
        raise ValueError(f"{name}: expected finite numbers, got {bad!r}")
    return array


def _is_number(value: Any) -> bool:
    return isinstance(value, float | int | np.number) and not isinstance(value, bool)


def _as_rating(values: Iterable[Any], name: str) -> np.ndarray:
    """Ratings on the annotators' scale: finite numbers in [1, 5]."""
    array = _as_float(values, name)
    outside = array[(array < RATING_LABELS[0]) | (array > RATING_LABELS[-1])]
    if outside.size:
        raise ValueError(f"{name}: ratings are in [1, 5], got {float(outside[0])!r}")
    return array


def _check_same_length(x: np.ndarray, y: np.ndarray) -> None:
    if x.shape != y.shape:
        raise ValueError(f"inputs differ in length: {x.size} and {y.size}")


def _round_off(value: float) -> float:
    # Rank arithmetic in floating point can leave 1e-16 residue (e.g. -0.7000000000000001); the
    # statistic is a ratio of integers-and-halves, so 12 decimals loses nothing real.
    return value if math.isnan(value) else round(value, 12)


def _index_of(labels: Sequence[Any], values: np.ndarray, name: str) -> np.ndarray:
    """Position of each value in `labels` (a ValueError names a value that is not there)."""
    position = {label: i for i, label in enumerate(labels)}
    try:
        return np.fromiter((position[v] for v in values.tolist()), dtype=int, count=values.size)
    except KeyError as missing:
        raise ValueError(f"{name}: {missing.args[0]!r} is not one of the labels") from None


def confusion_counts(references: Sequence[bool], predictions: Sequence[bool]) -> dict[str, int]:
    """True/false positives and negatives of binary predictions (positive class = True).

    >>> confusion_counts([True, True, False, False], [True, False, True, False])
    {'tp': 1, 'fp': 1, 'fn': 1, 'tn': 1}
    """
    ref = _as_bool(references, "references")
    pred = _as_bool(predictions, "predictions")
    if ref.shape != pred.shape:
        raise ValueError(f"{len(pred)} predictions for {len(ref)} references")
    return {
        "tp": int(np.sum(ref & pred)),
        "fp": int(np.sum(~ref & pred)),
        "fn": int(np.sum(ref & ~pred)),
        "tn": int(np.sum(~ref & ~pred)),
    }


def binary_metrics(tp: Any, fp: Any, fn: Any, tn: Any) -> dict[str, Any]:
    """Accuracy, precision, recall and F1 from confusion counts (scalars or arrays).

    Each is NaN where its denominator is 0 (scikit-learn's `zero_division=np.nan`): precision
    with no positive prediction, recall with no positive reference, F1 with neither, accuracy
    with no row. F1 = 2 TP / (2 TP + FP + FN), which equals the harmonic mean of precision and
    recall wherever both are defined and is 0 (not NaN) when only one of them is undefined.

    >>> binary_metrics(tp=3, fp=1, fn=2, tn=4)["f1"]
    0.6666666666666666
    >>> binary_metrics(tp=0, fp=0, fn=2, tn=4)["precision"]
    nan
    """
    tp, fp, fn, tn = (np.asarray(x, dtype=float) for x in (tp, fp, fn, tn))
    return {
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def cohen_kappa(
    rater_a: Sequence[Any],
    rater_b: Sequence[Any],
    labels: Sequence[Any] | None = None,
    weights: str | None = None,
) -> float:
    """Cohen's kappa between two raters of the same rows; NaN when undefined.

    `weights` is None (nominal), "linear" or "quadratic" (ordinal; the distance between two
    labels is their distance in `labels`, so pass `labels=(1, 2, 3, 4, 5)` for ratings so an
    unused rating level still counts as a step). Undefined (NaN): no rows, or chance agreement
    of 1 (both raters gave one and the same label to every row).

    >>> round(cohen_kappa([1, 1, 0, 0, 1], [1, 0, 0, 0, 1]), 4)
    0.6154
    >>> cohen_kappa([True, True], [True, True])
    nan
    """
    a, b = _array(rater_a), _array(rater_b)
    if a.shape != b.shape:
        raise ValueError(f"rater_a has {a.size} rows, rater_b {b.size}")
    if a.size == 0:
        return NAN
    labels = sorted(set(a.tolist()) | set(b.tolist())) if labels is None else list(labels)
    index_a, index_b = _index_of(labels, a, "rater_a"), _index_of(labels, b, "rater_b")
    k = len(labels)
    observed = np.bincount(index_a * k + index_b, minlength=k * k).reshape(k, k).astype(float)
    expected = np.outer(observed.sum(1), observed.sum(0)) / a.size
    grid = np.arange(k)
    if weights is None:
        weight = (grid[:, None] != grid[None, :]).astype(float)
    elif weights == "linear":
        weight = np.abs(grid[:, None] - grid[None, :]).astype(float)
    elif weights == "quadratic":
        weight = ((grid[:, None] - grid[None, :]) ** 2).astype(float)
    else:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    disagreement_expected = float(np.sum(weight * expected))
    if disagreement_expected <= 1e-12 * a.size:
        return NAN
    return 1.0 - float(np.sum(weight * observed)) / disagreement_expected


def _weighted_midranks(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks of `values` in every weighted sample (one sample per row of `weights`).

    A row of integer weights stands for the data set in which value i appears weights[i] times
    (a bootstrap resample), so one matrix pass ranks all resamples at once. Also returns how
    many distinct values each sample holds (fewer than 2 = constant = no correlation).
    """
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    tie_group = np.cumsum(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) - 1
    group_of_row = np.empty_like(tie_group)
    group_of_row[order] = tie_group
    group_weight = np.add.reduceat(weights[:, order], starts, axis=1)
    below = np.cumsum(group_weight, axis=1) - group_weight
    ranks = (below + (group_weight + 1.0) / 2.0)[:, group_of_row]
    return ranks, (group_weight > 0).sum(axis=1)


def _weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson r of x and y (each (B, n) or (n,)) in every weighted sample of `weights` (B, n)."""
    total = weights.sum(axis=1, keepdims=True)
    mean_x = (weights * x).sum(axis=1, keepdims=True) / total
    mean_y = (weights * y).sum(axis=1, keepdims=True) / total
    dx, dy = x - mean_x, y - mean_y
    cov = (weights * dx * dy).sum(axis=1)
    var = (weights * dx * dx).sum(axis=1) * (weights * dy * dy).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(var > 0, cov / np.sqrt(np.where(var > 0, var, 1.0)), np.nan)
    return np.clip(r, -1.0, 1.0)


def _spearman_weighted(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Spearman rho (Pearson r of average ranks) in every weighted sample; NaN if constant."""
    rank_x, distinct_x = _weighted_midranks(x, weights)
    rank_y, distinct_y = _weighted_midranks(y, weights)
    rho = _weighted_pearson(rank_x, rank_y, weights)
    return np.where((distinct_x > 1) & (distinct_y > 1), rho, np.nan)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get average ranks), as `scipy.stats.spearmanr`.

    NaN with fewer than 2 rows or a constant input.

    >>> spearman([1, 2, 3, 4, 5], [10, 9, 2.5, 6, 4])
    -0.7
    """
    x, y = _as_float(x, "x"), _as_float(y, "y")
    _check_same_length(x, y)
    if x.size < 2:
        return NAN
    return _round_off(float(_spearman_weighted(x, y, np.ones((1, x.size)))[0]))


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's correlation, as `scipy.stats.pearsonr`; NaN with < 2 rows or a constant input.

    >>> round(pearson([1, 2, 3, 4], [1, 3, 2, 5]), 4)
    0.8315
    """
    x, y = _as_float(x, "x"), _as_float(y, "y")
    _check_same_length(x, y)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return NAN
    return float(_weighted_pearson(x, y, np.ones((1, x.size)))[0])


def kendall(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b (tie-corrected), as `scipy.stats.kendalltau`; NaN when undefined.

    >>> round(kendall([1, 2, 3, 4, 5], [10, 9, 2.5, 6, 4]), 4)
    -0.6
    """
    x, y = _as_float(x, "x"), _as_float(y, "y")
    _check_same_length(x, y)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return NAN
    from scipy import stats  # only here: scipy.stats takes longer to import than all the rest

    return float(stats.kendalltau(x, y).statistic)


# --------------------------------------------------------------------------------------------
# Bootstrap over groups
# --------------------------------------------------------------------------------------------


def _group_index(groups: Sequence[Any] | None, n: int) -> tuple[np.ndarray, int]:
    """Integer group of each row (sorted group order, so row order never changes the CI)."""
    if groups is None:
        return np.arange(n), n
    labels = np.asarray(list(groups))
    if labels.size != n:
        raise ValueError(f"{labels.size} groups for {n} rows")
    unique, index = np.unique(labels, return_inverse=True)
    return index.reshape(-1), unique.size


def bootstrap_weights(
    group_index: np.ndarray, n_groups: int, n_bootstrap: int, seed: int
) -> np.ndarray:
    """(n_bootstrap, n_groups) counts: how often each group is drawn in each resample.

    Each resample draws n_groups groups with replacement (a cluster bootstrap). Seeded with
    numpy's PCG64, so the same seed always gives the same resamples.
    """
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_groups, size=(n_bootstrap, n_groups))
    offsets = np.arange(n_bootstrap)[:, None] * n_groups
    counts = np.bincount((draws + offsets).ravel(), minlength=n_bootstrap * n_groups)
    return counts.reshape(n_bootstrap, n_groups).astype(float)


def _resample_weights(
    group_index: np.ndarray, n_groups: int, n_bootstrap: int, seed: int
) -> np.ndarray | None:
    """The bootstrap's group weights, or None where no interval is defined (< 2 groups)."""
    if n_bootstrap <= 0 or n_groups < 2:
        return None
    return bootstrap_weights(group_index, n_groups, n_bootstrap, seed)


def _percentile_ci(samples: np.ndarray) -> tuple[float, float]:
    """95% percentile interval of the defined resamples (NaN if none is defined)."""
    defined = samples[np.isfinite(samples)]
    if defined.size == 0:
        return NAN, NAN
    tail = 100 * (1 - CI_LEVEL) / 2
    low, high = np.percentile(defined, [tail, 100 - tail])
    return float(low), float(high)


def f1_bootstrap_ci(
    references: Sequence[bool],
    predictions: Sequence[bool],
    groups: Sequence[Any] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile CI of F1, resampling whole groups; NaN with < 2 groups or no resamples.

    Only per-group confusion counts are needed, so all resamples are one matrix product.

    >>> low, high = f1_bootstrap_ci([True, False] * 20, [True] * 40, groups=range(40), seed=1)
    >>> round(low, 3), round(high, 3)
    (0.519, 0.788)
    """
    ref = _as_bool(references, "references")
    pred = _as_bool(predictions, "predictions")
    group_index, n_groups = _group_index(groups, ref.size)
    weights = _resample_weights(group_index, n_groups, n_bootstrap, seed)
    if weights is None:
        return NAN, NAN
    per_group = np.stack(
        [
            np.bincount(group_index, weights=(ref & pred).astype(float), minlength=n_groups),
            np.bincount(group_index, weights=(~ref & pred).astype(float), minlength=n_groups),
            np.bincount(group_index, weights=(ref & ~pred).astype(float), minlength=n_groups),
        ],
        axis=1,
    )
    tp, fp, fn = (weights @ per_group).T
    return _percentile_ci(_ratio(2 * tp, 2 * tp + fp + fn))


def spearman_bootstrap_ci(
    references: Sequence[float],
    predictions: Sequence[float],
    groups: Sequence[Any] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile CI of Spearman's rho, resampling whole groups.

    Every resample is re-ranked (ties averaged over the resampled rows), all at once: a resample
    is a row of integer weights over the original rows.
    """
    ref = _as_float(references, "references")
    pred = _as_float(predictions, "predictions")
    group_index, n_groups = _group_index(groups, ref.size)
    weights = _resample_weights(group_index, n_groups, n_bootstrap, seed)
    if weights is None:
        return NAN, NAN
    weights = weights[:, group_index]
    return _percentile_ci(_spearman_weighted(pred, ref, weights))


# --------------------------------------------------------------------------------------------
# Scoring one stage on one split: aligned lists in, a flat dict of floats out
# --------------------------------------------------------------------------------------------


def _kappa_vs_annotators(
    predictions: np.ndarray, annotator_labels: Sequence[Mapping[str, Any]] | None
) -> float:
    """Mean over annotators of Cohen's kappa between the system and that annotator's labels.

    Each annotator is compared on the rows they labelled; an annotator whose kappa is undefined
    (one class everywhere on both sides) is left out of the mean; NaN if no annotator remains.
    """
    if not annotator_labels:
        return NAN
    by_annotator: dict[str, tuple[list[int], list[bool]]] = {}
    for row, labels in enumerate(annotator_labels):
        for annotator, label in (labels or {}).items():
            if label is None:
                continue
            rows, values = by_annotator.setdefault(str(annotator), ([], []))
            rows.append(row)
            values.append(bool(label))
    kappas = [
        cohen_kappa(predictions[rows], np.asarray(values), labels=[False, True])
        for rows, values in by_annotator.values()
    ]
    defined = [k for k in kappas if not math.isnan(k)]
    return float(np.mean(defined)) if defined else NAN


def score_binary(
    predictions: Sequence[bool],
    references: Sequence[bool],
    stage: str = "pairing",
    groups: Sequence[Any] | None = None,
    annotator_labels: Sequence[Mapping[str, Any]] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """All metrics of a binary stage (`extraction` or `pairing`) on aligned rows: the stage's
    record names which of the rates it reports (`flag_rate`, or `yes_rate` and `human_yes_rate`).

    >>> scores = score_binary([True, False, True], [True, False, False], n_bootstrap=0)
    >>> scores["f1"], scores["yes_rate"], scores["human_yes_rate"], scores["tp"]
    (0.6666666666666666, 0.6666666666666666, 0.3333333333333333, 1.0)
    """
    binary = stages_of_kind(BINARY)
    if stage not in binary:
        raise ValueError(f"score_binary scores {' or '.join(binary)}, not {stage!r}")
    pred = _as_bool(predictions, "predictions")
    ref = _as_bool(references, "references")
    counts = confusion_counts(ref, pred)
    low, high = f1_bootstrap_ci(ref, pred, groups, n_bootstrap, seed)
    scores = {name: float(value) for name, value in binary_metrics(**counts).items()}
    scores["f1_ci_low"], scores["f1_ci_high"] = low, high
    # One rate under both names: the record's metric names keep the one the stage reports.
    scores["flag_rate"] = scores["yes_rate"] = _ratio(pred.sum(), pred.size)
    scores["human_yes_rate"] = _ratio(ref.sum(), ref.size)
    scores["kappa_vs_annotators"] = _kappa_vs_annotators(pred, annotator_labels)
    scores["n"] = float(ref.size)
    scores.update({name: float(value) for name, value in counts.items()})
    return {name: float(scores[name]) for name in STAGE_RECORDS[stage].metric_names}


def score_ratings(
    predictions: Sequence[float],
    references: Sequence[float],
    groups: Sequence[Any] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """All metrics of `response_quality` on aligned rows (references = mean human ratings).

    >>> scores = score_ratings([4, 5, 3, 4], [3.0, 4.5, 2.0, 3.5], n_bootstrap=0)
    >>> round(scores["spearman"], 4), scores["inflation"]
    (0.9487, 0.75)
    """
    pred = _as_rating(predictions, "predictions")
    ref = _as_rating(references, "references")
    _check_same_length(pred, ref)
    low, high = spearman_bootstrap_ci(ref, pred, groups, n_bootstrap, seed)
    mean_pred = float(pred.mean()) if pred.size else NAN
    mean_ref = float(ref.mean()) if ref.size else NAN
    return {
        "spearman": spearman(pred, ref),
        "spearman_ci_low": low,
        "spearman_ci_high": high,
        "kendall": kendall(pred, ref),
        "pearson": pearson(pred, ref),
        "mean_rating": mean_pred,
        "human_mean_rating": mean_ref,
        "inflation": mean_pred - mean_ref,
        "n": float(ref.size),
    }


# --------------------------------------------------------------------------------------------
# Scoring a submission: dataset rows -> references, every stage and split
# --------------------------------------------------------------------------------------------


def reference_value(stage: str, row: Mapping[str, Any]) -> bool | float | None:
    """The human reference of one dataset row; None when the row is unlabelled.

    >>> reference_value("extraction", {"label": "problematic"})
    True
    >>> reference_value("response_quality", {"mean_rating": None}) is None
    True
    """
    record = stage_record(stage)
    value = row.get(record.reference_field)
    if value is None:
        return None
    if record.kind == RATING:
        return None if math.isnan(float(value)) else float(value)
    if record.reference_labels is not None:
        return value == record.reference_labels[1]
    return bool(value)


def annotator_labels(stage: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """Each annotator's own label of one row: problematic (extraction: not "accepted"),
    relevant (pairing) or the 1-5 rating (response_quality).

    >>> annotator_labels("extraction", {"judgments": [
    ...     {"annotator": "annotator_1", "label": "uncertain"},
    ...     {"annotator": "annotator_2", "label": "accepted"}]})
    {'annotator_1': True, 'annotator_2': False}
    """
    record = stage_record(stage)
    field = record.judgment_field
    labelled = [j for j in row.get(record.judgments_field) or [] if j.get(field) is not None]
    if record.kind == RATING:
        return {j["annotator"]: int(j[field]) for j in labelled}
    if record.annotator_negative is not None:
        return {j["annotator"]: j[field] != record.annotator_negative for j in labelled}
    return {j["annotator"]: bool(j[field]) for j in labelled}


def _prediction_map(stage: str, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    record = STAGE_RECORDS[stage]
    id_field, value_field = record.id_field, record.prediction_field
    values: dict[str, Any] = {}
    for number, row in enumerate(rows, start=1):
        key, value = row.get(id_field), row.get(value_field)
        if not isinstance(key, str):
            raise ValueError(f"{stage} prediction {number}: {id_field} missing")
        if key in values:
            raise ValueError(f"{stage} prediction {number}: {id_field} {key!r} appears twice")
        if record.kind == RATING:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{stage} prediction {number}: {value_field} must be a number")
            if not 1 <= float(value) <= 5:
                raise ValueError(
                    f"{stage} prediction {number}: {value_field} {value} not in [1, 5]"
                )
            values[key] = float(value)
        else:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{stage} prediction {number}: {value_field} must be true/false")
            values[key] = bool(value)
    return values


def _split_order(splits: Iterable[str]) -> list[str]:
    known = [s for s in SPLITS if s in splits]
    return known + sorted(s for s in splits if s not in SPLITS and s != ALL)


def score_stage(
    stage: str,
    predictions: Iterable[Mapping[str, Any]],
    references: Mapping[str, Sequence[Mapping[str, Any]]],
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """One stage of a submission: {split: metrics} for every split whose labelled rows the
    predictions cover, plus "all" (every labelled row) when all of them are covered."""
    id_field = stage_record(stage).id_field
    predicted = _prediction_map(stage, predictions)
    known = {row[id_field] for rows in references.values() for row in rows}
    unknown = sorted(set(predicted) - known)
    if unknown:
        raise ValueError(
            f"{stage}: {len(unknown)} prediction(s) with an unknown {id_field}, e.g. {unknown[0]!r}"
        )
    labelled = {
        split: [row for row in references[split] if reference_value(stage, row) is not None]
        for split in _split_order(references)
    }
    labelled[ALL] = [row for split in list(labelled) for row in labelled[split]]
    scores: dict[str, dict[str, float]] = {}
    for split, rows in labelled.items():
        if any(row[id_field] not in predicted for row in rows):
            continue  # a split is scored only when every labelled row has a prediction
        scores[split] = _score_rows(stage, rows, predicted, n_bootstrap, seed)
    return scores


def _score_rows(
    stage: str,
    rows: Sequence[Mapping[str, Any]],
    predicted: Mapping[str, Any],
    n_bootstrap: int,
    seed: int,
) -> dict[str, float]:
    record = STAGE_RECORDS[stage]
    preds = [predicted[row[record.id_field]] for row in rows]
    refs = [reference_value(stage, row) for row in rows]
    groups = [row.get(record.bootstrap_unit) for row in rows]
    if record.kind == RATING:
        return score_ratings(preds, refs, groups, n_bootstrap, seed)
    labels = [annotator_labels(stage, row) for row in rows]
    return score_binary(preds, refs, stage, groups, labels, n_bootstrap, seed)


def score_submission(
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    references: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, float]]]:
    """Score every stage a submission enters: {stage: {split: {metric: float}}}.

    `predictions` maps a stage to its prediction rows (the stage's JSONL file); `references`
    maps a stage to {split: dataset rows} (`recenter_bench.loaders.load.load_rows`). A split
    (and "all") is scored only if the predictions cover all its labelled rows; unlabelled rows
    are ignored; a prediction whose ID is not in the references raises ValueError.

    >>> references = {"pairing": {"test": [
    ...     {"pair_id": "p1", "prompt_id": "lima-33", "relevant": True, "judgments": []},
    ...     {"pair_id": "p2", "prompt_id": "lima-34", "relevant": False, "judgments": []},
    ...     {"pair_id": "p3", "prompt_id": "lima-34", "relevant": None, "judgments": []}]}}
    >>> predictions = {"pairing": [{"pair_id": "p1", "relevant": True},
    ...                            {"pair_id": "p2", "relevant": True}]}
    >>> scores = score_submission(predictions, references, n_bootstrap=0)
    >>> sorted(scores["pairing"]), scores["pairing"]["test"]["f1"], scores["pairing"]["all"]["n"]
    (['all', 'test'], 0.6666666666666666, 2.0)
    """
    unknown = sorted(set(predictions) - set(STAGE_RECORDS))
    if unknown:
        stage_record(unknown[0])  # raises, naming the known stages
    results: dict[str, dict[str, dict[str, float]]] = {}
    for stage in STAGE_RECORDS:
        if stage not in predictions:
            continue
        if stage not in references:
            raise ValueError(f"no references for stage {stage!r}")
        results[stage] = score_stage(
            stage, predictions[stage], references[stage], n_bootstrap, seed
        )
    return results


# --------------------------------------------------------------------------------------------
# The human reference: each annotator against the others
# --------------------------------------------------------------------------------------------


def _nanmean(values: Iterable[float]) -> float:
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else NAN


def _pairwise(labels: Sequence[Mapping[str, Any]], statistic: Any) -> dict[tuple[str, str], float]:
    """statistic(a's labels, b's labels) on the rows both labelled, for every annotator pair."""
    annotators = sorted({a for row in labels for a in row})
    out = {}
    for i, a in enumerate(annotators):
        for b in annotators[i + 1 :]:
            common = [row for row in labels if a in row and b in row]
            if common:
                out[(a, b)] = statistic([r[a] for r in common], [r[b] for r in common])
    return out


def _majority_of_others(row: Mapping[str, bool], annotator: str) -> bool | None:
    """Strict majority of the other annotators' binary labels; None on a tie or no one else."""
    others = [v for a, v in row.items() if a != annotator]
    yes = sum(others)
    if not others or 2 * yes == len(others):
        return None
    return 2 * yes > len(others)


def _human_binary(stage: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    labels = [annotator_labels(stage, row) for row in rows]
    labels = [row for row in labels if len(row) >= 2]
    annotators = sorted({a for row in labels for a in row})
    per_annotator = []
    scores_names = (*binary_metrics(0, 0, 0, 0), "flag_rate", "yes_rate", "human_yes_rate")
    for annotator in annotators:
        pairs = [
            (row[annotator], _majority_of_others(row, annotator))
            for row in labels
            if annotator in row
        ]
        pairs = [(m, t) for m, t in pairs if t is not None]
        mine = [m for m, _ in pairs]
        theirs = [t for _, t in pairs]
        scores = binary_metrics(**confusion_counts(theirs, mine))
        scores["flag_rate"] = scores["yes_rate"] = _ratio(sum(mine), len(mine))
        scores["human_yes_rate"] = _ratio(sum(theirs), len(theirs))
        per_annotator.append(scores)
    kappa = _pairwise(labels, lambda a, b: cohen_kappa(a, b, labels=[False, True]))
    kappa_of = {a: _nanmean(k for pair, k in kappa.items() if a in pair) for a in annotators}
    # Averaged over annotators; the names not listed for the stage are dropped at the end.
    result = {name: _nanmean(float(s[name]) for s in per_annotator) for name in scores_names}
    result["kappa_vs_annotators"] = _nanmean(kappa_of.values())
    result["inter_annotator_kappa"] = _nanmean(kappa.values())
    record = STAGE_RECORDS[stage]
    if "inter_annotator_kappa_3way" in record.human_metric_names:
        # Agreement on the annotators' own labels (accepted / uncertain / rejected), not only on
        # the yes/no they map to.
        field = record.judgment_field
        raw = [
            {
                j["annotator"]: j[field]
                for j in row.get(record.judgments_field) or []
                if j.get(field)
            }
            for row in rows
        ]
        three_way = _pairwise(
            [r for r in raw if len(r) >= 2],
            lambda a, b: cohen_kappa(a, b, labels=sorted(record.annotator_labels)),
        )
        result["inter_annotator_kappa_3way"] = _nanmean(three_way.values())
    result["n"] = float(len(labels))
    result["n_annotators"] = float(len(annotators))
    return {name: float(result.get(name, NAN)) for name in record.human_metric_names}


def _human_ratings(stage: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    record = STAGE_RECORDS[stage]
    labels = [annotator_labels(stage, row) for row in rows]
    labels = [row for row in labels if len(row) >= 2]
    annotators = sorted({a for row in labels for a in row})
    per_annotator = []
    for annotator in annotators:
        mine = [row[annotator] for row in labels if annotator in row]
        theirs = [
            float(np.mean([v for a, v in row.items() if a != annotator]))
            for row in labels
            if annotator in row
        ]
        per_annotator.append(score_ratings(mine, theirs, n_bootstrap=0))
    result = {
        name: _nanmean(s[name] for s in per_annotator)
        for name in ("spearman", "kendall", "pearson", "mean_rating", "human_mean_rating")
    }
    result["inflation"] = _nanmean(s["inflation"] for s in per_annotator)
    result["inter_annotator_spearman"] = _nanmean(_pairwise(labels, spearman).values())
    result["inter_annotator_weighted_kappa"] = _nanmean(
        _pairwise(
            labels,
            lambda a, b: cohen_kappa(a, b, labels=record.annotator_labels, weights="quadratic"),
        ).values()
    )
    result["n"] = float(len(labels))
    result["n_annotators"] = float(len(annotators))
    return {name: float(result[name]) for name in record.human_metric_names}


def human_reference(
    references: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
) -> dict[str, dict[str, dict[str, float]]]:
    """How well humans agree with each other, per stage and split (and "all").

    Each annotator is scored as if they were a system against the majority of the other
    annotators (binary stages; rows where the others tie are skipped) or the mean of the other
    annotators' ratings (response_quality); the scores are averaged over annotators. This is the
    ceiling a system should be read against. Inter-annotator agreement is the mean pairwise
    Cohen's kappa (binary; extraction also on the 3-way accepted/uncertain/rejected labels), and
    the mean pairwise Spearman and quadratic-weighted kappa on the 1-5 scale (ratings). Only rows
    with labels from at least 2 annotators count (`n`); with none, every value is NaN.

    >>> rows = [{"judgments": [{"annotator": "a1", "relevant": r1}, {"annotator": "a2",
    ...     "relevant": r2}, {"annotator": "a3", "relevant": r3}]} for r1, r2, r3 in
    ...     [(True, True, True), (False, False, False), (True, False, False), (True, True, False)]]
    >>> human = human_reference({"pairing": {"test": rows}})["pairing"]["all"]
    >>> human["n"], human["n_annotators"], round(human["inter_annotator_kappa"], 3)
    (4.0, 3.0, 0.4)
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    for stage, record in STAGE_RECORDS.items():
        if stage not in references:
            continue
        splits = {split: references[stage][split] for split in _split_order(references[stage])}
        splits[ALL] = [row for rows in splits.values() for row in rows]
        human = _human_ratings if record.kind == RATING else _human_binary
        out[stage] = {split: human(stage, rows) for split, rows in splits.items()}
    return out


# --------------------------------------------------------------------------------------------
# No-skill baselines: what a system scores without looking at the input
# --------------------------------------------------------------------------------------------

BASELINES = {
    # name: (stages it enters: those of the kinds it predicts for, what it predicts)
    "always-yes": (stages_of_kind(BINARY), "flags every attribute / marks every pair relevant"),
    "always-no": (stages_of_kind(BINARY), "flags nothing / marks no pair relevant"),
    "random-at-human-rate": (
        STAGES,
        "yes with the human positive rate of the train split; ratings drawn from the train "
        "split's mean human ratings",
    ),
    "constant-3": (stages_of_kind(RATING), "rates every response 3 (no preference)"),
    "constant-human-mean": (
        stages_of_kind(RATING),
        "rates every response the train split's mean human rating",
    ),
}


def _train_references(stage: str, references: Mapping[str, Sequence[Mapping[str, Any]]]) -> list:
    """Labelled reference values of the train split (all splits if train has none): baselines
    take their rate from train so no test information leaks into them."""
    for splits in (["train"], list(references)):
        values = [
            value
            for split in splits
            for row in references.get(split, [])
            if (value := reference_value(stage, row)) is not None
        ]
        if values:
            return values
    return []


def no_skill_predictions(
    references: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]], seed: int = 0
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Prediction rows of every no-skill baseline: {baseline: {stage: rows}}, covering every row
    of every split (labelled or not) in ID order. A stage with no labelled row gets no
    random-at-human-rate / constant-human-mean predictions (there is no rate to copy).

    >>> refs = {"pairing": {"train": [{"pair_id": "p1", "relevant": True},
    ...                               {"pair_id": "p2", "relevant": False}]}}
    >>> no_skill_predictions(refs)["always-yes"]["pairing"]
    [{'pair_id': 'p1', 'relevant': True}, {'pair_id': 'p2', 'relevant': True}]
    """
    out: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in BASELINES}
    for number, (stage, record) in enumerate(STAGE_RECORDS.items()):
        if stage not in references:
            continue
        id_field, field = record.id_field, record.prediction_field
        ids = sorted({row[id_field] for rows in references[stage].values() for row in rows})
        train = _train_references(stage, references[stage])
        # One generator per (seed, stage): a baseline's stage does not depend on which other
        # stages the references hold.
        rng = np.random.default_rng([seed, number])
        if record.kind == RATING:
            out["constant-3"][stage] = [{id_field: i, field: 3.0} for i in ids]
            if train:
                mean = float(np.mean(train))
                drawn = rng.choice(np.asarray(train, dtype=float), size=len(ids))
                out["constant-human-mean"][stage] = [{id_field: i, field: mean} for i in ids]
                out["random-at-human-rate"][stage] = [
                    {id_field: i, field: float(v)} for i, v in zip(ids, drawn, strict=True)
                ]
            continue
        out["always-yes"][stage] = [{id_field: i, field: True} for i in ids]
        out["always-no"][stage] = [{id_field: i, field: False} for i in ids]
        if train:
            rate = float(np.mean(train))
            drawn = rng.random(len(ids)) < rate
            out["random-at-human-rate"][stage] = [
                {id_field: i, field: bool(v)} for i, v in zip(ids, drawn, strict=True)
            ]
    return {name: stages for name, stages in out.items() if stages}


def no_skill_baselines(
    references: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    seed: int = 0,
    n_bootstrap: int = 1000,
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """Scores of every no-skill baseline: {baseline: {stage: {split: {metric: float}}}}."""
    return {
        name: score_submission(predictions, references, n_bootstrap, seed)
        for name, predictions in no_skill_predictions(references, seed).items()
    }


# --------------------------------------------------------------------------------------------
# Why a value is NaN
# --------------------------------------------------------------------------------------------


def _is_undefined(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _reason(metric: str, scores: Mapping[str, Any]) -> str:
    def count(name: str) -> float:
        value = scores.get(name)
        return NAN if _is_undefined(value) else float(value)

    human = "n_annotators" in scores
    n = count("n")
    if n == 0:
        if human:
            return "no row has labels from 2 or more annotators (no per-annotator labels here)"
        return "no labelled rows in this split"
    tp, fp, fn = count("tp"), count("fp"), count("fn")
    if metric == "precision" and tp + fp == 0:
        return "no positive prediction: precision = TP / (TP + FP) is 0/0"
    if metric == "recall" and tp + fn == 0:
        return "no positive reference in this split: recall = TP / (TP + FN) is 0/0"
    if metric == "f1" and tp + fp + fn == 0:
        return "no positive prediction and no positive reference: F1 = 2TP / (2TP+FP+FN) is 0/0"
    if metric.endswith(("_ci_low", "_ci_high")):
        headline = metric.rsplit("_ci_", 1)[0]
        if _is_undefined(scores.get(headline)):
            return f"{headline} itself is undefined in this split"
        return (
            "no bootstrap: n_bootstrap = 0, fewer than 2 resampling units (users for "
            f"extraction, prompts otherwise), or {headline} undefined in every resample"
        )
    if metric == "kappa_vs_annotators":
        return (
            "no per-annotator labels in this split, or chance agreement is 1 for every "
            "annotator (system and annotator each gave a single, identical class)"
        )
    if metric.startswith("inter_annotator"):
        return "no two annotators labelled the same rows with any variation in their labels"
    if metric in ("spearman", "kendall", "pearson"):
        if n < 2:
            return "fewer than 2 rows: a correlation needs at least 2"
        return "the predicted or the reference ratings are constant here: nothing to correlate"
    if metric in ("precision", "recall", "f1") and human:
        return "undefined for every annotator (no positive label on one side)"
    return "undefined on these rows"


def undefined_reasons(scores: Mapping[str, Any]) -> dict[str, str]:
    """Why each NaN (or null, as in results.json) value is undefined: {"stage/split/metric":
    reason}. Takes the output of `score_submission` or `human_reference` (or a results.json
    `scores` block), and reads the reason from the counts beside the value, so it works on
    stored results too.

    >>> scores = score_submission({"pairing": [{"pair_id": "p1", "relevant": False}]},
    ...     {"pairing": {"test": [{"pair_id": "p1", "relevant": False, "prompt_id": "lima-33"}]}})
    >>> undefined_reasons(scores)["pairing/test/precision"]
    'no positive prediction: precision = TP / (TP + FP) is 0/0'
    """
    reasons = {}
    for stage, splits in scores.items():
        for split, metrics in splits.items():
            for metric, value in metrics.items():
                if _is_undefined(value):
                    reasons[f"{stage}/{split}/{metric}"] = _reason(metric, metrics)
    return reasons


# --------------------------------------------------------------------------------------------
# The evaluate module
# --------------------------------------------------------------------------------------------


def _check_inputs(stage: str, predictions: Any, references: Any) -> None:
    """Raise ValueError on inputs `compute` would reject, before `evaluate` casts them."""
    check = _as_rating if STAGE_RECORDS[stage].kind == RATING else _as_bool
    for name, values in (("predictions", predictions), ("references", references)):
        if values is not None:
            check(values, name)


def _metric_class() -> type:
    """The `evaluate.Metric` of this module (imports evaluate and datasets)."""
    import datasets
    import evaluate

    @evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
    class RecenterPersonalization(evaluate.Metric):
        """The Re-Centering Humans benchmark metric; `config_name` is the stage."""

        def _info(self) -> evaluate.MetricInfo:
            if self.config_name not in STAGE_RECORDS:
                raise ValueError(
                    f"config_name must be one of {', '.join(STAGE_RECORDS)} (the stage to "
                    f"score), not {self.config_name!r}"
                )
            prediction_type, reference_type = STAGE_RECORDS[self.config_name].features
            return evaluate.MetricInfo(
                description=_DESCRIPTION,
                citation=_CITATION,
                inputs_description=_KWARGS_DESCRIPTION,
                features=datasets.Features(
                    {
                        "predictions": datasets.Value(prediction_type),
                        "references": datasets.Value(reference_type),
                    }
                ),
                homepage="https://arxiv.org/abs/2606.06614",
                reference_urls=["https://arxiv.org/abs/2606.06614"],
            )

        # `evaluate` casts the inputs to the declared features before `_compute` sees them, and
        # its bool cast turns "no" or 0.1 into True: the values are checked as given, first.
        def add_batch(self, *, predictions: Any = None, references: Any = None, **kwargs: Any):
            """Add a batch of predictions and references, checked as given."""
            _check_inputs(self.config_name, predictions, references)
            return super().add_batch(predictions=predictions, references=references, **kwargs)

        def add(self, *, prediction: Any = None, reference: Any = None, **kwargs: Any):
            """Add one prediction and reference, checked as given."""
            _check_inputs(
                self.config_name,
                None if prediction is None else [prediction],
                None if reference is None else [reference],
            )
            return super().add(prediction=prediction, reference=reference, **kwargs)

        def _compute(
            self,
            predictions: Sequence[Any],
            references: Sequence[Any],
            groups: Sequence[Any] | None = None,
            annotator_labels: Sequence[Mapping[str, Any]] | None = None,
            n_bootstrap: int = 1000,
            seed: int = 0,
        ) -> dict[str, float]:
            if STAGE_RECORDS[self.config_name].kind == RATING:
                return score_ratings(predictions, references, groups, n_bootstrap, seed)
            return score_binary(
                predictions,
                references,
                self.config_name,
                groups,
                annotator_labels,
                n_bootstrap,
                seed,
            )

    return RecenterPersonalization


def __getattr__(name: str) -> Any:
    # Scoring never needs evaluate (which imports datasets, and transformers where installed):
    # the wrapper class is made on first access, not at import.
    if name == "RecenterPersonalization":
        globals()[name] = _metric_class()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# `evaluate.load` imports this file with evaluate already imported and looks for the Metric
# subclass among the module's attributes: there, define it at import.
if sys.modules.get("evaluate") is not None:
    RecenterPersonalization = _metric_class()
