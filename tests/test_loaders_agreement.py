"""The card's agreement statistics, checked against scikit-learn, scipy and a textbook case."""

from __future__ import annotations

import random

import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from loaders.agreement import cohen_kappa, fleiss_kappa, mean_pairwise, stage_agreement
from loaders.annotations import Judgments


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(seed: int, weights: str | None) -> None:
    rng = random.Random(seed)
    a = [rng.randint(1, 5) for _ in range(60)]
    b = [x if rng.random() < 0.5 else rng.randint(1, 5) for x in a]
    expected = cohen_kappa_score(a, b, weights=weights, labels=[1, 2, 3, 4, 5])
    assert cohen_kappa(a, b, weights=weights, labels=range(1, 6)) == pytest.approx(expected)
    if weights is None:
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_cohen_kappa_on_labels_and_booleans() -> None:
    a = ["accepted", "uncertain", "rejected", "accepted", "accepted", "rejected"]
    b = ["accepted", "accepted", "rejected", "uncertain", "accepted", "rejected"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    x, y = [True, False, True, True, False], [True, False, False, True, False]
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))
    assert cohen_kappa([True, True], [True, True]) is None  # chance agreement is perfect
    assert cohen_kappa([], []) is None


def test_fleiss_kappa_textbook_example() -> None:
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories, kappa 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    units = [[c for c, n in enumerate(row) for _ in range(n)] for row in table]
    assert fleiss_kappa(units, range(5)) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_rejects_ragged_units() -> None:
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 1], [1, 0, 1]], [0, 1])


def test_mean_pairwise_spearman_matches_scipy() -> None:
    rng = random.Random(3)
    votes = {u: [(f"annotator_{a}", rng.randint(1, 5)) for a in (1, 2, 3)] for u in range(40)}
    by = {a: [dict(v)[f"annotator_{a}"] for v in votes.values()] for a in (1, 2, 3)}
    expected = sum(stats.spearmanr(by[i], by[j]).statistic for i, j in ((1, 2), (1, 3), (2, 3))) / 3
    spearman = lambda x, y: float(stats.spearmanr(x, y).statistic)  # noqa: E731
    assert mean_pairwise(votes, spearman) == pytest.approx(expected)


def test_no_per_annotator_labels_means_not_available() -> None:
    agreement = stage_agreement(Judgments())
    for stage in agreement.values():
        assert stage["units"] == 0
        assert all(v is None for k, v in stage.items() if k != "units")
