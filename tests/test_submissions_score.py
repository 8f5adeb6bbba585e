"""`recenter validate / score / submit` and the Space's preview on valid submissions: scores come
from the metric and nothing else, results.json is written atomically, validate writes nothing."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from recenter_bench.cli import main
from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review import (
    Reference,
    preview_submission,
    resolve_dataset,
    score_folder,
    validate_submission,
)
from tests.hub_standin import hub_standin
from tests.test_submissions_bad import make_base, snapshot


def _nulled(scores: dict) -> dict:
    return {
        stage: {
            split: {k: None if math.isnan(v) else v for k, v in metrics.items()}
            for split, metrics in splits.items()
        }
        for stage, splits in scores.items()
    }


def test_score_write_is_the_metric_output(tmp_path: Path, reference: Reference, capsys) -> None:
    ctx, _ = make_base(tmp_path, reference)
    (ctx.dir / "results.json").unlink()
    code = main(["score", str(ctx.dir), "--dataset", reference.source, "--write", "--json"])
    printed = capsys.readouterr().out
    assert code == 0
    written = json.loads((ctx.dir / "results.json").read_text())
    assert json.loads(printed) == written
    rows = [json.loads(line) for line in (ctx.dir / "pairing.jsonl").read_text().splitlines()]
    direct = metric.score_submission({"pairing": rows}, {"pairing": reference.rows["pairing"]})
    assert written["scores"] == _nulled(direct)
    assert written["submission"] == "acme__Tiny-Model/run-1"
    assert written["dataset_revision"] == reference.revision
    assert written["metric_version"] == metric.METRIC_VERSION
    assert written["provenance"] == "rescored"
    # only the test split is covered: no train / validation / all scores
    assert list(written["scores"]["pairing"]) == ["test"]
    assert sorted(p.name for p in ctx.dir.iterdir()) == [
        "metadata.yaml",
        "pairing.jsonl",
        "results.json",
    ], "a temporary file was left behind"


def test_score_write_twice_is_byte_identical(tmp_path: Path, reference: Reference) -> None:
    ctx, _ = make_base(tmp_path, reference)
    first = (ctx.dir / "results.json").read_bytes()
    score_folder(ctx.dir, reference=reference, write=True)
    assert (ctx.dir / "results.json").read_bytes() == first


def test_validate_a_valid_submission_exits_0_and_writes_nothing(
    tmp_path: Path, reference: Reference, capsys
) -> None:
    ctx, _ = make_base(tmp_path, reference)
    before = snapshot(tmp_path)
    dataset_before = snapshot(Path(reference.source))
    code = main(["validate", str(ctx.dir), "--dataset", reference.source, "--require-results"])
    out = capsys.readouterr().out
    assert code == 0
    assert out == f"{ctx.dir}: valid (dataset revision {reference.revision})\n"
    assert snapshot(tmp_path) == before
    assert snapshot(Path(reference.source)) == dataset_before


def test_require_results(tmp_path: Path, reference: Reference) -> None:
    ctx, _ = make_base(tmp_path, reference)
    (ctx.dir / "results.json").unlink()
    assert validate_submission(ctx.dir, reference=reference) == []
    assert validate_submission(ctx.dir, reference=reference, require_results=True) == [
        f"{ctx.dir}/results.json: missing; run `recenter score FOLDER --write` to write it"
    ]


def test_score_refuses_an_invalid_submission_and_writes_nothing(
    tmp_path: Path, reference: Reference, capsys
) -> None:
    ctx, _ = make_base(tmp_path, reference)
    (ctx.dir / "results.json").unlink()
    (ctx.dir / "pairing.jsonl").write_text('{"pair_id": "nope", "relevant": true}\n')
    before = snapshot(tmp_path)
    code = main(["score", str(ctx.dir), "--dataset", reference.source, "--write"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"error: {ctx.dir}/pairing.jsonl:1: pair_id: ")
    assert snapshot(tmp_path) == before


def test_score_ignores_a_stale_results_json_and_rewrites_it(
    tmp_path: Path, reference: Reference
) -> None:
    ctx, base = make_base(tmp_path, reference)
    claimed = json.loads((ctx.dir / "results.json").read_text())
    claimed["scores"]["pairing"]["test"]["f1"] = 1.0
    (ctx.dir / "results.json").write_text(json.dumps(claimed))
    assert validate_submission(ctx.dir, reference=reference) != []
    assert score_folder(ctx.dir, reference=reference, write=True) == base
    assert validate_submission(ctx.dir, reference=reference, require_results=True) == []


def test_reported_rows_are_never_rescored(reference: Reference, capsys) -> None:
    folder = SUBMISSIONS_DIR / "openai__GPT-5.4" / "paper"
    results = json.loads((folder / "results.json").read_text())
    assert score_folder(folder, reference=reference).to_dict() == results
    code = main(["score", str(folder), "--dataset", reference.source, "--write"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        f"error: {folder}/results.json: holds the paper's reported numbers; "
        "a reported submission is never re-scored or rewritten\n"
    )


def test_preview_scores_in_memory(tmp_path: Path, reference: Reference) -> None:
    ctx, base = make_base(tmp_path, reference)
    files = {"pairing.jsonl": (ctx.dir / "pairing.jsonl").read_bytes()}
    before = snapshot(tmp_path)
    dataset_before = snapshot(Path(reference.source))
    problems, scores = preview_submission(files, reference.source)
    assert problems == []
    assert scores == base.scores
    # metadata is optional in the preview but checked when given
    files["metadata.yaml"] = (ctx.dir / "metadata.yaml").read_bytes()
    assert preview_submission(files, reference.source) == ([], base.scores)
    assert snapshot(tmp_path) == before
    assert snapshot(Path(reference.source)) == dataset_before


def test_preview_reports_problems_without_scores(reference: Reference) -> None:
    problems, scores = preview_submission(
        {"pairing.jsonl": b'{"pair_id": 1}\n', "evil.sh": b"rm -rf /"}, reference.source
    )
    assert scores is None
    assert problems[0] == (
        "evil.sh: unexpected file; a submission holds only metadata.yaml, extraction.jsonl, "
        "pairing.jsonl, response_quality.jsonl, raw_answers.jsonl, results.json"
    )
    assert problems[1] == "pairing.jsonl:1: pair_id: must be a string, got a number 1"
    assert problems[2] == "pairing.jsonl:1: relevant: missing required field"
    assert problems[3].startswith("pairing.jsonl: pair_id: 467 of the 467 rows of the test split")
    assert preview_submission({}, reference.source) == (
        [
            "(upload): no predictions: add one of extraction.jsonl, pairing.jsonl, "
            "response_quality.jsonl"
        ],
        None,
    )


def test_submit_opens_a_pull_request(tmp_path: Path, reference: Reference, monkeypatch, capsys):
    ctx, _ = make_base(tmp_path, reference)
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        from huggingface_hub import HfApi

        HfApi(endpoint=hub.endpoint, token="fake").create_repo(
            "recenter-bench/leaderboard", repo_type="space", space_sdk="gradio"
        )
        code = main(["submit", str(ctx.dir), "--dataset", reference.source])
        out = capsys.readouterr().out
        prs = hub.pull_requests("recenter-bench/leaderboard", "space")
        main_files = hub.files("recenter-bench/leaderboard", "space")
    assert code == 0
    assert len(prs) == 1
    assert out == f"opened {hub.endpoint}/spaces/recenter-bench/leaderboard/discussions/1\n"
    prefix = "submissions/acme__Tiny-Model/run-1/"
    assert prs[0].files == {
        prefix + name: (ctx.dir / name).read_bytes()
        for name in ("metadata.yaml", "pairing.jsonl", "results.json")
    }
    assert prs[0].title == "Add submission acme__Tiny-Model/run-1"
    assert main_files == {}, "submit must not commit to main"


def test_submit_validates_first(tmp_path: Path, reference: Reference, monkeypatch, capsys):
    ctx, _ = make_base(tmp_path, reference)
    (ctx.dir / "results.json").unlink()
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        code = main(["submit", str(ctx.dir), "--dataset", reference.source, "--repo", "o/r"])
        assert hub.requests == []
    assert code == 1
    assert capsys.readouterr().err == (
        f"error: {ctx.dir}/results.json: missing; run `recenter score FOLDER --write` to write it\n"
    )


def test_submit_to_a_missing_repository_is_a_user_error(
    tmp_path: Path, reference: Reference, monkeypatch, capsys
):
    ctx, _ = make_base(tmp_path, reference)
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        code = main(["submit", str(ctx.dir), "--dataset", reference.source, "--repo", "o/none"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: --repo: could not open a pull request on o/none: ")
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_process_exit_code_and_no_traceback(tmp_path: Path, reference: Reference) -> None:
    ctx, _ = make_base(tmp_path, reference)
    (ctx.dir / "pairing.jsonl").write_text("not json\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recenter_bench.cli",
            "validate",
            str(ctx.dir),
            "--dataset",
            reference.source,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == (
        f"error: {ctx.dir}/pairing.jsonl:1: not valid JSON: Expecting value (column 1)"
    )


def test_missing_dataset_is_a_user_error(tmp_path: Path, capsys) -> None:
    code = main(["validate", str(tmp_path), "--dataset", str(tmp_path / "nowhere")])
    assert code == 1
    assert capsys.readouterr().err == (
        f"error: --dataset: {tmp_path / 'nowhere'}: no such dataset folder or Hub dataset ID\n"
    )


def test_default_dataset_is_built_once_from_the_preview(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RECENTER_CACHE", str(tmp_path))
    first = resolve_dataset(None)
    assert Path(first).parent == tmp_path / "recenter-bench"
    assert (Path(first) / "data" / "pairing" / "test.parquet").is_file()
    stamp = (Path(first) / "data" / "pairing" / "test.parquet").stat().st_mtime_ns
    assert resolve_dataset(None) == first
    assert (Path(first) / "data" / "pairing" / "test.parquet").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "recenter-bench").iterdir()] == [Path(first).name]


def test_the_readme_walkthrough_gives_a_valid_submission(
    tmp_path: Path, reference: Reference, capsys
) -> None:
    """Follow submissions/README.md: its metadata.yaml, its folder name, one pairing.jsonl
    line per test row, then `recenter validate` and `recenter score --write`."""
    readme = (SUBMISSIONS_DIR / "README.md").read_text(encoding="utf-8")
    metadata = readme.split("`metadata.yaml`:\n\n```yaml\n", 1)[1].split("```", 1)[0]
    folder = tmp_path / "submissions" / "acme__Tiny-Model-2" / "v1"
    assert f"submissions/{folder.parent.name}/{folder.name}/" in readme
    folder.mkdir(parents=True)
    (folder / "metadata.yaml").write_text(metadata, encoding="utf-8")
    with open(folder / "pairing.jsonl", "w") as f:  # the README's loop, with a trivial system
        for row in reference.rows["pairing"]["test"]:
            f.write(json.dumps({"pair_id": row["pair_id"], "relevant": "cook" in row["prompt"]}))
            f.write("\n")
    assert main(["validate", str(folder), "--dataset", reference.source]) == 0
    assert main(["score", str(folder), "--dataset", reference.source, "--write"]) == 0
    assert main(["validate", str(folder), "--dataset", reference.source, "--require-results"]) == 0
    capsys.readouterr()
