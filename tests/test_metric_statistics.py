"""Every statistic of the metric, cross-checked against scikit-learn and scipy.

Random inputs come from hypothesis; the edge cases (ties, one class, constant predictions,
empty input) must give NaN exactly where the reference implementation has no value.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    precision_score,
    recall_score,
)

from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    binary_metrics,
    bootstrap_weights,
    cohen_kappa,
    confusion_counts,
    f1_bootstrap_ci,
    kendall,
    pearson,
    score_binary,
    score_ratings,
    spearman,
    spearman_bootstrap_ci,
)

bool_pairs = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=0, max_size=60)
rating_pairs = st.lists(
    st.tuples(st.integers(1, 5), st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0])),
    min_size=0,
    max_size=40,
)


def same(ours: float, theirs: float) -> bool:
    """Equal to 1e-9, with NaN equal to NaN (both undefined)."""
    if math.isnan(theirs) or math.isnan(ours):
        return math.isnan(theirs) and math.isnan(ours)
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9)


def sklearn_binary(y_true: list[bool], y_pred: list[bool]) -> dict[str, float]:
    if not y_true:
        return dict.fromkeys(("accuracy", "precision", "recall", "f1"), math.nan)
    options = {"labels": [False, True], "pos_label": True, "zero_division": np.nan}
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision": precision_score(y_true, y_pred, **options),
        "recall": recall_score(y_true, y_pred, **options),
        "f1": f1_score(y_true, y_pred, **options),
    }


def quiet(function, *args, **kwargs):
    """Call a reference implementation without its 'undefined' warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@settings(max_examples=300, deadline=None)
@given(bool_pairs)
def test_binary_metrics_match_sklearn(pairs):
    y_true = [t for t, _ in pairs]
    y_pred = [p for _, p in pairs]
    ours = binary_metrics(**confusion_counts(y_true, y_pred))
    theirs = quiet(sklearn_binary, y_true, y_pred)
    for name in theirs:
        assert same(ours[name], theirs[name]), (name, ours[name], theirs[name])


@settings(max_examples=300, deadline=None)
@given(bool_pairs)
def test_cohen_kappa_matches_sklearn(pairs):
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    ours = cohen_kappa(a, b, labels=[False, True])
    theirs = math.nan if not pairs else quiet(cohen_kappa_score, a, b, labels=[False, True])
    assert same(ours, theirs)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), max_size=40))
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_weighted_kappa_matches_sklearn(weights, pairs):
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    ours = cohen_kappa(a, b, labels=(1, 2, 3, 4, 5), weights=weights)
    theirs = (
        math.nan
        if not pairs
        else quiet(cohen_kappa_score, a, b, labels=[1, 2, 3, 4, 5], weights=weights)
    )
    assert same(ours, theirs)


def scipy_or_nan(function, x, y) -> float:
    if len(x) < 2:
        return math.nan
    return float(quiet(function, x, y).statistic)


@settings(max_examples=300, deadline=None)
@given(rating_pairs)
def test_correlations_match_scipy(pairs):
    x = [float(p) for p, _ in pairs]
    y = [r for _, r in pairs]
    assert same(spearman(x, y), scipy_or_nan(stats.spearmanr, x, y))
    assert same(kendall(x, y), scipy_or_nan(stats.kendalltau, x, y))
    assert same(pearson(x, y), scipy_or_nan(stats.pearsonr, x, y))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(1, 5, allow_nan=False), min_size=3, max_size=50), st.randoms())
def test_spearman_on_continuous_scores_matches_scipy(x, random):
    y = [random.choice([1.0, 2.0, 3.0, 4.0, 5.0]) for _ in x]
    assert same(spearman(x, y), scipy_or_nan(stats.spearmanr, x, y))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "undefined"),
    [
        ([], [], {"accuracy", "precision", "recall", "f1"}),
        ([False, False], [False, False], {"precision", "recall", "f1"}),  # one class, no positive
        ([True, True], [False, False], {"precision"}),  # constant negative predictions
        ([False, False], [True, True], {"recall"}),  # no positive reference
        ([True, True], [True, True], set()),  # one class, all right
    ],
)
def test_binary_edge_cases_are_nan_exactly_where_undefined(y_true, y_pred, undefined):
    ours = binary_metrics(**confusion_counts(y_true, y_pred))
    assert {name for name, value in ours.items() if math.isnan(value)} == undefined
    theirs = quiet(sklearn_binary, y_true, y_pred)
    for name in ours:
        assert same(ours[name], theirs[name])


@pytest.mark.parametrize(
    ("a", "b"),
    [([], []), ([True], [True]), ([True, True, True], [True, True, True]), ([3, 3], [3, 3])],
)
def test_kappa_undefined_is_nan(a, b):
    assert math.isnan(cohen_kappa(a, b))


def test_kappa_single_class_against_variation_is_zero_like_sklearn():
    a, b = [True, True, True, True], [True, False, True, False]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b)) == 0.0


@pytest.mark.parametrize(
    ("x", "y"),
    [([], []), ([3.0], [4.0]), ([3, 3, 3], [1, 2, 5]), ([1, 2, 5], [2, 2, 2])],
)
def test_correlations_undefined_are_nan(x, y):
    assert math.isnan(spearman(x, y))
    assert math.isnan(kendall(x, y))
    assert math.isnan(pearson(x, y))


def test_weighted_kappa_counts_unused_levels_as_steps():
    # Ratings 1 and 5 only: with labels 1..5 the two are four steps apart, not one.
    a, b = [1, 5, 1, 5, 1], [1, 5, 5, 5, 1]
    ours = cohen_kappa(a, b, labels=(1, 2, 3, 4, 5), weights="quadratic")
    assert ours == pytest.approx(
        cohen_kappa_score(a, b, labels=[1, 2, 3, 4, 5], weights="quadratic")
    )


def expanded_resamples(groups: list[int], n_bootstrap: int, seed: int) -> list[np.ndarray]:
    """Row indices of each cluster-bootstrap resample, drawn the slow, obvious way."""
    unique = sorted(set(groups))
    rows_of = {g: [i for i, h in enumerate(groups) if h == g] for g in unique}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(unique), size=(n_bootstrap, len(unique)))
    return [np.array([i for d in draw for i in rows_of[unique[d]]]) for draw in draws]


def test_bootstrap_weights_are_the_draw_counts():
    weights = bootstrap_weights(np.arange(7), 7, 50, seed=3)
    draws = np.random.default_rng(3).integers(0, 7, size=(50, 7))
    assert weights.shape == (50, 7)
    assert (weights.sum(axis=1) == 7).all()
    for row, draw in zip(weights, draws, strict=True):
        assert (row == np.bincount(draw, minlength=7)).all()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31), st.integers(3, 12))
def test_f1_ci_matches_a_sklearn_loop_over_explicit_resamples(seed, n_groups):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, size=80).tolist()
    y_true = (rng.random(80) < 0.3).tolist()
    y_pred = (rng.random(80) < 0.5).tolist()
    ours = f1_bootstrap_ci(y_true, y_pred, groups, n_bootstrap=60, seed=seed)
    f1s = []
    for rows in expanded_resamples(groups, 60, seed):
        t, p = np.asarray(y_true)[rows], np.asarray(y_pred)[rows]
        f1s.append(quiet(f1_score, t, p, labels=[False, True], zero_division=np.nan))
    f1s = np.asarray(f1s)
    theirs = np.percentile(f1s[~np.isnan(f1s)], [2.5, 97.5])
    assert ours == pytest.approx(tuple(theirs))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31), st.integers(3, 12))
def test_spearman_ci_matches_a_scipy_loop_over_explicit_resamples(seed, n_groups):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, size=60).tolist()
    human = rng.choice([1.0, 1.5, 2.0, 3.0, 3.5, 4.0, 5.0], size=60)
    predicted = rng.integers(1, 6, size=60).astype(float)
    ours = spearman_bootstrap_ci(human, predicted, groups, n_bootstrap=60, seed=seed)
    rhos = np.asarray(
        [
            scipy_or_nan(stats.spearmanr, predicted[rows], human[rows])
            for rows in expanded_resamples(groups, 60, seed)
        ]
    )
    theirs = np.percentile(rhos[~np.isnan(rhos)], [2.5, 97.5])
    assert ours == pytest.approx(tuple(theirs))


def test_bootstrap_is_seeded_and_ignores_row_order():
    rng = np.random.default_rng(0)
    groups = [f"lima-{g:02d}" for g in rng.integers(0, 30, size=300)]
    y_true = rng.random(300) < 0.3
    y_pred = rng.random(300) < 0.5
    first = f1_bootstrap_ci(y_true, y_pred, groups, seed=7)
    assert f1_bootstrap_ci(y_true, y_pred, groups, seed=7) == first
    assert f1_bootstrap_ci(y_true, y_pred, groups, seed=8) != first
    order = rng.permutation(300)
    shuffled = f1_bootstrap_ci(y_true[order], y_pred[order], [groups[i] for i in order], seed=7)
    assert shuffled == pytest.approx(first)
    low, high = first
    point = binary_metrics(**confusion_counts(y_true, y_pred))["f1"]
    assert low < point < high


def test_bootstrap_needs_two_units():
    assert all(math.isnan(v) for v in f1_bootstrap_ci([True, False], [True, True], ["a", "a"]))
    assert all(math.isnan(v) for v in f1_bootstrap_ci([True], [True], n_bootstrap=1000))
    assert all(math.isnan(v) for v in f1_bootstrap_ci([True, False], [True, True], n_bootstrap=0))


def test_stage_scores_on_random_rows_match_the_references():
    rng = np.random.default_rng(11)
    y_true = rng.random(500) < 0.2
    y_pred = rng.random(500) < 0.45
    scores = score_binary(y_pred, y_true, "pairing", n_bootstrap=0)
    assert scores["f1"] == pytest.approx(f1_score(y_true, y_pred))
    assert scores["yes_rate"] == pytest.approx(y_pred.mean())
    assert scores["human_yes_rate"] == pytest.approx(y_true.mean())
    human = rng.integers(3, 16, size=300) / 3
    predicted = rng.integers(1, 6, size=300).astype(float)
    ratings = score_ratings(predicted, human, n_bootstrap=0)
    assert ratings["spearman"] == pytest.approx(stats.spearmanr(predicted, human).statistic)
    assert ratings["kendall"] == pytest.approx(stats.kendalltau(predicted, human).statistic)
    assert ratings["pearson"] == pytest.approx(stats.pearsonr(predicted, human).statistic)
    assert ratings["inflation"] == pytest.approx(predicted.mean() - human.mean())
