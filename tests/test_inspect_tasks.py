"""The Inspect AI tasks (`inspect eval recenter_bench/<stage>`) and `recenter import-inspect`.

- `mockllm/model` answers every request of the three stages on the fixture release; the test
  checks each request against the protocol (written here from ../shared/protocol, not from the
  code), each recorded decision, and that Inspect's metric equals the project's metric (and
  scikit-learn / scipy) on the same predictions.
- Inspect's OpenAI-compatible provider against tests/openai_standin.py replaying the authors'
  recorded answers (the stand-in refuses any request that is not the paper's protocol): after
  `recenter import-inspect` and `recenter score`, the GPT-5.4 and Gemma-4-31B rows of Table 3.

Inspect's log dir, data dir (its sample buffer) and caches are all under tmp dirs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from scipy.stats import spearmanr
from sklearn.metrics import f1_score

from recenter_bench.cli import main
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review import load_reference, validate_submission
from tests.fixture_release import make_fixture_dataset
from tests.openai_standin import StandIn, paper_replay

inspect_ai = pytest.importorskip("inspect_ai")
from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.log import read_eval_log  # noqa: E402
from inspect_ai.model import ModelOutput, ModelUsage, get_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT.parent / "shared" / "protocol"
PROMPTS = ROOT / "recenter_bench" / "run" / "prompts"
JUDGES = {"GPT-5.4": ("gpt-5.4", "openai"), "Gemma-4-31B": ("google_gemma-4-31b-it", "google")}
# Table 3 of the paper (test split) and the same judges on every labelled pair.
TABLE3_F1 = {"GPT-5.4": (0.415, 0.474), "Gemma-4-31B": (0.481, 0.514)}


@pytest.fixture
def inspect_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Inspect's log, data and cache folders inside the test's tmp dir."""
    for name, sub in (
        ("INSPECT_LOG_DIR", "logs"),
        ("INSPECT_CACHE_DIR", "inspect-cache"),
        ("XDG_DATA_HOME", "xdg-data"),
        ("XDG_CACHE_HOME", "xdg-cache"),
    ):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.setenv("INSPECT_DISPLAY", "none")
    # `recenter_bench/<task>` names a task of the entry point, unless a folder of that name is
    # in the working directory (as in a checkout): Inspect then reads it as a path.
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def fixture_dataset(tmp_path_factory) -> Path:
    return make_fixture_dataset(tmp_path_factory.mktemp("fixture"))


def test_entry_point_registers_the_tasks_and_eval_yaml_components() -> None:
    from inspect_ai._util.registry import registry_lookup  # the lookup `inspect eval` does

    [point] = [e for e in entry_points(group="inspect_ai") if e.name == "recenter_bench"]
    assert point.value == "recenter_bench.inspect_tasks"
    spec = yaml.safe_load((ROOT / "dataset_card" / "eval.yaml").read_text())
    for task in spec["tasks"]:
        assert registry_lookup("task", f"recenter_bench/{task['id']}") is not None
        for kind, key in (("solver", "solvers"), ("scorer", "scorers")):
            for step in task[key]:
                name = step["name"]
                assert registry_lookup(kind, name) is not None, name


# ------------------------------------------------------------------------------------------
# mockllm/model on the fixture release
# ------------------------------------------------------------------------------------------

ANSWERS = {
    "pairing": ("Because of tone.\nAnswer: YES", "No effect.\nAnswer: NO", "I cannot tell."),
    "extraction": ("\\boxed{rejected}", "Fine. \\boxed{accepted}", "unsure"),
    "response_quality": tuple(f"Rating: {n}" for n in range(1, 6)) + ("no idea",),
}


def mock_judge(stage: str, seen: list[dict]):
    """A mockllm output function: answers by a hash of the request, records every request."""

    def respond(messages, tools, tool_choice, config) -> ModelOutput:
        content = "".join(m.text for m in messages)
        seen.append(
            {
                "roles": [m.role for m in messages],
                "content": content,
                "temperature": config.temperature,
                "max_tokens": config.max_tokens,
            }
        )
        options = ANSWERS[stage]
        answer = options[int(hashlib.sha256(content.encode()).hexdigest(), 16) % len(options)]
        output = ModelOutput.from_content(model="mockllm", content=answer)
        output.usage = ModelUsage(input_tokens=len(content.split()), output_tokens=2)
        return output

    return respond


def expected_pairing_request(row: dict) -> str:
    template = (PROTOCOL / "stage2-relevance-prompt.txt").read_text(encoding="utf-8")
    return template.replace("{attribute}", row["attribute"]).replace(
        "{prompt}", row["prompt"][:800]
    )


def runner_requests(stage: str, dataset: Path) -> list[str]:
    """The request texts of `recenter run STAGE --splits train validation test`."""
    from recenter_bench.loaders.load import load_rows
    from recenter_bench.run import judge
    from recenter_bench.run.runner import stage_rows
    from recenter_bench.run.systems import load_system, read_prompt

    system = load_system(f"llm-judge-{stage}")
    template = read_prompt(system)
    rows, _ = stage_rows(load_reference(dataset), stage, ["train", "validation", "test"])
    if stage == "pairing":
        queries = judge.pairing_queries(rows, template, system.get("prompt_max_chars"))
    elif stage == "extraction":
        conversations = [r for rs in load_rows("conversations", dataset).values() for r in rs]
        queries = judge.extraction_queries(rows, template, conversations)
    else:
        queries = judge.response_quality_queries(rows, template)
    return [q.content for q in queries]


def run_mock(stage: str, dataset: Path, log_dir: Path) -> tuple[object, list[dict]]:
    seen: list[dict] = []
    model = get_model("mockllm/model", custom_outputs=mock_judge(stage, seen))
    [log] = inspect_eval(
        f"recenter_bench/{stage}",  # found through the package's entry point
        task_args={"dataset": str(dataset), "splits": "all"},
        model=model,
        log_dir=str(log_dir),
        display="none",
    )
    assert log.status == "success", log.error
    return log, seen


@pytest.mark.parametrize("stage", ["pairing", "extraction", "response_quality"])
def test_mockllm_run_imports_and_scores_like_the_metric(
    stage: str, fixture_dataset: Path, inspect_dirs: Path, capsys: pytest.CaptureFixture
) -> None:
    log, seen = run_mock(stage, fixture_dataset, inspect_dirs / "logs")
    reference = load_reference(fixture_dataset)
    n_rows = sum(len(r) for r in reference.rows[stage].values())
    per_row = 2 if stage == "response_quality" else 1
    # the protocol: one user message, no system message, temperature 0, 4,096 new tokens
    assert len(seen) == n_rows * per_row
    assert all(r["roles"] == ["user"] for r in seen)
    assert {(r["temperature"], r["max_tokens"]) for r in seen} == {(0.0, 4096)}
    # the same requests `recenter run` sends (its runner builds them from every conversation)
    assert sorted(r["content"] for r in seen) == sorted(runner_requests(stage, fixture_dataset))
    if stage == "pairing":
        expected = {
            expected_pairing_request(r) for rows_ in reference.rows[stage].values() for r in rows_
        }
        assert {r["content"] for r in seen} == expected

    # every decision / rating is recorded on its sample
    recorded = {s.id: s.scores["judge_decision"].value for s in log.samples}
    assert len(recorded) == n_rows * per_row

    out = inspect_dirs / "subs" / "mock__Mock-Judge" / "run"
    log_file = Path(log.location)
    assert (
        main(
            ["import-inspect", str(log_file), "--out", str(out), "--dataset", str(fixture_dataset)]
        )
        == 0
    )
    capsys.readouterr()
    assert validate_submission(out, reference=reference, require_results=True) == []
    results = json.loads((out / "results.json").read_text())
    predictions = [json.loads(line) for line in (out / f"{stage}.jsonl").read_text().splitlines()]
    metadata = yaml.safe_load((out / "metadata.yaml").read_text())
    assert metadata["run"]["inspect_ai"] == inspect_ai.__version__
    assert metadata["run"]["inspect_task"] == f"recenter_bench/{stage}"
    assert metadata["run"]["task_args"]["splits"] == "all"
    raw = (out / "raw_answers.jsonl").read_text().splitlines()
    assert len(raw) == n_rows * per_row

    [score] = log.results.scores
    metric_value = next(iter(score.metrics.values())).value
    labelled = {r[ID[stage]]: LABEL[stage](r) for rs in reference.rows[stage].values() for r in rs}
    pairs = [
        (p[PRED[stage]], labelled[p[ID[stage]]])
        for p in predictions
        if labelled[p[ID[stage]]] is not None
    ]
    if stage == "response_quality":
        independent = spearmanr([p for p, _ in pairs], [t for _, t in pairs]).statistic
        headline = results["scores"][stage]["all"]["spearman"]
    else:
        independent = f1_score([t for _, t in pairs], [p for p, _ in pairs])
        headline = results["scores"][stage]["all"]["f1"]
        # the recorded decisions are the imported predictions
        assert {k: bool(v) for k, v in recorded.items()} == {
            p[ID[stage]]: p[PRED[stage]] for p in predictions
        }
    assert headline is not None and len(pairs) >= 5  # a defined score on real variation
    assert metric_value == pytest.approx(headline, abs=1e-12)
    assert metric_value == pytest.approx(independent, abs=1e-9)


ID = {"pairing": "pair_id", "extraction": "attribute_id", "response_quality": "rating_id"}
PRED = {"pairing": "relevant", "extraction": "problematic", "response_quality": "rating"}
LABEL = {
    "pairing": lambda r: r["relevant"],
    "extraction": lambda r: None if r["label"] is None else r["label"] == "problematic",
    "response_quality": lambda r: r["mean_rating"],
}


# ------------------------------------------------------------------------------------------
# import-inspect: bad input
# ------------------------------------------------------------------------------------------


def test_import_inspect_bad_input_is_one_line(
    fixture_dataset: Path, preview_dataset: Path, inspect_dirs: Path, capsys: pytest.CaptureFixture
) -> None:
    log, _ = run_mock("pairing", fixture_dataset, inspect_dirs / "logs")
    not_a_log = inspect_dirs / "notes.json"
    not_a_log.write_text('{"hello": 1}\n')
    out = inspect_dirs / "subs" / "mock__Judge" / "run"
    cases = [
        ([str(not_a_log), "--out", str(out)], "not a readable Inspect log"),
        ([str(inspect_dirs / "missing.eval"), "--out", str(out)], "cannot be read"),
        (
            [log.location, "--out", str(inspect_dirs / "flat")],
            "expected a folder <org>__<model>/<run>",
        ),
        (
            [log.location, "--out", str(out), "--dataset", str(preview_dataset)],
            "but the Inspect run used revision",
        ),
    ]
    for flags, expected in cases:
        assert main(["import-inspect", *flags]) == 1
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


# ------------------------------------------------------------------------------------------
# Table 3 through `inspect eval` and Inspect's OpenAI-compatible provider
# ------------------------------------------------------------------------------------------


def inspect_request_replay(release: Path):
    """The paper's replay, for Inspect's OpenAI client: for GPT-5 and o-series model names the
    OpenAI API calls the 4,096-token bound `max_completion_tokens`; the check is the same."""
    replay = paper_replay(release, PROTOCOL / "stage2-relevance-prompt.txt")

    def respond(body):
        body = dict(body)
        if "max_completion_tokens" in body and "max_tokens" not in body:
            body["max_tokens"] = body.pop("max_completion_tokens")
        return replay(body)

    return respond


@pytest.fixture(scope="module")
def table3_runs(preview_release: Path, preview_dataset: Path, tmp_path_factory) -> dict:
    """`inspect eval recenter_bench/pairing` for both judges (one CLI run), then
    `recenter import-inspect` and `recenter score --write` of each log."""
    root = tmp_path_factory.mktemp("inspect-table3")
    env = {
        **os.environ,
        "INSPECT_DISPLAY": "none",
        "INSPECT_CACHE_DIR": str(root / "inspect-cache"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "XDG_CACHE_HOME": str(root / "xdg-cache"),
        "STANDIN_API_KEY": "sk-test-not-a-real-key",
    }
    models = tuple(m for m, _ in JUDGES.values())
    responder = inspect_request_replay(preview_release)
    with StandIn(responder, models, api_key="sk-test-not-a-real-key") as server:
        env["STANDIN_BASE_URL"] = server.url
        command = [
            str(Path(sys.executable).with_name("inspect")),
            "eval",
            "recenter_bench/pairing",
            "--model",
            ",".join(f"openai-api/standin/{m}" for m in models),
            "-T",
            f"dataset={preview_dataset}",
            "-T",
            "splits=all",
            "--max-connections",
            "32",
            "--log-dir",
            str(root / "logs"),
        ]
        done = subprocess.run(
            command, env=env, cwd=root, capture_output=True, text=True, timeout=3000
        )
        counts = dict(server.counts)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = {"counts": counts}
    logs = sorted((root / "logs").glob("*.eval"))
    assert len(logs) == 2
    for log_file in logs:
        log = read_eval_log(str(log_file), header_only=True)
        name = next(n for n, (m, _) in JUDGES.items() if log.eval.model.endswith("/" + m))
        out = root / "subs" / f"{JUDGES[name][1]}__{name}" / "inspect"
        imported = main(
            ["import-inspect", str(log_file), "--out", str(out), "--dataset", str(preview_dataset)]
        )
        scored = main(["score", str(out), "--dataset", str(preview_dataset), "--write"])
        runs[name] = {
            "codes": (imported, scored),
            "out": out,
            "log": log,
            "results": json.loads((out / "results.json").read_text()),
        }
    return runs


def test_every_request_was_the_papers_protocol(table3_runs: dict) -> None:
    # 3,969 labelled pairs per judge, each answered (the stand-in refuses anything else)
    assert table3_runs["counts"]["chat"] == table3_runs["counts"]["answered"] == 2 * 3969


@pytest.mark.parametrize("judge", list(JUDGES))
def test_inspect_reproduces_table3(table3_runs: dict, judge: str) -> None:
    run = table3_runs[judge]
    assert run["codes"] == (0, 0)
    scores = run["results"]["scores"]["pairing"]
    test_f1, all_f1 = TABLE3_F1[judge]
    assert (round(scores["test"]["f1"], 3), round(scores["all"]["f1"], 3)) == (test_f1, all_f1)
    # Inspect's own metric, over all the samples it ran, is the project's F1 on them
    [score] = run["log"].results.scores
    assert score.metrics["f1"].value == pytest.approx(scores["all"]["f1"], abs=1e-12)


@pytest.mark.parametrize("judge", list(JUDGES))
def test_inspect_decisions_are_the_authors_parse(table3_runs: dict, judge: str) -> None:
    model, org = JUDGES[judge]
    authors = SUBMISSIONS_DIR / f"{org}__{judge}" / "authors-votes" / "pairing.jsonl"
    ran = table3_runs[judge]["out"] / "pairing.jsonl"
    assert ran.read_text() == authors.read_text()
    metadata = yaml.safe_load((table3_runs[judge]["out"] / "metadata.yaml").read_text())
    assert metadata["run"]["model"] == f"openai-api/standin/{model}"
    assert metadata["run"]["decoding"] == {"temperature": 0.0, "max_tokens": 4096}
    assert metadata["run"]["unparsed"] == 0 and metadata["run"]["requests"] == 3969
