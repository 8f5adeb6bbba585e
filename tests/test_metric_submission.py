"""Whole submissions: score_submission on the real preview dataset and on the fixture release
(with per-annotator labels), the human reference, the no-skill baselines and the NaN reasons,
each checked against scikit-learn / scipy computed independently."""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_score

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric

STAGES = metric.STAGES


@pytest.fixture(scope="module")
def preview_rows(preview_dataset: Path) -> dict:
    from recenter_bench.loaders.load import load_rows

    return {stage: load_rows(stage, preview_dataset) for stage in STAGES}


@pytest.fixture(scope="module")
def fixture_rows(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from fixture_release import make_fixture_release

    from recenter_bench.loaders.build import build_dataset
    from recenter_bench.loaders.load import load_rows

    root = tmp_path_factory.mktemp("fixture")
    build_dataset(make_fixture_release(root / "release"), root / "dataset")
    return {stage: load_rows(stage, root / "dataset") for stage in STAGES}


def random_predictions(rows: dict, seed: int = 0) -> dict[str, list[dict]]:
    rng = np.random.default_rng(seed)
    out = {}
    for stage in STAGES:
        ids = [r[metric.ID_FIELD[stage]] for split in rows[stage].values() for r in split]
        if stage == "response_quality":
            values = rng.integers(1, 6, size=len(ids)).astype(float)
        else:
            values = rng.random(len(ids)) < 0.45
        out[stage] = [
            {metric.ID_FIELD[stage]: i, metric.PREDICTION_FIELD[stage]: v.item()}
            for i, v in zip(ids, values, strict=True)
        ]
    return out


def test_preview_pairing_scores_match_sklearn(preview_rows):
    predictions = random_predictions(preview_rows)
    scores = metric.score_submission(predictions, preview_rows, n_bootstrap=200)
    by_id = {p["pair_id"]: p["relevant"] for p in predictions["pairing"]}
    for split in ("train", "validation", "test", "all"):
        rows = (
            [r for s in preview_rows["pairing"].values() for r in s]
            if split == "all"
            else preview_rows["pairing"][split]
        )
        y_true = [r["relevant"] for r in rows]
        y_pred = [by_id[r["pair_id"]] for r in rows]
        got = scores["pairing"][split]
        assert got["n"] == len(rows)
        assert got["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
        assert got["precision"] == pytest.approx(precision_score(y_true, y_pred))
        assert got["f1"] == pytest.approx(f1_score(y_true, y_pred))
        assert got["human_yes_rate"] == pytest.approx(np.mean(y_true))
        assert got["tp"] + got["fp"] + got["fn"] + got["tn"] == len(rows)
        assert got["f1_ci_low"] < got["f1"] < got["f1_ci_high"]
        assert math.isnan(got["kappa_vs_annotators"])  # the preview has no per-annotator votes
    assert scores["pairing"]["all"]["n"] == 3969


def test_preview_unlabelled_stages_give_nan_with_reasons(preview_rows):
    scores = metric.score_submission(random_predictions(preview_rows), preview_rows)
    assert scores["extraction"]["all"]["n"] == 0
    assert scores["response_quality"]["test"]["n"] == 0
    assert math.isnan(scores["response_quality"]["all"]["spearman"])
    reasons = metric.undefined_reasons(scores)
    assert reasons["extraction/all/f1"] == "no labelled rows in this split"
    assert reasons["response_quality/test/spearman"] == "no labelled rows in this split"
    assert "pairing/all/f1" not in reasons


def test_fixture_scores_match_sklearn_and_scipy(fixture_rows):
    predictions = random_predictions(fixture_rows, seed=5)
    scores = metric.score_submission(predictions, fixture_rows, n_bootstrap=100)
    # extraction: positive = problematic
    by_id = {p["attribute_id"]: p["problematic"] for p in predictions["extraction"]}
    rows = [r for s in fixture_rows["extraction"].values() for r in s if r["label"] is not None]
    y_true = [r["label"] == "problematic" for r in rows]
    y_pred = [by_id[r["attribute_id"]] for r in rows]
    assert scores["extraction"]["all"]["f1"] == pytest.approx(f1_score(y_true, y_pred))
    assert scores["extraction"]["all"]["flag_rate"] == pytest.approx(np.mean(y_pred))
    # kappa_vs_annotators: mean over annotators of sklearn's kappa on that annotator's rows
    kappas = []
    for annotator in sorted({j["annotator"] for r in rows for j in r["judgments"]}):
        mine = [
            (by_id[r["attribute_id"]], j["label"] != "accepted")
            for r in rows
            for j in r["judgments"]
            if j["annotator"] == annotator
        ]
        kappas.append(cohen_kappa_score([a for a, _ in mine], [b for _, b in mine]))
    assert scores["extraction"]["all"]["kappa_vs_annotators"] == pytest.approx(np.mean(kappas))
    # response_quality
    by_id = {p["rating_id"]: p["rating"] for p in predictions["response_quality"]}
    rows = [r for s in fixture_rows["response_quality"].values() for r in s]
    rows = [r for r in rows if r["mean_rating"] is not None]
    human = [r["mean_rating"] for r in rows]
    predicted = [by_id[r["rating_id"]] for r in rows]
    got = scores["response_quality"]["all"]
    assert got["spearman"] == pytest.approx(stats.spearmanr(predicted, human).statistic)
    assert got["kendall"] == pytest.approx(stats.kendalltau(predicted, human).statistic)
    assert got["pearson"] == pytest.approx(stats.pearsonr(predicted, human).statistic)
    assert got["inflation"] == pytest.approx(np.mean(predicted) - np.mean(human))


def test_a_split_is_scored_only_when_covered(preview_rows):
    test_only = [
        {"pair_id": r["pair_id"], "relevant": True} for r in preview_rows["pairing"]["test"]
    ]
    scores = metric.score_submission({"pairing": test_only}, preview_rows, n_bootstrap=0)
    assert list(scores["pairing"]) == ["test"]
    missing_one = test_only[1:]
    scores = metric.score_submission({"pairing": missing_one}, preview_rows, n_bootstrap=0)
    assert scores["pairing"] == {}


def test_unlabelled_rows_are_ignored_but_known():
    references = {
        "pairing": {
            "test": [
                {"pair_id": "a", "prompt_id": "lima-33", "relevant": True},
                {"pair_id": "b", "prompt_id": "lima-33", "relevant": None},
            ]
        }
    }
    scores = metric.score_submission(
        {"pairing": [{"pair_id": "a", "relevant": True}, {"pair_id": "b", "relevant": False}]},
        references,
        n_bootstrap=0,
    )
    assert scores["pairing"]["test"]["n"] == 1
    assert scores["pairing"]["test"]["tn"] == 0


@pytest.mark.parametrize(
    ("predictions", "message"),
    [
        ({"pairing": [{"pair_id": "zzz", "relevant": True}]}, "unknown pair_id"),
        ({"pairing": [{"pair_id": "a", "relevant": True}] * 2}, "appears twice"),
        ({"pairing": [{"pair_id": "a", "relevant": "yes"}]}, "must be true/false"),
        ({"response_quality": [{"rating_id": "r", "rating": 7}]}, r"not in \[1, 5\]"),
        ({"response_quality": [{"rating_id": "r", "rating": True}]}, "must be a number"),
        ({"ranking": []}, "unknown stage"),
        ({"extraction": []}, "no references for stage"),
    ],
)
def test_bad_predictions_raise_value_error(predictions, message):
    references = {
        "pairing": {"test": [{"pair_id": "a", "relevant": True}]},
        "response_quality": {"test": [{"rating_id": "r", "mean_rating": 3.0}]},
    }
    with pytest.raises(ValueError, match=message):
        metric.score_submission(predictions, references)


def test_scores_are_reproducible_and_json_safe(preview_rows):
    predictions = random_predictions(preview_rows, seed=2)
    first = metric.score_submission(predictions, preview_rows, seed=4)
    again = metric.score_submission(predictions, preview_rows, seed=4)
    assert json.dumps(first) == json.dumps(again)
    only_pairing = metric.score_submission(
        {"pairing": predictions["pairing"]}, preview_rows, seed=4
    )
    assert only_pairing["pairing"] == first["pairing"]  # other stages do not shift the CI
    for splits in first.values():
        for values in splits.values():
            assert all(type(v) is float for v in values.values())


def test_undefined_reasons_read_results_json_nulls():
    stored = {
        "pairing": {
            "test": {
                "precision": None,
                "recall": 0.0,
                "f1": 0.0,
                "n": 4.0,
                "tp": 0.0,
                "fp": 0.0,
                "fn": 2.0,
                "tn": 2.0,
                "f1_ci_low": None,
                "f1_ci_high": None,
            }
        }
    }
    reasons = metric.undefined_reasons(stored)
    assert set(reasons) == {
        "pairing/test/precision",
        "pairing/test/f1_ci_low",
        "pairing/test/f1_ci_high",
    }
    assert reasons["pairing/test/precision"].startswith("no positive prediction")
    assert "n_bootstrap = 0" in reasons["pairing/test/f1_ci_low"]


# --------------------------------------------------------------------------------------------
# The human reference, recomputed from the raw fixture exports
# --------------------------------------------------------------------------------------------


def per_unit_votes(rows: list[dict], stage: str) -> list[dict]:
    key = "ratings" if stage == "response_quality" else "judgments"
    value = {"extraction": "label", "pairing": "relevant", "response_quality": "rating"}[stage]
    units = [{v["annotator"]: v[value] for v in r[key]} for r in rows]
    return [u for u in units if len(u) >= 2]


def test_human_reference_pairing_matches_sklearn(fixture_rows):
    human = metric.human_reference(fixture_rows)["pairing"]["all"]
    units = per_unit_votes([r for s in fixture_rows["pairing"].values() for r in s], "pairing")
    annotators = sorted({a for u in units for a in u})
    pair_kappas = []
    for a, b in combinations(annotators, 2):
        common = [u for u in units if a in u and b in u]
        pair_kappas.append(cohen_kappa_score([u[a] for u in common], [u[b] for u in common]))
    f1s = []
    for a in annotators:
        mine, theirs = [], []
        for u in units:
            if a not in u:
                continue
            others = [v for k, v in u.items() if k != a]
            if 2 * sum(others) == len(others):
                continue  # the others tie: no majority to compare with
            mine.append(u[a])
            theirs.append(2 * sum(others) > len(others))
        f1s.append(f1_score(theirs, mine, zero_division=np.nan))
    assert human["n"] == len(units)
    assert human["n_annotators"] == len(annotators) == 3
    assert human["inter_annotator_kappa"] == pytest.approx(np.mean(pair_kappas))
    assert human["f1"] == pytest.approx(np.nanmean(f1s))


def test_human_reference_ratings_match_scipy_and_sklearn(fixture_rows):
    human = metric.human_reference(fixture_rows)["response_quality"]["all"]
    rows = [r for s in fixture_rows["response_quality"].values() for r in s]
    units = per_unit_votes(rows, "response_quality")
    annotators = sorted({a for u in units for a in u})
    rhos, kappas = [], []
    for a, b in combinations(annotators, 2):
        common = [u for u in units if a in u and b in u]
        x, y = [u[a] for u in common], [u[b] for u in common]
        rhos.append(stats.spearmanr(x, y).statistic)
        kappas.append(cohen_kappa_score(x, y, labels=[1, 2, 3, 4, 5], weights="quadratic"))
    spearman_vs_others = []
    for a in annotators:
        mine = [u[a] for u in units if a in u]
        others = [np.mean([v for k, v in u.items() if k != a]) for u in units if a in u]
        spearman_vs_others.append(stats.spearmanr(mine, others).statistic)
    assert human["inter_annotator_spearman"] == pytest.approx(np.nanmean(rhos))
    assert human["inter_annotator_weighted_kappa"] == pytest.approx(np.nanmean(kappas))
    assert human["spearman"] == pytest.approx(np.nanmean(spearman_vs_others))


def test_human_reference_extraction_kappas(fixture_rows):
    human = metric.human_reference(fixture_rows)["extraction"]["all"]
    units = per_unit_votes(
        [r for s in fixture_rows["extraction"].values() for r in s], "extraction"
    )
    annotators = sorted({a for u in units for a in u})
    binary, three_way = [], []
    for a, b in combinations(annotators, 2):
        common = [u for u in units if a in u and b in u]
        x, y = [u[a] for u in common], [u[b] for u in common]
        binary.append(cohen_kappa_score([v != "accepted" for v in x], [v != "accepted" for v in y]))
        three_way.append(cohen_kappa_score(x, y, labels=["accepted", "uncertain", "rejected"]))
    assert human["inter_annotator_kappa"] == pytest.approx(np.mean(binary))
    assert human["inter_annotator_kappa_3way"] == pytest.approx(np.mean(three_way))


def test_human_reference_is_nan_without_per_annotator_labels(preview_rows):
    human = metric.human_reference(preview_rows)
    for stage in STAGES:
        values = human[stage]["all"]
        assert values["n"] == 0 and values["n_annotators"] == 0
        assert all(math.isnan(v) for k, v in values.items() if not k.startswith("n"))
    reasons = metric.undefined_reasons(human)
    assert reasons["pairing/all/inter_annotator_kappa"].startswith("no row has labels from 2")


# --------------------------------------------------------------------------------------------
# No-skill baselines
# --------------------------------------------------------------------------------------------


def test_no_skill_predictions_cover_every_row(fixture_rows):
    predictions = metric.no_skill_predictions(fixture_rows, seed=0)
    assert set(predictions) == set(metric.BASELINES)
    for name, stages in predictions.items():
        assert set(stages) == set(metric.BASELINES[name][0])
        for stage, rows in stages.items():
            ids = {r[metric.ID_FIELD[stage]] for s in fixture_rows[stage].values() for r in s}
            assert [r[metric.ID_FIELD[stage]] for r in rows] == sorted(ids)
    assert metric.no_skill_predictions(fixture_rows, seed=0) == predictions
    assert metric.no_skill_predictions(fixture_rows, seed=1) != predictions


def test_no_skill_baselines_score_as_expected(fixture_rows):
    baselines = metric.no_skill_baselines(fixture_rows, n_bootstrap=50)
    always_yes = baselines["always-yes"]["pairing"]["all"]
    assert always_yes["yes_rate"] == 1.0 and always_yes["recall"] == 1.0
    assert always_yes["precision"] == pytest.approx(always_yes["human_yes_rate"])
    always_no = baselines["always-no"]["extraction"]["all"]
    assert always_no["f1"] == 0.0 and math.isnan(always_no["precision"])
    constant = baselines["constant-3"]["response_quality"]["all"]
    assert math.isnan(constant["spearman"]) and constant["mean_rating"] == 3.0
    mean = baselines["constant-human-mean"]["response_quality"]["train"]
    assert mean["inflation"] == pytest.approx(0.0)  # the mean comes from the train split
    random_rate = baselines["random-at-human-rate"]["pairing"]["all"]
    assert 0.0 < random_rate["yes_rate"] < 1.0


def test_no_skill_on_the_preview_skips_stages_without_labels(preview_rows):
    predictions = metric.no_skill_predictions(preview_rows)
    assert "random-at-human-rate" in predictions
    assert set(predictions["random-at-human-rate"]) == {"pairing"}
    assert "constant-human-mean" not in predictions
    assert len(predictions["always-yes"]["pairing"]) == 3969
