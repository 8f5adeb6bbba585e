"""Trained Stage-2 kinds (attribute-prior, attribute-only, features, cross-encoder) and the
grouped cross-validation that chooses their model: no test label reaches any fitting, folds
never share a prompt (or a user), the prior is the pandas group mean, a tiny cross-encoder
trains end to end reproducibly, and the committed rows are reproduced by their systems."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import f1_score

from recenter_bench.review import Reference
from recenter_bench.run import trained
from recenter_bench.run.runner import run_system, stage_rows
from recenter_bench.run.systems import load_system
from tests.cross_cpu import (
    REFIT_KINDS,
    assert_same_decisions,
    assert_same_record,
    assert_same_refit,
    rule_thresholds,
    score_tolerance,
)
from tests.written_submission import assert_complete_pairing_submission

SPLITS = ["train", "validation", "test"]
SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
TINY = (
    "kind: cross-encoder\nstage: pairing\ndescription: tiny\nmax_length: 32\nepochs: 1\n"
    "batch_size: 8\nmax_train_rows: 48\nfit_on: train\nchoose_on: validation\n"
)


def _flip(reference: Reference, split: str) -> Reference:
    rows = copy.deepcopy(reference.rows)
    for row in rows["pairing"][split]:
        row["relevant"] = not row["relevant"]
    return dataclasses.replace(reference, rows=rows)


def _small(reference: Reference, n: int = 60) -> Reference:
    """The first `n` pairing rows of each split (a tiny cross-encoder scores them all)."""
    rows = dict(reference.rows)
    rows["pairing"] = {
        split: sorted(split_rows, key=lambda r: r["pair_id"])[:n]
        for split, split_rows in reference.rows["pairing"].items()
    }
    return dataclasses.replace(reference, rows=rows)


def _system(tmp_path: Path, text: str, name: str = "mine") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name", ["attribute-prior", "attribute-only"])
@pytest.mark.parametrize("groups", ["prompt", "user"])
def test_test_labels_never_reach_fitting(
    name: str, groups: str, reference: Reference, tmp_path: Path
) -> None:
    """Flipping every test label changes nothing; flipping validation's changes the choice
    (grouped-cv reads train + validation)."""
    text = (Path(load_system(name).source).read_text()).replace(
        "groups: prompt", f"groups: {groups}"
    )
    system = load_system(_system(tmp_path, text, name))
    base = run_system(system, reference, SPLITS)
    assert f"grouped by {groups}" in base.record["selection"]
    flipped = run_system(system, _flip(reference, "test"), SPLITS)
    assert flipped.predictions == base.predictions and flipped.record == base.record
    flipped = run_system(system, _flip(reference, "validation"), SPLITS)
    assert flipped.record["candidates"] != base.record["candidates"]


class _SpyLearner:
    """Records which rows each fit saw, and scores a row by its index."""

    description, model = "spy", "spy"

    def __init__(self) -> None:
        self.fits: list[np.ndarray] = []
        self.scored: list[np.ndarray] = []

    def fit(self, rows, labels, only=None):
        self.fits.append(np.asarray(rows))
        spy = self

        class Fitted:
            candidates = ["only"]

            def score(self, candidate, rows):
                rows = np.asarray(list(rows))
                spy.scored.append(rows)
                return rows / 10_000.0

        return Fitted()


@pytest.mark.parametrize("groups,field", [("prompt", "prompt_id"), ("user", "user_id")])
def test_grouped_cv_folds_never_share_a_group(
    groups: str, field: str, reference: Reference, tmp_path: Path
) -> None:
    rows, splits = stage_rows(reference, "pairing", SPLITS)
    text = "kind: attribute-prior\nstage: pairing\ndescription: m\nchoose_by: grouped-cv\n"
    system = load_system(_system(tmp_path, text + f"groups: {groups}\nfolds: 4\n"))
    spy = _SpyLearner()
    outcome = trained.select(system, rows, splits, spy)
    test_rows = {i for i, s in enumerate(splits) if s == "test"}
    known = sorted(set(range(len(rows))) - test_rows)
    *folds, final = spy.fits
    assert len(folds) == 4 and sorted(final.tolist()) == known  # refit on train + validation
    held_out = spy.scored[:4]
    assert sorted(np.concatenate(held_out).tolist()) == known  # every known row scored once
    for fit_rows, out_rows in zip(folds, held_out, strict=True):
        assert not {rows[i][field] for i in fit_rows} & {rows[i][field] for i in out_rows}
        assert not set(fit_rows.tolist()) & test_rows
    assert outcome.record["selection"].startswith("grouped-cv: 4-fold GroupKFold")


def test_attribute_prior_is_the_pandas_group_rate(reference: Reference) -> None:
    outcome = run_system(load_system("attribute-prior"), reference, SPLITS)
    frame = pd.DataFrame(
        [{**r, "split": s} for s, rs in reference.rows["pairing"].items() for r in rs]
    )
    known = frame[frame.split != "test"]
    overall = known.relevant.mean()
    by_attribute = known.groupby("attribute").relevant.agg(["sum", "count"])
    expected = (by_attribute["sum"] + overall) / (by_attribute["count"] + 1)
    got = {p["pair_id"]: p["score"] for p in outcome.predictions}
    for row in frame.itertuples():
        want = expected.get(row.attribute, overall)
        assert got[row.pair_id] == pytest.approx(want, abs=1e-6)
    # the threshold is one of the out-of-fold F1's best and the decisions follow it
    threshold = outcome.record["candidates"][0]["threshold"]
    decided = {p["pair_id"]: p["relevant"] for p in outcome.predictions}
    clear = [pid for pid, s in got.items() if abs(s - threshold) > 1e-3]
    assert all(decided[pid] == (got[pid] >= threshold) for pid in clear)


def test_tiny_cross_encoder_trains_reproducibly(reference: Reference, tmp_path: Path) -> None:
    """Two runs of a tiny configuration give the same scores and decisions, and the epoch and
    threshold are chosen on validation (flipping test labels changes nothing)."""
    system = load_system(_system(tmp_path, TINY))
    reference = _small(reference)
    first = run_system(system, reference, SPLITS)
    second = run_system(system, _flip(reference, "test"), SPLITS)
    assert first.predictions == second.predictions
    assert {k: v for k, v in first.record.items() if k != "epoch_seconds"} == {
        k: v for k, v in second.record.items() if k != "epoch_seconds"
    }
    record = first.record
    assert record["kind"] == "cross-encoder" and len(record["epoch_seconds"]) == 1
    assert record["candidates"][0]["variant"] == "epoch 1"
    validation = sorted(reference.rows["pairing"]["validation"], key=lambda r: r["pair_id"])
    scores = {p["pair_id"]: p["score"] for p in first.predictions}
    decisions = {p["pair_id"]: p["relevant"] for p in first.predictions}
    f1 = f1_score(
        [r["relevant"] for r in validation], [decisions[r["pair_id"]] for r in validation]
    )
    assert f1 == pytest.approx(record["candidates"][0]["validation_f1"], abs=1e-4)
    assert len(set(scores.values())) > 10  # a trained model, not a constant


def test_cross_encoder_takes_a_folder(reference: Reference, tmp_path: Path) -> None:
    """`model:` a local folder (here the packaged MiniLM's), loaded with transformers."""
    folder = trained.encoder_source("all-MiniLM-L6-v2")
    system = load_system(_system(tmp_path, TINY + f"model: {folder}\n"))
    learner = trained.CrossEncoderLearner([], trained.CrossEncoderSettings.of(system))
    tokenizer, encoder = learner._load()
    assert encoder.config.hidden_size == 384 and tokenizer("a", "b")["input_ids"][0] == 101
    bad = load_system(_system(tmp_path, TINY + f"model: {tmp_path / 'nothing'}\n", "bad"))
    learner = trained.CrossEncoderLearner([], trained.CrossEncoderSettings.of(bad))
    with pytest.raises(Exception, match="^model: cannot load"):
        learner._load()


TRAINED_KINDS = ("attribute-prior", "attribute-only", "features")
TRAINED_ROWS = sorted(
    p
    for p in SUBMISSIONS.glob("*/*")
    if (p / "metadata.yaml").is_file()
    and yaml.safe_load((p / "metadata.yaml").read_text()).get("run", {}).get("kind")
    in TRAINED_KINDS
)


def test_each_prompt_blind_and_features_row_is_committed() -> None:
    kinds = {yaml.safe_load((p / "metadata.yaml").read_text())["run"]["kind"] for p in TRAINED_ROWS}
    assert kinds == set(TRAINED_KINDS)


@pytest.mark.parametrize("folder", TRAINED_ROWS, ids=[p.parent.name for p in TRAINED_ROWS])
def test_trained_rows_are_reproducible(folder: Path, reference: Reference) -> None:
    """Re-running the row's system gives its decisions up to a few near-threshold flips, its
    scores at float32 (or solver) tolerance and its thresholds to their written digits; the
    gradient-boosting row, refit, most decisions and its cross-validated F1s (CPUs differ in
    the last digits: tests/cross_cpu.py)."""
    committed = yaml.safe_load((folder / "metadata.yaml").read_text())
    system = load_system(committed["run"]["system"])
    assert f"`recenter run pairing --system {system.name}`" in committed["description"]
    outcome = run_system(system, reference, SPLITS)
    rows = [json.loads(x) for x in (folder / "pairing.jsonl").read_text().splitlines()]
    run = {k: v for k, v in committed["run"].items() if k != "recenter_bench"}
    if run["kind"] in REFIT_KINDS:  # a tree ensemble: another CPU grows other trees
        assert_same_refit(rows, outcome.predictions, run, outcome.record)
    else:
        thresholds, tolerance = rule_thresholds(run["rule"]), score_tolerance(run["kind"])
        assert_same_decisions(rows, outcome.predictions, thresholds, tolerance=tolerance)
        assert_same_record(run, outcome.record)
    assert committed["trained_on"] == system.trained_on == ["train", "validation"]
    assert committed["run"]["choose_by"] == "grouped-cv"
    assert_complete_pairing_submission(folder, reference)


def test_embedding_classifier_can_choose_by_grouped_cv(reference: Reference) -> None:
    """The existing trained kind takes the same selection mode, test labels still unread."""
    overrides = {"choose_by": ("--set choose_by", "grouped-cv"), "groups": ("--set", "user")}
    system = load_system("minilm-logreg", overrides)
    assert system.trained_on == ["train", "validation"]
    base = run_system(system, reference, SPLITS)
    assert base.record["selection"].startswith("grouped-cv: 5-fold GroupKFold")
    assert "grouped by user" in base.record["selection"]
    assert {c["variant"] for c in base.record["candidates"]} == {"text as is", "'The user' removed"}
    flipped = run_system(system, _flip(reference, "test"), SPLITS)
    assert flipped.predictions == base.predictions
