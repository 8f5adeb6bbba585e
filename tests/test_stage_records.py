"""One `Stage` record per stage: the metric's per-stage tables are derived from the records, and a
stage declared once as a record (a fixture-only fourth stage, never shipped) is scored by the
metric's functions with no other change. The JSON Schemas are checked against the records in
tests/test_registry.py."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from itertools import combinations
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    precision_score,
    recall_score,
)

import recenter_bench.metric.recenter_personalization as package
from recenter_bench.leaderboard import columns
from recenter_bench.metric.recenter_personalization import recenter_personalization as metric

RECORDS = metric.STAGE_RECORDS
# Each derived table and the record field it is made of.
DERIVED = {
    "HEADLINE": "headline",
    "ID_FIELD": "id_field",
    "PREDICTION_FIELD": "prediction_field",
    "BOOTSTRAP_UNIT": "bootstrap_unit",
    "ANNOTATOR_LABELS": "annotator_labels",
    "REFERENCE_FIELD": "reference_field",
    "METRIC_NAMES": "metric_names",
    "HUMAN_METRIC_NAMES": "human_metric_names",
}


@pytest.mark.parametrize(("table", "field"), DERIVED.items())
def test_each_table_is_its_records_field(table: str, field: str) -> None:
    derived = getattr(metric, table)
    assert derived == {name: getattr(record, field) for name, record in RECORDS.items()}
    assert getattr(package, table) is derived  # the package re-exports the same object


def test_stages_are_the_records_in_order() -> None:
    assert metric.STAGES == tuple(RECORDS) == ("extraction", "pairing", "response_quality")
    assert [record.name for record in RECORDS.values()] == list(RECORDS)
    assert [record.number for record in RECORDS.values()] == [1, 2, 3]
    assert metric.stages_of_kind(metric.BINARY) == ("extraction", "pairing")
    assert metric.stages_of_kind(metric.RATING) == ("response_quality",)
    with pytest.raises(TypeError):
        RECORDS["fixture_stage"] = RECORDS["pairing"]  # the registry is read-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECORDS["pairing"].headline = "accuracy"  # type: ignore[misc]


def test_record_directions_units_and_titles() -> None:
    for name, record in RECORDS.items():
        assert record.higher_is_better is metric.HIGHER_IS_BETTER[record.headline] is True
        assert record.features == (
            ("bool",) * 2 if record.kind == metric.BINARY else ("float64",) * 2
        )
        assert columns.STAGE_TITLES[name] == record.title  # the board's titles are the records'
    # Users are resampled for Stage 1, prompts for Stages 2 and 3 (README, metric card).
    assert [r.unit for r in RECORDS.values()] == ["user", "prompt", "prompt"]
    # The board draws a figure for Stages 2 and 3 (leaderboard/app.py PLOTS), none for Stage 1.
    assert [r.plot is not None for r in RECORDS.values()] == [False, True, True]


def test_a_record_with_an_unknown_kind_or_headline_is_refused() -> None:
    pairing = RECORDS["pairing"]
    with pytest.raises(ValueError, match="kind must be one of"):
        dataclasses.replace(pairing, kind="ordinal")
    with pytest.raises(ValueError, match="headline 'auc' is not a metric"):
        dataclasses.replace(pairing, headline="auc")


def test_an_unknown_stage_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown stage 'ranking'; expected one of extraction, "):
        metric.stage_record("ranking")
    assert "fixture_stage" not in RECORDS  # the fixture below is never shipped


# --------------------------------------------------------------------------------------------
# A fourth stage, declared once as a record
# --------------------------------------------------------------------------------------------

FIXTURE = metric.Stage(
    name="fixture_stage",
    number=4,
    kind=metric.BINARY,
    title="Stage 4 · fixture",
    id_field="fixture_id",
    prediction_field="flagged",
    reference_field="verdict",
    reference_labels=("keep", "flag"),
    annotator_labels=("keep", "unsure", "flag"),
    annotator_negative="keep",
    judgments_field="votes",
    judgment_field="choice",
    bootstrap_unit="user_id",
    headline="f1",
    metric_names=RECORDS["pairing"].metric_names,
    human_metric_names=RECORDS["pairing"].human_metric_names,
)
ANNOTATORS = ("annotator_1", "annotator_2", "annotator_3")


@pytest.fixture
def fixture_stage(monkeypatch: pytest.MonkeyPatch) -> metric.Stage:
    """The fixture stage added to the metric's registry for one test."""
    monkeypatch.setattr(
        metric, "STAGE_RECORDS", MappingProxyType({**RECORDS, FIXTURE.name: FIXTURE})
    )
    return FIXTURE


def _rows(n: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(dataset rows, predictions) of the fixture stage: 3 annotators' labels per row, the
    reference their majority (unsure counts as flag), rows grouped into 9 users."""
    rng = random.Random(seed)
    rows, predictions = [], []
    for i in range(n):
        choices = [rng.choice(FIXTURE.annotator_labels) for _ in ANNOTATORS]
        flagged = sum(choice != "keep" for choice in choices) >= 2
        rows.append(
            {
                "fixture_id": f"fx-{i:03d}",
                "user_id": f"user-{i % 9}",
                "votes": [
                    {"annotator": a, "choice": c} for a, c in zip(ANNOTATORS, choices, strict=True)
                ],
                "verdict": "flag" if flagged else "keep",
            }
        )
        predictions.append({"fixture_id": f"fx-{i:03d}", "flagged": rng.random() < 0.5})
    return rows, predictions


def test_the_fixture_stage_is_scored_from_its_record(fixture_stage: metric.Stage) -> None:
    rows, predictions = _rows(90, seed=4)
    references = {"fixture_stage": {"test": rows}}
    scores = metric.score_submission({"fixture_stage": predictions}, references, 200, seed=5)
    test = scores["fixture_stage"]["test"]
    assert set(scores["fixture_stage"]) == {"test", "all"}
    assert tuple(test) == fixture_stage.metric_names  # pairing's metrics, in pairing's order

    ref = np.array([row["verdict"] == "flag" for row in rows])
    pred = np.array([p["flagged"] for p in predictions])
    assert test["f1"] == pytest.approx(f1_score(ref, pred))
    assert test["precision"] == pytest.approx(precision_score(ref, pred))
    assert test["recall"] == pytest.approx(recall_score(ref, pred))
    assert test["accuracy"] == pytest.approx(accuracy_score(ref, pred))
    assert test["yes_rate"] == pytest.approx(pred.mean())
    assert test["human_yes_rate"] == pytest.approx(ref.mean())
    assert test["n"] == 90 and test["tp"] == np.sum(ref & pred)
    # kappa_vs_annotators: each annotator's own yes/no (anything but "keep"), against sklearn.
    kappas = [
        cohen_kappa_score([row["votes"][k]["choice"] != "keep" for row in rows], pred)
        for k in range(len(ANNOTATORS))
    ]
    assert test["kappa_vs_annotators"] == pytest.approx(np.mean(kappas))
    # The interval resamples the record's unit (users), drawn as the metric card documents:
    # sorted units, n_units draws per resample from numpy's PCG64 seeded with `seed`.
    units, unit_of_row = np.unique([row["user_id"] for row in rows], return_inverse=True)
    draws = np.random.default_rng(5).integers(0, units.size, size=(200, units.size))
    samples = [
        f1_score(ref[rows_drawn], pred[rows_drawn])
        for rows_drawn in (
            np.concatenate([np.flatnonzero(unit_of_row == u) for u in d]) for d in draws
        )
    ]
    low, high = np.percentile(samples, [2.5, 97.5])
    assert (test["f1_ci_low"], test["f1_ci_high"]) == pytest.approx((low, high))


def test_the_fixture_stage_gets_a_human_reference_and_baselines(
    fixture_stage: metric.Stage,
) -> None:
    rows, _ = _rows(60, seed=8)
    references = {"fixture_stage": {"train": rows[:40], "test": rows[40:]}}
    human = metric.human_reference(references)["fixture_stage"]["all"]
    assert tuple(human) == fixture_stage.human_metric_names
    assert human["n"] == 60 and human["n_annotators"] == 3
    yes = {
        a: [row["votes"][k]["choice"] != "keep" for row in rows] for k, a in enumerate(ANNOTATORS)
    }
    pairwise = [cohen_kappa_score(yes[a], yes[b]) for a, b in combinations(ANNOTATORS, 2)]
    assert human["inter_annotator_kappa"] == pytest.approx(np.mean(pairwise))

    baselines = metric.no_skill_predictions(references)
    always_yes = baselines["always-yes"]["fixture_stage"]
    assert always_yes[0] == {"fixture_id": "fx-000", "flagged": True} and len(always_yes) == 60
    assert "fixture_stage" in baselines["random-at-human-rate"]
    assert "fixture_stage" not in baselines.get("constant-3", {})  # a rating baseline
    scored = metric.no_skill_baselines(references, n_bootstrap=0)["always-no"]["fixture_stage"]
    assert scored["test"]["yes_rate"] == 0.0 and scored["test"]["tp"] == 0.0
    reasons = metric.undefined_reasons({"fixture_stage": scored})
    assert reasons["fixture_stage/test/precision"].startswith("no positive prediction")


def test_the_fixture_stage_is_an_evaluate_config(fixture_stage: metric.Stage) -> None:
    """The `evaluate.Metric` takes the stage as config_name: features and scorer by kind."""
    rows, predictions = _rows(30, seed=2)
    module = metric._metric_class()(config_name="fixture_stage", keep_in_memory=True)
    ref = [row["verdict"] == "flag" for row in rows]
    pred = [p["flagged"] for p in predictions]
    result = module.compute(predictions=pred, references=ref, n_bootstrap=0)
    assert result["f1"] == pytest.approx(f1_score(ref, pred))
    with pytest.raises(ValueError, match="expected booleans"):
        module.compute(predictions=[0.2] * 30, references=ref)


# --------------------------------------------------------------------------------------------
# No code outside the records branches on a stage's name
# --------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("recenter_bench", "leaderboard", "loaders", "metric")
NAME = "(?:extraction|pairing|response_quality)"
QUOTED = rf"""['"]{NAME}['"]"""
# A stage's name compared (==, !=, in (...)), used as a dict key, or bound to a constant (a
# constant is a comparison waiting to happen, so each one needs a reason below).
NAME_USES = re.compile(
    rf"(?:==|!=)\s*{QUOTED}|{QUOTED}\s*(?:==|!=)|\bin\s*[(\[{{]\s*{QUOTED}|{QUOTED}\s*:"
    rf"|^\s*[A-Z_]+(?::[^=]+)?\s*=\s*{QUOTED}"
)
# The records themselves declare the names; their doctests call the metric on a stage's data.
RECORDS_FILE = Path("metric/recenter_personalization/recenter_personalization.py")
# (file, the line's text) -> why the name is justified there. Each entry must still match.
ALLOWED = {
    (
        "recenter_bench/run/judge.py",
        '"extraction": JudgeStage(',
    ): "the judge's adapters (how an LLM is asked about a row, which words decide): the judge's "
    "protocol, not a metric fact; the metric file stays importable without the runner",
    ("recenter_bench/run/judge.py", '"pairing": JudgeStage('): "as above",
    ("recenter_bench/run/judge.py", '"response_quality": JudgeStage('): "as above",
    (
        "recenter_bench/run/runner.py",
        'PAIR_STAGE = "pairing"',
    ): "the fitted kinds score a prompt against an attribute with a yes/no label: a fact of "
    "those kinds (which rows they can read), checked when a system file names another stage",
    (
        "recenter_bench/import_votes.py",
        'VOTES_STAGE = "pairing"',
    ): "the paper published LLM votes for this one stage only, in its layout",
    (
        "leaderboard/prompt_blind.py",
        'PROMPT_BLIND_STAGE = "pairing"',
    ): "the prompt-blind kinds run on the runner's PAIR_STAGE only, so their reference line and "
    "lead column belong to that stage's board (the board does not import the runner)",
    (
        "leaderboard/agreement_view.py",
        'STAGE = "pairing"',
    ): "the agreement tab reproduces the paper's Figure 3, drawn for this stage",
    (
        "recenter_bench/reproduce.py",
        '{"pairing": predictions}, {"pairing": rows["pairing"]}',
    ): "reproduces the paper's published Stage-2 vote figures: that stage's data, not a branch",
}


def _name_uses() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == RECORDS_FILE:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if NAME_USES.search(line):
                    found[(relative.as_posix(), line.strip())] = number
    return found


def test_no_code_outside_the_records_compares_a_stage_name() -> None:
    found = _name_uses()
    unexplained = [
        f"{path}:{number}: {line}"
        for (path, line), number in found.items()
        if not any(path == a_path and a_line in line for a_path, a_line in ALLOWED)
    ]
    assert not unexplained, "read the stage record instead:\n" + "\n".join(unexplained)
    stale = [key for key in ALLOWED if not any(key[0] == p and key[1] in s for p, s in found)]
    assert not stale, f"allow-list entries that no longer match: {stale}"


def test_the_name_scan_finds_what_it_looks_for() -> None:
    """The scan's pattern catches each form it is meant to (so a pass above means something)."""
    for line in (
        'if stage == "pairing":',
        "elif 'extraction' != stage:",
        'if stage in ("extraction", "pairing"):',
        'PLOTS = {"response_quality": response_plot}',
        'FIXED_STAGE = "pairing"',
    ):
        assert NAME_USES.search(line), line
    for line in ("stage_record(stage).kind == RATING", 'f"pairing: the {split} split"'):
        assert not NAME_USES.search(line), line


def test_every_stage_has_a_judge_adapter_and_a_board_title() -> None:
    from recenter_bench.leaderboard import plots
    from recenter_bench.loaders.release import STAGE1_LABELS
    from recenter_bench.run.judge import JUDGE_STAGES

    assert set(JUDGE_STAGES) == set(RECORDS)
    # The figures the board drew before they were keyed by the record's `plot`.
    assert plots.STAGE_PLOTS == {
        "pairing": plots.pairing_plot,
        "response_quality": plots.response_plot,
    }
    assert columns.STAGE_TITLES == {name: r.title for name, r in RECORDS.items()}
    # The records' Stage-1 labels are the release's (loaders/agreement.py's Fleiss categories).
    assert tuple(STAGE1_LABELS.values()) == RECORDS["extraction"].annotator_labels


# --------------------------------------------------------------------------------------------
# The fixture stage through the validator and the board's table builder
# --------------------------------------------------------------------------------------------

FIXTURE_FILE = f"{FIXTURE.name}.jsonl"
# The fixture stage's predictions schema (a shipped stage has dataset_card/schemas/ files).
FIXTURE_PREDICTIONS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["fixture_id", "flagged"],
    "properties": {"fixture_id": {"type": "string"}, "flagged": {"type": "boolean"}},
}


@pytest.fixture
def registered_stage(monkeypatch: pytest.MonkeyPatch, fixture_stage: metric.Stage):
    """The fixture stage in what the validator reads beyond the record.

    The metric's per-stage tables and the board's columns are views of the records, and the
    review package (validator and scorer) reads the records when called, so the record alone
    reaches them. The one thing patched here is the stage's predictions schema, which a shipped
    stage has as a file in dataset_card/schemas/: adding a stage costs the record plus that file
    (CONTRIBUTING.md, section 5)."""
    from recenter_bench.review import check_schema

    shipped = check_schema.load_schema

    def load_schema(name: str) -> dict:
        if name == f"{FIXTURE.name}_predictions":
            return FIXTURE_PREDICTIONS_SCHEMA
        return shipped(name)

    monkeypatch.setattr(check_schema, "load_schema", load_schema)
    check_schema._validator.cache_clear()  # validators are built once per schema name
    yield fixture_stage
    check_schema._validator.cache_clear()


def _fixture_reference(rows: list[dict]):
    from recenter_bench.review import Reference

    return Reference.from_rows("fixture", "fixture0001", {FIXTURE.name: {"test": rows}})


def test_the_validator_checks_the_fixture_stage_file(registered_stage: metric.Stage) -> None:
    from recenter_bench.review import check_files, compute_results

    rows, predictions = _rows(20, seed=3)
    reference = _fixture_reference(rows)
    good = "\n".join(json.dumps(p) for p in predictions).encode()
    checked = check_files({FIXTURE_FILE: good}, reference, require_metadata=False)
    assert checked.problems == []
    assert checked.predictions == {FIXTURE.name: predictions}
    # and scored: the review's scorer gives the fixture stage its F1 (checked against sklearn)
    results = compute_results("acme__fixture/v1", checked.predictions, reference)
    assert list(results.scores) == [FIXTURE.name]
    ref = [row["verdict"] == "flag" for row in rows]
    pred = [p["flagged"] for p in predictions]
    assert results.scores[FIXTURE.name]["test"]["f1"] == pytest.approx(f1_score(ref, pred))

    bad = [dict(p) for p in predictions]
    bad[1] = {"fixture_id": "fx-999", "flagged": True}  # an ID the stage does not have
    bad[2] = {"fixture_id": "fx-002", "flagged": "yes"}  # not a boolean
    text = "\n".join(json.dumps(p) for p in bad).encode()
    problems = check_files({FIXTURE_FILE: text}, reference, require_metadata=False).problems
    assert problems[0].startswith(f'{FIXTURE_FILE}:2: fixture_id: unknown ID "fx-999"')
    assert problems[1].startswith(f"{FIXTURE_FILE}:3: flagged: ")
    assert any("2 of the 20 rows of the test split have no prediction" in p for p in problems)


def test_the_record_alone_reaches_the_validators_file_list(fixture_stage: metric.Stage) -> None:
    """The validator reads the stage records when called, not a copy made at import: the
    record alone makes the fixture file a stage file of a submission."""
    from recenter_bench.review import files

    assert files.stages() == (*RECORDS, FIXTURE.name)
    assert files.stage_files()[FIXTURE_FILE] == FIXTURE.name
    assert files.id_fields()[FIXTURE.name] == FIXTURE.id_field
    assert FIXTURE_FILE in files.allowed_files()


def test_without_the_record_the_fixture_file_is_unexpected() -> None:
    from recenter_bench.review import check_files

    rows, predictions = _rows(5, seed=3)
    data = "\n".join(json.dumps(p) for p in predictions).encode()
    problems = check_files({FIXTURE_FILE: data}, _fixture_reference(rows), require_metadata=False)
    assert [p.split(":")[0] for p in problems.problems] == [FIXTURE_FILE]
    assert "unexpected file" in problems.problems[0]


def test_the_board_builds_a_table_for_the_fixture_stage(registered_stage: metric.Stage) -> None:
    from recenter_bench.leaderboard import table

    rows, predictions = _rows(90, seed=4)
    references = {FIXTURE.name: {"test": rows}}
    systems = {
        "acme__good/v1": [
            {**p, "flagged": row["verdict"] == "flag"}
            for p, row in zip(predictions, rows, strict=True)
        ],
        "acme__coin/v1": predictions,
    }
    submissions = []
    for submission_id, preds in systems.items():
        scores = metric.score_submission({FIXTURE.name: preds}, references, 0, seed=0)
        metadata = {"model": submission_id.split("/")[0], "type": "llm-judge", "trained_on": []}
        submissions.append(table.Submission(submission_id, metadata, {"scores": scores}))
    # The record alone puts the stage on the board: its tab title, metric columns and direction.
    assert FIXTURE.name in columns.STAGES and columns.STAGE_TITLES[FIXTURE.name] == FIXTURE.title
    assert columns.HIGHER_IS_BETTER[FIXTURE.name] is True
    assert columns.COLUMNS["fixture_stage_f1"].label == "Stage 4 F1"
    board = table.stage_table(submissions, FIXTURE.name, "test")
    assert list(board.columns[:5]) == ["rank", "model", "f1", "f1_ci_low", "f1_ci_high"]
    assert list(board["submission"]) == ["acme__good/v1", "acme__coin/v1"]
    assert list(board["rank"]) == [1.0, 2.0]
    ref = np.array([row["verdict"] == "flag" for row in rows])
    coin = np.array([p["flagged"] for p in predictions])
    assert board["f1"].tolist() == pytest.approx([1.0, f1_score(ref, coin)])
    # The confusion matrix names the record's positive class (its prediction field).
    matrix = table.confusion_matrix(submissions[1], FIXTURE.name, "test")
    assert list(matrix.columns) == ["", "predicted flagged", "predicted not flagged"]
    assert matrix["predicted flagged"].sum() == coin.sum()
