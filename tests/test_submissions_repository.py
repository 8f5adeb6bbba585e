"""Repository invariants over the committed `submissions/` (as MTEB's results repository does):
every folder is valid, every rescored results.json is what its predictions earn on the
dataset, no run is committed twice, and every reported number is the paper's.

The dataset is the preview release built in place (`preview_dataset`), or the folder named by
`RECENTER_DATASET` (the GitHub workflow points it at the dataset it built or downloaded)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from recenter_bench.paths import PREVIEW_RELEASE_DIR, SUBMISSIONS_DIR
from recenter_bench.reproduce import PAPER
from recenter_bench.review import (
    Reference,
    find_submissions,
    folder_name,
    load_reference,
    score_folder,
    tree_problems,
    validate_submission,
)
from tests.cross_cpu import (
    assert_same_decisions,
    assert_same_record,
    rule_thresholds,
    score_tolerance,
)

SUBMISSIONS = find_submissions(SUBMISSIONS_DIR)
IDS = [f"{p.parent.name}/{p.name}" for p in SUBMISSIONS]
PAPER_RESULTS = PREVIEW_RELEASE_DIR.parent / "paper-results.md"


@pytest.fixture(scope="module")
def reference(request: pytest.FixtureRequest) -> Reference:
    source = os.environ.get("RECENTER_DATASET")
    if source is None:
        source = request.getfixturevalue("preview_dataset")
    return load_reference(source)


def _metadata(folder: Path) -> dict:
    return yaml.safe_load((folder / "metadata.yaml").read_text(encoding="utf-8"))


def test_there_are_submissions() -> None:
    assert len(SUBMISSIONS) >= 20
    provenance = {_metadata(p)["provenance"] for p in SUBMISSIONS}
    assert provenance == {"rescored", "reported"}


def test_tree_has_no_stray_files_or_duplicate_runs() -> None:
    assert tree_problems(SUBMISSIONS_DIR) == []


@pytest.mark.parametrize("folder", SUBMISSIONS, ids=IDS)
def test_submission_is_valid(folder: Path, reference: Reference) -> None:
    assert validate_submission(folder, reference=reference, require_results=True) == []


@pytest.mark.parametrize("folder", SUBMISSIONS, ids=IDS)
def test_results_json_is_reproducible(folder: Path, reference: Reference) -> None:
    """Re-scoring gives the committed file byte for byte (reported rows: returned as they are)."""
    committed = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert score_folder(folder, reference=reference).to_dict() == committed


def test_every_results_json_renders_on_the_leaderboard() -> None:
    from recenter_bench.leaderboard.table import load_submissions, stage_table

    submissions, problems = load_submissions(SUBMISSIONS_DIR)
    assert problems == []
    assert sorted(s.id for s in submissions) == sorted(IDS)
    shown = set()
    for stage in ("extraction", "pairing", "response_quality"):
        for split in ("all", "test"):
            shown |= set(stage_table(submissions, stage, split)["submission"])
    assert shown == set(IDS)


# The only committed folders made from the authors' vote files: their judges, credited to them.
AUTHORS_VOTES = {
    "openai__GPT-5.4/authors-votes": "gpt-5.4.jsonl",
    "google__Gemma-4-31B/authors-votes": "google_gemma-4-31b-it.jsonl",
}


def test_vote_derived_predictions_only_for_the_authors_two_judges() -> None:
    """The authors' LLM relevance votes are committed for exactly their two published judges,
    as they are (every vote agrees), credited as the authors' predictions. No other committed
    pairing.jsonl may agree with a vote file on 90% of its pairs (BM25 and embeddings agree
    with them on about half)."""
    from recenter_bench.import_votes import read_votes
    from recenter_bench.loaders.ids import pair_id

    vote_files = sorted((PREVIEW_RELEASE_DIR / "data" / "relevance_task5").glob("*.jsonl"))
    if not vote_files:
        pytest.skip("the authors' vote files are not beside the checkout")
    votes = {
        path.name: {pair_id(u, p, a): v for (u, p, a), v in read_votes(path).items()}
        for path in vote_files
    }
    for folder in SUBMISSIONS:
        path = folder / "pairing.jsonl"
        if not path.is_file():
            continue
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        name = f"{folder.parent.name}/{folder.name}"
        for file_name, voted in votes.items():
            common = [r for r in rows if r["pair_id"] in voted]
            same = sum(r["relevant"] == voted[r["pair_id"]] for r in common)
            if AUTHORS_VOTES.get(name) == file_name:
                assert same == len(common) == len(rows), folder
                description = _metadata(folder)["description"]
                assert "published by the paper's authors" in description
                assert "the authors' predictions" in description
            else:
                assert common and same / len(common) < 0.9, (folder, file_name)
    present = {f"{p.parent.name}/{p.name}" for p in SUBMISSIONS}
    assert set(AUTHORS_VOTES) <= present


def test_reported_rows_are_the_papers_numbers() -> None:
    """Every number of a reported row is printed in the paper, in the table it names."""
    if not PAPER_RESULTS.is_file():
        pytest.skip(f"{PAPER_RESULTS} is not beside the checkout")
    printed = set(re.findall(r"(?<![\d.])\d\.\d{3}(?!\d)", PAPER_RESULTS.read_text()))
    for folder in SUBMISSIONS:
        metadata = _metadata(folder)
        if metadata["provenance"] != "reported":
            continue
        results = json.loads((folder / "results.json").read_text())
        assert results["dataset_revision"] == PAPER and results["metric_version"] == PAPER
        assert re.match(r"^(Tables?|Figure|Section) ", metadata["source"]), folder
        splits = {"fine-tuned": {"test"}}.get(metadata["type"], {"all"})
        for stage, by_split in results["scores"].items():
            assert set(by_split) == splits, (folder, stage)
            for metrics in by_split.values():
                for name, value in metrics.items():
                    assert f"{value:.3f}" in printed, (folder, stage, name, value)


def test_folder_names_follow_the_metadata() -> None:
    for folder in SUBMISSIONS:
        metadata = _metadata(folder)
        assert folder.parent.name == folder_name(metadata["org"], metadata["model"])


RUN_ROWS = [
    p
    for p in SUBMISSIONS
    if _metadata(p).get("run", {}).get("kind")
    in ("bm25", "embedding-similarity", "embedding-classifier")
]


@pytest.mark.parametrize("folder", RUN_ROWS, ids=[f"{p.parent.name}/{p.name}" for p in RUN_ROWS])
def test_run_rows_are_reproducible(folder: Path, reference: Reference) -> None:
    """A reader re-running the committed `recenter run` systems gets the committed predictions
    and metadata on any CPU: scores at a float32 tolerance (a solver's, for a fitted model),
    decisions but for a few rows at the threshold, thresholds to their 4 written digits
    (tests/cross_cpu.py)."""
    from recenter_bench.run.runner import run_system
    from recenter_bench.run.systems import load_system

    committed = _metadata(folder)
    system = load_system(committed["run"]["system"])
    outcome = run_system(system, reference, ["train", "validation", "test"])
    rows = [json.loads(x) for x in (folder / "pairing.jsonl").read_text().splitlines()]
    thresholds, kind = rule_thresholds(committed["run"]["rule"]), committed["run"]["kind"]
    assert_same_decisions(rows, outcome.predictions, thresholds, tolerance=score_tolerance(kind))
    record = {k: v for k, v in committed["run"].items() if k != "recenter_bench"}
    assert_same_record(record, outcome.record)
    assert committed["trained_on"] == system.trained_on == ["train", "validation"]
    assert committed["type"] == system.metadata_type


def test_retrieval_rows_show_the_papers_number() -> None:
    """Figure 4 does not state its rule: our rows print the paper's F1 beside their own."""
    for folder, paper in (
        ("recenter-bench__BM25", "0.243"),
        ("recenter-bench__all-MiniLM-L6-v2-similarity", "0.384"),
    ):
        (run,) = (SUBMISSIONS_DIR / folder).iterdir()
        assert f"reports F1 {paper} on test" in _metadata(run)["description"]


@pytest.mark.parametrize(
    "name",
    [
        "submission_metadata",
        "extraction_predictions",
        "pairing_predictions",
        "response_quality_predictions",
        "raw_answers",
        "results",
    ],
)
def test_submission_schemas_are_valid_and_versioned(name: str) -> None:
    import jsonschema

    from recenter_bench import BENCHMARK_VERSION
    from recenter_bench.paths import load_schema

    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    if name in ("submission_metadata", "results"):
        assert schema["properties"]["benchmark_version"]["const"] == BENCHMARK_VERSION
