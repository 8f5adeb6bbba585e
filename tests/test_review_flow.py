"""`recenter score DIR` and `recenter validate DIR` read as one pass (issue 14): read -> check ->
score -> compare -> write, each step entered once, never come back to after the flow left it.

A warm run is traced (`tests/module_trace.py`): the first run imports modules lazily, and an
import runs module code, which would count as entering it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recenter_bench.cli import main
from recenter_bench.paths import SUBMISSIONS_DIR
from tests.module_trace import BELOW_EVERY_STEP, module_order, reentered, steps

REVIEW = "recenter_bench.review."
# A rescored submission committed in the repository, re-scored by the flow under test.
FOLDER = SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2"

# Modules below every step, called from several steps, that are not steps themselves. Each is
# listed with why; no step (dataset, pipeline, read, check, score, compare, write) is here.
BELOW = BELOW_EVERY_STEP | {
    # the file names, size limits and problem-line formatting every step reports in
    f"{REVIEW}files",
    # the types read hands check (Document, NonFinite) and the strict json.loads hooks, which
    # check_predictions uses for each line so that a JSON Lines file is never held parsed
    f"{REVIEW}parsed",
    # the typed Results every step hands on (its constructor, to_dict and to_json)
    f"{REVIEW}model",
    # the metric module: only score calls it (check and write read its constants, no call)
    "recenter_bench.metric.recenter_personalization.recenter_personalization",
    # the argparse declarations of `recenter run`, called while cli builds its parser
    "recenter_bench.run.arguments",
}

# One step may span several modules: the check step is split by the file it checks, and the
# dataset step loads its rows through the loaders. Their modules map to the step's name.
STEP_PREFIXES = (
    (f"{REVIEW}check", "check"),
    # the schema check's fast path for valid flat prediction rows (check_schema calls it)
    (f"{REVIEW}flat_schema", "check"),
    ("recenter_bench.loaders.", "dataset"),
)


# The steps every score and validate goes through first, in this order.
READ_CHECK_SCORE = ["cli", "commands", "dataset", "pipeline", "read", "check", "score"]


def traced(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The module order of a warm `recenter ARGV` that exits 0."""
    assert main(argv) == 0, capsys.readouterr().err  # warm: imports and caches
    with module_order(BELOW) as order:
        code = main(argv)
    assert code == 0, capsys.readouterr().err
    return order


def test_score_is_one_pass(preview_dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    order = traced(["score", str(FOLDER), "--dataset", str(preview_dataset), "--json"], capsys)
    assert capsys.readouterr().out.count('"provenance": "rescored"') == 2
    assert reentered(steps(order, STEP_PREFIXES)) == []
    # --json prints the Results' own text: nothing is written
    assert steps(order, STEP_PREFIXES) == READ_CHECK_SCORE


def test_score_write_is_one_pass(
    preview_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / FOLDER.parent.name / FOLDER.name
    shutil.copytree(FOLDER, copy)
    (copy / "results.json").unlink()
    order = traced(["score", str(copy), "--dataset", str(preview_dataset), "--write"], capsys)
    assert reentered(steps(order, STEP_PREFIXES)) == []
    # results.json written, then the headline lines printed
    assert steps(order, STEP_PREFIXES) == [*READ_CHECK_SCORE, "write"]
    # the rewritten results.json is the committed one, byte for byte
    assert (copy / "results.json").read_bytes() == (FOLDER / "results.json").read_bytes()


def test_validate_is_one_pass(preview_dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    order = traced(["validate", str(FOLDER), "--dataset", str(preview_dataset)], capsys)
    assert ": valid (dataset revision" in capsys.readouterr().out
    assert reentered(steps(order, STEP_PREFIXES)) == []
    assert steps(order, STEP_PREFIXES) == [*READ_CHECK_SCORE, "compare"]


def test_a_flow_that_comes_back_is_caught() -> None:
    # the measure itself: a step entered again after the flow left it is reported
    order = [f"{REVIEW}read", f"{REVIEW}check_metadata", f"{REVIEW}score", f"{REVIEW}check"]
    assert steps(order, STEP_PREFIXES) == ["read", "check", "score", "check"]
    assert reentered(steps(order, STEP_PREFIXES)) == ["check"]
