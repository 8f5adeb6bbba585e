"""The typed submission model (`Results`, `Submission`): every committed results.json goes
through it byte for byte, and a malformed one is refused with one line per problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from recenter_bench.errors import ValidationFailed
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review import Results, Submission, find_submissions

FOLDERS = find_submissions(SUBMISSIONS_DIR)
IDS = ["/".join(folder.parts[-2:]) for folder in FOLDERS]


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_every_committed_results_json_round_trips_byte_for_byte(folder: Path) -> None:
    text = (folder / "results.json").read_text(encoding="utf-8")
    results = Results.from_json(text)
    assert results.to_json() == text
    # the typed fields are the file's, not a copy of the parser's output
    data = json.loads(text)
    assert results.submission == data["submission"] == "/".join(folder.parts[-2:])
    assert results.provenance in ("rescored", "reported")
    assert results.scores == data["scores"]


def test_a_submission_folder_reads_into_the_model() -> None:
    folder = SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2"
    submission = Submission.from_folder(folder)
    lines = (folder / "pairing.jsonl").read_text(encoding="utf-8").splitlines()
    assert list(submission.predictions) == ["pairing"]
    assert submission.predictions["pairing"] == [json.loads(line) for line in lines]
    assert submission.metadata["provenance"] == "rescored"
    assert submission.results is not None
    assert submission.results.to_json() == (folder / "results.json").read_text(encoding="utf-8")


def test_a_reported_folder_has_no_predictions() -> None:
    submission = Submission.from_folder(SUBMISSIONS_DIR / "openai__GPT-5.4" / "paper")
    assert submission.predictions == {}
    assert submission.results is not None and submission.results.provenance == "reported"


VALID = (SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2" / "results.json").read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "results.json:1: must be a JSON object"),
        ('{"a": 1, "a": 2}', 'results.json: not valid JSON: the key "a" appears twice'),
        ("{", "results.json:1: not valid JSON: Expecting property name"),
        ("[" * 100 + "]" * 100, "results.json: values are nested too deeply"),
        (VALID.replace('"provenance": "rescored"', '"provenance": "guessed"'), "provenance"),
        (VALID.replace('"submission": ', '"who": '), "submission: missing required field"),
        (VALID.replace('"f1": 0.', '"f1": NaN, "x": 0.', 1), "is not a finite number"),
    ],
    ids=["not-object", "duplicate-key", "truncated", "too-deep", "bad-enum", "missing", "nan"],
)
def test_a_malformed_results_json_is_one_line_per_problem(text: str, expected: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        Results.from_json(text)
    problems = failure.value.problems
    assert problems, "a refusal names at least one problem"
    assert all("\n" not in line and line.startswith("results.json") for line in problems)
    assert any(expected in line for line in problems), problems


def test_a_broken_folder_is_refused_with_its_problem_lines(tmp_path: Path) -> None:
    folder = tmp_path / "recenter-bench__BM25" / "v2"
    shutil.copytree(SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2", folder)
    (folder / "results.json").write_text('{"submission": 1, "submission": 2}')
    (folder / "pairing.jsonl").write_text('{"pair_id": 3}\n')
    with pytest.raises(ValidationFailed) as failure:
        Submission.from_folder(folder)
    problems = failure.value.problems
    assert any(
        line.startswith(f"{folder}/results.json") and 'the key "submission" appears twice' in line
        for line in problems
    )
    assert any(line.startswith(f"{folder}/pairing.jsonl: ") for line in problems)
    assert all("\n" not in line for line in problems)
