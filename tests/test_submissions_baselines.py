"""`recenter baseline`: the metric's no-skill predictions, written as ordinary submissions.
(BM25 and the other systems that read the input are `recenter run` systems: tests/test_run_*.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from recenter_bench.baselines import baseline_submission
from recenter_bench.cli import main
from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.review import Reference
from tests.written_submission import assert_complete_pairing_submission


def test_no_skill_baselines_are_the_metrics(reference: Reference) -> None:
    metadata, predictions = baseline_submission("always-yes", reference)
    # the preview has human labels for pairing only, so the baseline enters pairing only
    assert metadata["stages"] == ["pairing"] == list(predictions)
    expected = metric.no_skill_predictions({"pairing": reference.rows["pairing"]})
    assert predictions["pairing"] == expected["always-yes"]["pairing"]


@pytest.mark.parametrize("name", ["random-at-human-rate", "always-yes"])
def test_baseline_command_writes_a_valid_submission(
    name: str, tmp_path: Path, reference: Reference, capsys
) -> None:
    out = tmp_path / f"recenter-bench__{name}" / "v1"
    code = main(["baseline", name, "--dataset", reference.source, "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and printed.endswith(f"wrote {out}\n")
    assert_complete_pairing_submission(out, reference)


def test_baseline_refuses_a_misnamed_folder(tmp_path: Path, reference: Reference, capsys) -> None:
    out = tmp_path / "someone__always-no" / "v1"
    code = main(["baseline", "always-no", "--dataset", reference.source, "--out", str(out)])
    assert code == 1
    assert capsys.readouterr().err == (
        f"error: --out: {out}: the folder must be recenter-bench__always-no/<run> for this "
        "baseline\n"
    )
    assert not out.exists()


def test_baseline_into_a_folder_that_cannot_be_made(
    tmp_path: Path, reference: Reference, capsys
) -> None:
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "recenter-bench__always-no" / "v1"
    code = main(["baseline", "always-no", "--dataset", reference.source, "--out", str(out)])
    assert code == 1  # was a NotADirectoryError traceback
    assert capsys.readouterr().err == (
        f"error: --out: {out}: cannot write the submission (Not a directory)\n"
    )


def test_unknown_baseline(tmp_path: Path, capsys) -> None:
    code = main(["baseline", "oracle", "--out", str(tmp_path / "x" / "y")])
    assert code == 1
    assert capsys.readouterr().err == (
        "error: baseline: unknown baseline 'oracle' (expected one of always-yes, always-no, "
        "random-at-human-rate, constant-3, constant-human-mean)\n"
    )
    code = main(["baseline", "bm25", "--out", str(tmp_path / "x" / "y")])
    assert code == 1
    assert capsys.readouterr().err.endswith("; BM25 is `recenter run pairing --system bm25s`\n")


@pytest.mark.parametrize(
    "module",
    [
        "recenter_bench.run.parse",
        "recenter_bench.run.judge",
        "recenter_bench.review.files",
    ],
)
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
