"""`recenter eval-results` and `recenter submit --model-repo`: a scored run as the Hub's
`.eval_results` file (checked against tests/hub_eval_spec.py, the published format), and the
pull request adding it to a model repository, against the local Hub stand-in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from huggingface_hub import HfApi

from recenter_bench.cli import main
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review import find_submissions
from tests.hub_eval_spec import eval_results_problems
from tests.hub_standin import hub_standin

# The paper's headline metric of each stage (F1 on the positive class; Spearman for Stage 3).
HEADLINE = {"extraction": "f1", "pairing": "f1", "response_quality": "spearman"}
EVAL_YAML = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "dataset_card" / "eval.yaml").read_text()
)
TASKS = {t["id"]: (t["config"], t["split"]) for t in EVAL_YAML["tasks"]}


def rescored_runs() -> list[Path]:
    return [
        folder
        for folder in find_submissions(SUBMISSIONS_DIR)
        if json.loads((folder / "results.json").read_text())["provenance"] == "rescored"
    ]


def eval_results_of(folder: Path, capsys: pytest.CaptureFixture, *flags: str) -> list:
    assert main(["eval-results", str(folder), *flags]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def test_there_are_rescored_runs_to_check() -> None:
    assert len(rescored_runs()) >= 8


@pytest.mark.parametrize("folder", rescored_runs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_rescored_run_gives_a_valid_file_with_its_results(
    folder: Path, capsys: pytest.CaptureFixture
) -> None:
    doc = eval_results_of(folder, capsys)
    assert eval_results_problems(doc) == []
    results = json.loads((folder / "results.json").read_text())
    metadata = yaml.safe_load((folder / "metadata.yaml").read_text())
    expected = {
        task: results["scores"][config][split][HEADLINE[config]]
        for task, (config, split) in TASKS.items()
        if results["scores"].get(config, {}).get(split, {}).get(HEADLINE[config]) is not None
    }
    assert {e["dataset"]["task_id"]: e["value"] for e in doc} == expected
    for entry in doc:
        assert entry["dataset"]["id"] == "recenter-bench/recenter-personalization"
        assert entry["dataset"]["revision"] == results["dataset_revision"]
        assert entry["date"] == str(metadata["date"])
        assert f"{folder.parent.name}/{folder.name}" in entry["source"]["url"]
        assert entry["source"]["user"] == metadata["org"]
        if metadata.get("run", {}).get("system"):
            assert f"system {metadata['run']['system']}" in entry["notes"]


def test_gpt54_votes_give_the_paper_test_f1(capsys: pytest.CaptureFixture) -> None:
    doc = eval_results_of(SUBMISSIONS_DIR / "openai__GPT-5.4" / "authors-votes", capsys)
    assert [(e["dataset"]["task_id"], round(e["value"], 3)) for e in doc] == [("pairing", 0.415)]


def test_out_writes_the_file_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2"
    out = tmp_path / "bm25.yaml"
    assert main(["eval-results", str(folder), "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text()) == eval_results_of(folder, capsys)
    out.write_text("mine\n")
    assert main(["eval-results", str(folder), "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err and out.read_text() == "mine\n"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda root: SUBMISSIONS_DIR / "openai__GPT-5.4" / "paper", "provenance 'reported'"),
        (lambda root: root / "a__b" / "missing", "no such submission folder"),
        (lambda root: _copy_without(root, "results.json"), "results.json: missing"),
        (lambda root: _copy_with_bad_results(root), "results.json:"),
        (lambda root: _copy_with_deep_results(root), "results.json: file is 400,001 bytes"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, capsys, make, expected: str) -> None:
    assert main(["eval-results", str(make(tmp_path))]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and expected in captured.err and "Traceback" not in captured.err
    # one line per problem, each naming the file
    assert all(line.startswith("error: ") for line in captured.err.strip().splitlines())


def _copy_without(root: Path, name: str) -> Path:
    folder = root / "recenter-bench__BM25" / "v2"
    shutil.copytree(SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2", folder)
    (folder / name).unlink()
    return folder


def _copy_with_bad_results(root: Path) -> Path:
    folder = _copy_without(root, "results.json")
    (folder / "results.json").write_text('{"scores": 1}\n')
    return folder


@pytest.fixture
def model_hub(monkeypatch: pytest.MonkeyPatch):
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        HfApi(endpoint=hub.endpoint, token="fake").create_repo("openai/gpt-5.4")
        yield hub


def test_submit_model_repo_opens_a_pr_with_the_file(
    model_hub, preview_dataset: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = SUBMISSIONS_DIR / "openai__GPT-5.4" / "authors-votes"
    expected = eval_results_of(folder, capsys)
    code = main(
        ["submit", str(folder), "--model-repo", "openai/gpt-5.4", "--dataset", str(preview_dataset)]
    )
    assert code == 0, capsys.readouterr().err
    assert "opened " in capsys.readouterr().out
    [pr] = model_hub.pull_requests("openai/gpt-5.4", "model")
    path = ".eval_results/recenter-personalization__openai__GPT-5.4__authors-votes.yaml"
    added = yaml.safe_load(pr.files[path])
    assert added == expected and eval_results_problems(added) == []
    assert path not in model_hub.files("openai/gpt-5.4", "model")  # main is untouched


def test_submit_model_repo_refuses_bad_input_before_the_hub(
    model_hub, preview_dataset: Path, capsys: pytest.CaptureFixture
) -> None:
    reported = SUBMISSIONS_DIR / "openai__GPT-5.4" / "paper"
    votes = SUBMISSIONS_DIR / "openai__GPT-5.4" / "authors-votes"
    for folder, repo, expected in [
        (votes, "not a repo id", "--model-repo: 'not a repo id' is not a Hub model ID"),
        (reported, "openai/gpt-5.4", "provenance 'reported'"),
        (votes, "openai/missing", "--model-repo: could not open a pull request on openai/missing"),
    ]:
        flags = ["--model-repo", repo, "--dataset", str(preview_dataset)]
        assert main(["submit", str(folder), *flags]) == 1
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1
    assert model_hub.pull_requests("openai/gpt-5.4", "model") == []


def _copy_with_deep_results(root: Path) -> Path:
    """A results.json nested 200,000 deep: refused by the reader's size cap (was: 'missing')."""
    folder = _copy_without(root, "results.json")
    (folder / "results.json").write_text("[" * 200_000 + "]" * 200_000 + "\n")
    return folder
