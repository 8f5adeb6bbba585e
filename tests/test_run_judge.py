"""`recenter run` with an LLM judge, through its aiohttp transport over real HTTP to an
OpenAI-compatible stand-in on 127.0.0.1 (tests/openai_standin.py).

The end-to-end test replays the authors' recorded answers and must give the paper's Table 3 rows
of GPT-5.4 and Gemma-4-31B to the printed digit; the stand-in fails any request that is not the
paper's protocol. Stages 1 and 3 run end to end on the project's fixture release."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from recenter_bench.cli import main
from recenter_bench.import_votes import import_votes
from recenter_bench.reproduce import TABLE3
from recenter_bench.review import Reference, load_reference, validate_submission
from tests.fixture_release import make_fixture_dataset
from tests.openai_standin import StandIn, paper_replay

PROTOCOL = Path(__file__).resolve().parents[2] / "shared" / "protocol"
JUDGES = {"GPT-5.4": ("gpt-5.4", "openai"), "Gemma-4-31B": ("google_gemma-4-31b-it", "google")}
KEY = "sk-test-not-a-real-key-0123456789"


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def run(out: Path, *flags: str) -> int:
    return main(["run", *flags, "--out", str(out), "--no-progress"])


@pytest.fixture(scope="module")
def replay_runs(preview_release: Path, preview_dataset: Path, tmp_path_factory) -> dict:
    """Each judge run once through `recenter run pairing`, then run again from the cache."""
    root = tmp_path_factory.mktemp("replay")
    responder = paper_replay(preview_release, PROTOCOL / "stage2-relevance-prompt.txt")
    runs = {}
    models = tuple(m for m, _ in JUDGES.values())
    with pytest.MonkeyPatch.context() as patch, StandIn(responder, models, api_key=KEY) as server:
        patch.setenv("OPENAI_API_KEY", KEY)
        for name, (model, org) in JUDGES.items():
            out = root / f"{org}__{name}" / "run"
            flags = ["pairing", "--base-url", server.url, "--model", model]
            flags += ["--dataset", str(preview_dataset), "--cache-dir", str(root / "cache")]
            first = run(out, *flags, "--concurrency", "32")
            sent = dict(server.counts)
            results = json.loads((out / "results.json").read_text())
            again = run(out, *flags)
            runs[name] = {
                "codes": (first, again),
                "out": out,
                "sent_first": sent,
                "results": results,
                "results_again": json.loads((out / "results.json").read_text()),
            }
            server.counts.clear()
        runs["after"] = dict(server.counts)
    return runs


@pytest.mark.parametrize("judge", list(JUDGES))
def test_runner_reproduces_table3_through_the_endpoint(replay_runs: dict, judge: str) -> None:
    got = replay_runs[judge]
    assert got["codes"] == (0, 0)
    scores = got["results"]["scores"]["pairing"]["all"]
    printed = dict(zip(("accuracy", "precision", "recall", "f1"), TABLE3[judge], strict=True))
    assert {k: round(scores[k], 3) for k in printed} == printed
    # 3,969 labelled pairs, one request each, every one answered by the paper's protocol
    assert got["sent_first"]["chat"] == got["sent_first"]["answered"] == 3969


@pytest.mark.parametrize("judge", list(JUDGES))
def test_runner_parses_as_the_authors_did(
    replay_runs: dict, judge: str, preview_release: Path, reference: Reference, tmp_path: Path
) -> None:
    """The runner's decisions are the authors' own parse of the same answers, pair by pair."""
    model, org = JUDGES[judge]
    out = tmp_path / f"{org}__{judge}" / "imported"
    votes = preview_release / "data" / "relevance_task5" / f"{model}.jsonl"
    imported = import_votes(votes, preview_release, judge, out, reference=reference)
    ran = replay_runs[judge]["out"]
    predicted = [json.loads(line) for line in (ran / "pairing.jsonl").read_text().splitlines()]
    authors = [json.loads(line) for line in (out / "pairing.jsonl").read_text().splitlines()]
    assert predicted == authors
    assert replay_runs[judge]["results"]["scores"] == imported.scores


def test_rerun_sends_zero_requests(replay_runs: dict) -> None:
    assert replay_runs["after"] == {}  # not even the model list
    for judge in JUDGES:
        assert replay_runs[judge]["results_again"] == replay_runs[judge]["results"]


@pytest.mark.parametrize("judge", list(JUDGES))
def test_judge_submission_keeps_every_answer_and_validates(
    replay_runs: dict, judge: str, reference: Reference
) -> None:
    out = replay_runs[judge]["out"]
    assert sorted(p.name for p in out.iterdir()) == [
        "metadata.yaml",
        "pairing.jsonl",
        "raw_answers.jsonl",
        "results.json",
    ]
    assert validate_submission(out, reference=reference, require_results=True) == []
    raw = [json.loads(line) for line in (out / "raw_answers.jsonl").read_text().splitlines()]
    assert len(raw) == 3969 and all(r["answer"].rstrip().endswith(("YES", "NO")) for r in raw)
    # issue 18: the field holding the YES/NO decision is named for it
    assert all(r["decision"] is r["answer"].rstrip().endswith("YES") for r in raw)
    assert not any("parsed" in r for r in raw)
    metadata = yaml.safe_load((out / "metadata.yaml").read_text())
    record = metadata["run"]
    assert record["unparsed"] == 0 and record["requests"] == 3969
    assert record["prompt_tokens"] > 0 and record["completion_tokens"] > 0
    assert record["decoding"] == {"temperature": 0.0, "max_tokens": 4096}
    assert metadata["type"] == "zero-shot LLM" and metadata["trained_on"] == []


def test_the_key_is_never_written(replay_runs: dict, tmp_path: Path) -> None:
    for judge in JUDGES:
        folder = replay_runs[judge]["out"]
        for path in [*folder.iterdir(), *(folder.parent.parent / "cache").rglob("*.json")]:
            assert KEY not in path.read_text(), path


def test_shipped_template_is_the_papers() -> None:
    from recenter_bench.run.systems import PROMPTS_DIR

    shipped = (PROMPTS_DIR / "stage2-relevance-paper.txt").read_bytes()
    assert shipped == (PROTOCOL / "stage2-relevance-prompt.txt").read_bytes()


# --------------------------------------------------------------------------------------------
# Failures, retries, resuming: on the fixture release (few pairs)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_dataset(tmp_path_factory) -> Path:
    return make_fixture_dataset(tmp_path_factory.mktemp("fixture"))


@pytest.fixture(scope="module")
def fixture_reference(fixture_dataset: Path) -> Reference:
    return load_reference(fixture_dataset)


def _answer_by_attribute(body: dict) -> tuple[int, str]:
    """A stand-in judge: relevant iff the attribute mentions food or baking."""
    content = body["messages"][0]["content"]
    attribute = re.search(r"User Attribute: (.*)\n", content)[1]
    relevant = any(w in attribute for w in ("food", "bake", "vegetarian", "recipe"))
    return 200, f"Thinking about {attribute!r}.\n\nAnswer: {'YES' if relevant else 'NO'}"


def test_failed_requests_write_nothing_and_a_rerun_retries_only_them(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path, capsys
) -> None:
    rows = [r for rows in fixture_reference.rows["pairing"].values() for r in rows]
    template = (PROTOCOL / "stage2-relevance-prompt.txt").read_text()
    doomed = [
        template.replace("{attribute}", r["attribute"]).replace("{prompt}", r["prompt"][:800])
        for r in rows[:3]
    ]
    # 3 requests fail more often than the runner retries (2): the run fails, nothing written.
    fail_first = {content: [503, 503, 503] for content in doomed}
    out = tmp_path / "acme__judge" / "v1"
    cache = tmp_path / "cache"
    flags = ["pairing", "--dataset", str(fixture_dataset), "--model", "stand-in"]
    flags += ["--cache-dir", str(cache), "--max-retries", "2"]
    with StandIn(_answer_by_attribute, fail_first=fail_first) as server:
        code = run(out, *flags, "--base-url", server.url)
        err = capsys.readouterr().err
        assert code == 1 and not out.exists()
        assert err.count("\n") == 1 and err.startswith(f"error: 3 of {len(rows)} requests failed")
        assert "run the same command again to retry only the failed ones" in err
        assert server.counts["failed-503"] == 9  # each doomed request: 1 try + 2 retries
        assert len(list(cache.rglob("*.json"))) == len(rows) - 3  # only real answers cached
        server.counts.clear()
        code = run(out, *flags, "--base-url", server.url)
        assert code == 0
        assert server.counts["chat"] == 3  # exactly the requests that had failed
    assert validate_submission(out, reference=fixture_reference, require_results=True) == []


def test_429_and_5xx_are_retried_with_backoff(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path
) -> None:
    rows = [r for rows in fixture_reference.rows["pairing"].values() for r in rows]
    template = (PROTOCOL / "stage2-relevance-prompt.txt").read_text()
    first, second = (
        template.replace("{attribute}", r["attribute"]).replace("{prompt}", r["prompt"][:800])
        for r in rows[:2]
    )
    fail_first = {first: [429, 429], second: [500, 502]}
    out = tmp_path / "acme__judge" / "v1"
    with StandIn(_answer_by_attribute, fail_first=fail_first) as server:
        code = run(
            out,
            "pairing",
            "--dataset",
            str(fixture_dataset),
            "--model",
            "stand-in",
            "--base-url",
            server.url,
            "--cache-dir",
            str(tmp_path / "cache"),
        )
    assert code == 0
    assert server.counts["failed-429"] == 2 and server.counts["failed-500"] == 1
    assert server.counts["answered"] == len(rows)
    predictions = [json.loads(x) for x in (out / "pairing.jsonl").read_text().splitlines()]
    relevant = {r["pair_id"] for r in rows if "vegetarian" in r["attribute"]}
    assert relevant and relevant <= {p["pair_id"] for p in predictions if p["relevant"]}


@pytest.mark.parametrize(
    "damage",
    [
        '{"answer": "Answer: YES", "usage": 5}',
        '{"answer": "Answer: YES", "usage": {"prompt_tokens": "many"}}',
        '{"answer": "Answer: YES", "usage": {"prompt_tokens": 1e300}}',
        "[" * 100_000 + "]" * 100_000,
        '{"answer": "' + "x" * (5 * 1024 * 1024) + '"}',
        "not json",
    ],
    ids=["usage-not-a-mapping", "count-not-a-number", "count-a-float", "deep", "huge", "text"],
)
def test_a_damaged_cache_entry_is_asked_again(
    fixture_dataset: Path, tmp_path: Path, damage: str
) -> None:
    out = tmp_path / "acme__judge" / "v1"
    cache = tmp_path / "cache"
    flags = ["pairing", "--dataset", str(fixture_dataset), "--model", "stand-in"]
    flags += ["--cache-dir", str(cache)]
    with StandIn(_answer_by_attribute) as server:
        assert run(out, *flags, "--base-url", server.url) == 0
        before = (out / "pairing.jsonl").read_text()
        entries = sorted(cache.rglob("*.json"))
        entries[0].write_text(damage)
        server.counts.clear()
        assert run(out, *flags, "--base-url", server.url) == 0  # was a traceback
        assert server.counts["chat"] == 1  # only the damaged entry's request
    assert (out / "pairing.jsonl").read_text() == before
    assert json.loads(entries[0].read_text())["answer"].startswith("Thinking about")


# --------------------------------------------------------------------------------------------
# Bad input: one line, exit 1, nothing written
# --------------------------------------------------------------------------------------------


def _bad(tmp_path: Path, capsys, *flags: str) -> str:
    out = tmp_path / "acme__judge" / "v1"
    code = run(out, *flags, "--cache-dir", str(tmp_path / "cache"))
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: "), err
    assert not out.exists() and not (tmp_path / "cache").exists()
    return err


def test_unreachable_endpoint(fixture_dataset: Path, tmp_path: Path, capsys) -> None:
    with StandIn(_answer_by_attribute) as server:
        url = server.url  # a port that was just freed: nothing listens there any more
    err = _bad(
        tmp_path, capsys, "pairing", "--dataset", str(fixture_dataset), "--model", "m",
        "--base-url", url, "--max-retries", "0",
    )  # fmt: skip
    assert f"--base-url: cannot reach {url}" in err


def test_wrong_model_name(fixture_dataset: Path, tmp_path: Path, capsys) -> None:
    with StandIn(_answer_by_attribute, models=("served-model",)) as server:
        err = _bad(
            tmp_path, capsys, "pairing", "--dataset", str(fixture_dataset),
            "--model", "gpt-9", "--base-url", server.url,
        )  # fmt: skip
    assert err == (
        f"error: --model: 'gpt-9' is not served by {server.url} (it serves: served-model)\n"
    )


def test_missing_key(
    fixture_dataset: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with StandIn(_answer_by_attribute) as server:
        err = _bad(
            tmp_path, capsys, "pairing", "--dataset", str(fixture_dataset),
            "--model", "stand-in", "--base-url", server.url,
        )  # fmt: skip
        assert server.counts == {}
    assert err.startswith("error: --api-key-env: the environment variable OPENAI_API_KEY is not")


def test_refused_key(fixture_dataset: Path, tmp_path: Path, capsys) -> None:
    with StandIn(_answer_by_attribute, api_key="another-key") as server:
        err = _bad(
            tmp_path, capsys, "pairing", "--dataset", str(fixture_dataset),
            "--model", "stand-in", "--base-url", server.url,
        )  # fmt: skip
    assert err == f"error: --base-url: {server.url} refused the API key in $OPENAI_API_KEY\n"


def test_cache_dir_that_cannot_hold_the_cache(
    fixture_dataset: Path, tmp_path: Path, capsys
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    out = tmp_path / "acme__judge" / "v1"
    with StandIn(_answer_by_attribute) as server:
        code = run(
            out, "pairing", "--dataset", str(fixture_dataset), "--model", "stand-in",
            "--base-url", server.url, "--cache-dir", str(not_a_folder / "cache"),
        )  # fmt: skip
        assert server.counts["chat"] == 0  # refused before any request was sent
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()  # was a NotADirectoryError traceback
    assert err == (
        f"error: --cache-dir: {not_a_folder / 'cache'}: cannot hold the answer cache "
        "(Not a directory)\n"
    )


def test_out_that_cannot_be_made_is_refused_before_the_run(
    fixture_dataset: Path, tmp_path: Path, capsys
) -> None:
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "acme__judge" / "v1"
    with StandIn(_answer_by_attribute) as server:
        code = run(
            out, "pairing", "--dataset", str(fixture_dataset), "--model", "stand-in",
            "--base-url", server.url, "--cache-dir", str(tmp_path / "cache"),
        )  # fmt: skip
        assert server.counts == {}  # was a traceback after every request had been answered
    assert code == 1 and capsys.readouterr().err == (
        f"error: --out: {out}: cannot be created ({tmp_path / 'a-file'} is not a writable folder)\n"
    )


def test_unknown_system(tmp_path: Path, capsys) -> None:
    err = _bad(tmp_path, capsys, "pairing", "--system", "gpt-oracle")
    assert err.startswith("error: --system: unknown system 'gpt-oracle' (expected a YAML file")


def test_system_file_with_a_wrong_field(tmp_path: Path, capsys) -> None:
    system = tmp_path / "mine.yaml"
    system.write_text(
        "kind: llm-judge\nstage: pairing\ndescription: mine\nprompt: stage2-relevance-paper.txt\n"
        "temprature: 0.2\n"
    )
    err = _bad(tmp_path, capsys, "pairing", "--system", str(system))
    assert err.startswith(f"error: {system}:5: temprature: unknown field (expected one of kind,")
    system.write_text("kind: llm-judge\nstage: pairing\ndescription: mine\nprompt_max_chars: -3\n")
    err = _bad(tmp_path, capsys, "pairing", "--system", str(system))
    assert (
        err == f"error: {system}:4: prompt_max_chars: must be a positive integer or null, got -3\n"
    )


def test_unreadable_system_and_prompt_files(tmp_path: Path, capsys) -> None:
    system = tmp_path / "mine.yaml"
    system.write_bytes(b"kind: llm-judge\nstage: pairing\ndescription: \xff\n")
    err = _bad(tmp_path, capsys, "pairing", "--system", str(system))
    assert err == f"error: {system}:3: not UTF-8 text\n"
    system.write_text("kind: bm25\n" + "#" * 70_000)
    err = _bad(tmp_path, capsys, "pairing", "--system", str(system))
    assert err == f"error: {system}: larger than 64 KiB\n"
    prompt = tmp_path / "prompt.txt"
    prompt.write_bytes(b"Attribute: {attribute}\n\xff{prompt}\n")
    flags = ["--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--prompt", str(prompt)]
    err = _bad(tmp_path, capsys, "pairing", *flags)  # was a UnicodeDecodeError traceback
    assert err == f"error: {prompt}:2: not UTF-8 text\n"
    prompt.write_text("{attribute} {prompt}" * 10_000)
    err = _bad(tmp_path, capsys, "pairing", *flags)
    assert err == f"error: {prompt}: larger than 64 KiB\n"


def test_system_for_another_stage(tmp_path: Path, capsys) -> None:
    err = _bad(tmp_path, capsys, "extraction", "--system", "bm25s")
    assert err == "error: --system: bm25s runs on pairing, not extraction\n"


def test_flags_override_the_system_file(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path
) -> None:
    bodies = []

    def record(body: dict) -> tuple[int, str]:
        bodies.append(body)
        return _answer_by_attribute(body)

    out = tmp_path / "acme__judge" / "v1"
    with StandIn(record) as server:
        code = run(
            out, "pairing", "--dataset", str(fixture_dataset), "--model", "stand-in",
            "--base-url", server.url, "--cache-dir", str(tmp_path / "cache"),
            "--set", "decoding.top_p=0.5", "--max-tokens", "64", "--set", "prompt_max_chars=10",
        )  # fmt: skip
    assert code == 0
    assert {(b["temperature"], b["top_p"], b["max_tokens"]) for b in bodies} == {(0.0, 0.5, 64)}
    assert all(re.search(r"Prompt: (.*)\n\Z", b["messages"][0]["content"])[1] in
               {r["prompt"][:10] for rs in fixture_reference.rows["pairing"].values() for r in rs}
               for b in bodies)  # fmt: skip
    metadata = yaml.safe_load((out / "metadata.yaml").read_text())
    assert metadata["run"]["decoding"] == {"temperature": 0.0, "max_tokens": 64, "top_p": 0.5}


def test_bad_set_flags(tmp_path: Path, capsys) -> None:
    err = _bad(tmp_path, capsys, "pairing", "--set", "kind=bm25")
    assert err == "error: --set kind: what a system is cannot be overridden; use another system\n"
    err = _bad(tmp_path, capsys, "pairing", "--set", "prompt_max_chars=0")
    assert err == "error: --set prompt_max_chars: must be a positive integer or null, got 0\n"
    err = _bad(tmp_path, capsys, "pairing", "--temperature", "nan")
    assert err.startswith("error: --temperature/--max-tokens: must be a mapping of parameter")
    err = _bad(tmp_path, capsys, "pairing", "--set", "decoding.top_p=.inf")
    assert err.startswith("error: --set decoding: must be a mapping of parameter names")
    flags = ["--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--timeout", "nan"]
    err = _bad(tmp_path, capsys, "pairing", *flags)  # was httpx's ValueError traceback
    assert err == "error: --timeout: must be positive, got nan\n"
    err = _bad(tmp_path, capsys, "pairing", "--system", "bm25s", "--set", "stopwords=[xx]")
    assert err == (  # was bm25s's ValueError traceback once the dataset was loaded
        "error: --set stopwords: must be a list of none, en, english, en_plus, english_plus, "
        "got ['xx']\n"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ("[" * 30_000 + "]" * 30_000, "nesting depth"),  # was a RecursionError traceback
        ("[" * 100 + "]" * 100, "nested more than 16 levels deep"),
        ("&a [*a, *a]", "YAML anchors and aliases are not allowed"),
        ("!!binary AAAA", "YAML tags are not allowed"),
    ],
)
def test_set_values_are_read_as_strictly_as_a_system_file(
    tmp_path: Path, capsys, value: str, message: str
) -> None:
    err = _bad(tmp_path, capsys, "pairing", "--set", f"description={value}")
    assert err.startswith("error: --set description:1: ") and message in err


def test_set_booleans_are_the_system_files(tmp_path: Path, capsys) -> None:
    # `yes` is a string in a system file (YAML 1.2 booleans); a flag reads it the same way.
    err = _bad(tmp_path, capsys, "pairing", "--set", "open_weights=yes")
    assert err == "error: --set open_weights: must be true or false, got 'yes'\n"


def test_stage_choices_are_the_benchmarks() -> None:
    from recenter_bench.review import STAGES
    from recenter_bench.run.arguments import STAGE_CHOICES

    assert STAGE_CHOICES == STAGES


# --------------------------------------------------------------------------------------------
# Stages 1 and 3 end to end on the fixture release
# --------------------------------------------------------------------------------------------


def _verifier(body: dict) -> tuple[int, str]:
    content = body["messages"][0]["content"]
    attribute = content.rsplit("Extracted attribute: ", 1)[1].strip()
    if "jazz" in attribute:
        return 200, "I am not sure."  # no verdict: counted, defaults to accepted
    verdict = "rejected" if "Invented question" not in content else "accepted"
    return 200, f"Looking at the messages.\n\\boxed{{{verdict}}}"


def test_stage1_verifier_end_to_end(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "acme__verifier" / "v1"
    with StandIn(_verifier) as server:
        code = run(
            out, "extraction", "--dataset", str(fixture_dataset), "--model", "stand-in",
            "--base-url", server.url, "--cache-dir", str(tmp_path / "cache"),
        )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert validate_submission(out, reference=fixture_reference, require_results=True) == []
    rows = {
        r["attribute_id"]: r for rs in fixture_reference.rows["extraction"].values() for r in rs
    }
    predictions = [json.loads(x) for x in (out / "extraction.jsonl").read_text().splitlines()]
    assert {p["attribute_id"] for p in predictions} == set(rows)
    # synthetic users' conversations are in the dataset: their messages reach the prompt
    synthetic = {i for i, r in rows.items() if r["source"] != "wildchat"}
    jazz = {i for i, r in rows.items() if "jazz" in r["attribute"]}
    assert {p["attribute_id"] for p in predictions if not p["problematic"]} == synthetic
    metadata = yaml.safe_load((out / "metadata.yaml").read_text())
    assert metadata["run"]["unparsed"] == len(jazz) == 1
    assert metadata["stages"] == ["extraction"]
    assert (
        "1 answer(s) without a readable decision, counted as accepted" in (metadata["description"])
    )
    results = json.loads((out / "results.json").read_text())
    assert 0 <= results["scores"]["extraction"]["all"]["f1"] <= 1  # the fixture has labels


def _position_biased(body: dict) -> tuple[int, str]:
    return 200, "Response B reads better.\nRating: 4"  # always prefers whatever stands second


def _prefers_personalized(body: dict) -> tuple[int, str]:
    content = body["messages"][0]["content"]
    b = content.split("Response B:\n", 1)[1]
    return 200, f"Rating: {5 if 'personalized' in b else 1}"


@pytest.mark.parametrize("judge, rating", [(_position_biased, 3.0), (_prefers_personalized, 5.0)])
def test_stage3_judge_cancels_position_bias(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path, judge, rating: float
) -> None:
    out = tmp_path / "acme__rater" / "v1"
    with StandIn(judge) as server:
        code = run(
            out, "response_quality", "--dataset", str(fixture_dataset), "--model", "stand-in",
            "--base-url", server.url, "--cache-dir", str(tmp_path / "cache"),
        )  # fmt: skip
    assert code == 0
    rows = [r for rs in fixture_reference.rows["response_quality"].values() for r in rs]
    assert server.counts["answered"] == 2 * len(rows)  # both orders
    predictions = [
        json.loads(x) for x in (out / "response_quality.jsonl").read_text().split("\n") if x
    ]
    assert {p["rating"] for p in predictions} == {rating} and len(predictions) == len(rows)
    metadata = yaml.safe_load((out / "metadata.yaml").read_text())
    assert metadata["run"]["position_bias"].startswith("both orders")
    raw = [json.loads(x) for x in (out / "raw_answers.jsonl").read_text().splitlines()]
    assert {r["order"] for r in raw} == {"personalized-as-A", "personalized-as-B"}
    assert validate_submission(out, reference=fixture_reference, require_results=True) == []


def test_set_model_and_prompt_are_honoured(fixture_dataset: Path, tmp_path: Path, capsys) -> None:
    """Issue 15, item 7: `--set model=...` and `--set prompt=...` were silently dropped (the
    unset --model/--prompt flags replaced them)."""
    bodies = []

    def record(body: dict) -> tuple[int, str]:
        bodies.append(body)
        return _answer_by_attribute(body)

    out = tmp_path / "acme__judge" / "v1"
    with StandIn(record, ("judge-b",)) as server:
        code = run(
            out, "pairing", "--dataset", str(fixture_dataset), "--set", "model=judge-b",
            "--set", "prompt=stage2-relevance-paper.txt", "--base-url", server.url,
            "--cache-dir", str(tmp_path / "cache"),
        )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert bodies and {b["model"] for b in bodies} == {"judge-b"}
    metadata = yaml.safe_load((out / "metadata.yaml").read_text())
    assert metadata["run"]["model"] == "judge-b"
    assert metadata["run"]["prompt"] == "stage2-relevance-paper.txt"
    # a name outside the shipped templates is refused, not ignored (it was: exit 0)
    err = _bad(tmp_path / "again", capsys, "pairing", "--set", "model=m", "--set",
               "prompt=custom.txt", "--base-url", "http://127.0.0.1:9/v1")  # fmt: skip
    assert "prompt: no template named 'custom.txt' under " in err
    assert err.endswith("; give a template of your own with --prompt FILE\n")


@pytest.mark.parametrize("name", ["../../../secret.txt", "{secret}", "prompts/../../x.txt"])
def test_a_system_file_cannot_send_a_file_outside_the_prompts(
    tmp_path: Path, capsys, name: str
) -> None:
    """Issue 15, item 7: `prompt: ../../../../some/secret.txt` in a system file sent that
    file's text to the endpoint with every request."""
    from recenter_bench.run.systems import PROMPTS_DIR

    secret = tmp_path / "secret.txt"
    secret.write_text("API_KEY=hunter2 {attribute} {prompt}")
    name = name.format(secret=secret)
    system = tmp_path / "mine.yaml"
    system.write_text(
        f"kind: llm-judge\nstage: pairing\ndescription: mine\nmodel: m\nprompt: {name}\n"
    )
    err = _bad(tmp_path, capsys, "pairing", "--system", str(system),
               "--base-url", "http://127.0.0.1:9/v1")  # fmt: skip
    assert err == (
        f"error: {system}: prompt: {name!r} is not a template under {PROMPTS_DIR}; give a "
        "template of your own with --prompt FILE\n"
    )
    # the same file given explicitly on the command line is the user's own choice
    flags = ["--prompt", str(secret), "--base-url", "http://127.0.0.1:9/v1"]
    err = _bad(tmp_path, capsys, "pairing", "--system", str(system), *flags,
               "--dataset", str(tmp_path / "none"))  # fmt: skip
    assert "is not a template under" not in err


def test_set_refuses_a_field_the_system_does_not_use(tmp_path: Path, capsys) -> None:
    """`--set model=...` on BM25 (which has no model) was accepted and ignored."""
    err = _bad(tmp_path, capsys, "pairing", "--system", "bm25s", "--set", "model=x")
    assert err == "error: --set model: not a field of a bm25 system\n"
    err = _bad(tmp_path, capsys, "pairing", "--system", "bm25s", "--model", "x")
    assert err == "error: --model: not a field of a bm25 system\n"


# --------------------------------------------------------------------------------------------
# The transport: dropped connections, 408/409, a client error; where answers came from; Ctrl-C
# --------------------------------------------------------------------------------------------


def _contents(reference: Reference, n: int) -> list[str]:
    rows = [r for rows in reference.rows["pairing"].values() for r in rows]
    template = (PROTOCOL / "stage2-relevance-prompt.txt").read_text()
    return [
        template.replace("{attribute}", r["attribute"]).replace("{prompt}", r["prompt"][:800])
        for r in rows[:n]
    ]


def test_dropped_connections_408_and_409_are_retried_and_a_400_is_not(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path, capsys
) -> None:
    dropped, conflicted, refused = _contents(fixture_reference, 3)
    fail_first = {dropped: [0, 408], conflicted: [409], refused: [400]}
    out = tmp_path / "acme__judge" / "v1"
    flags = ["pairing", "--dataset", str(fixture_dataset), "--model", "stand-in"]
    flags += ["--cache-dir", str(tmp_path / "cache"), "--max-retries", "2"]
    with StandIn(_answer_by_attribute, fail_first=fail_first) as server:
        code = run(out, *flags, "--base-url", server.url)
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    # only the 400 failed, once, and the error names the server's own message
    assert err.startswith("error: 1 of ") and "(first: 400: planned failure)" in err
    assert server.counts["failed-400"] == 1
    assert server.counts["failed-0"] == server.counts["failed-408"] == 1
    assert server.counts["failed-409"] == 1
    rows = sum(len(r) for r in fixture_reference.rows["pairing"].values())
    assert server.counts["answered"] == rows - 1


def test_timeouts_are_retried_then_reported_in_one_line(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path, capsys
) -> None:
    rows = sum(len(r) for r in fixture_reference.rows["pairing"].values())
    out = tmp_path / "acme__judge" / "v1"
    flags = ["pairing", "--dataset", str(fixture_dataset), "--model", "stand-in"]
    flags += ["--cache-dir", str(tmp_path / "cache"), "--max-retries", "1"]
    flags += ["--timeout", "1", "--concurrency", "64"]
    with StandIn(_answer_by_attribute, latency_s=3.0) as server:
        code = run(out, *flags, "--base-url", server.url)
    err = capsys.readouterr().err
    assert code == 1 and not out.exists() and err.count("\n") == 1
    assert err.startswith(f"error: {rows} of {rows} requests failed (first: timed out)")
    assert server.counts["chat"] == 2 * rows  # one try and one retry each


def _record(out: Path) -> dict:
    return yaml.safe_load((out / "metadata.yaml").read_text())["run"]


def test_metadata_says_where_the_answers_came_from(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path, capsys
) -> None:
    from recenter_bench.run.llm import NONE_CONTACTED

    rows = sum(len(r) for r in fixture_reference.rows["pairing"].values())
    out = tmp_path / "acme__judge" / "v1"
    cache = tmp_path / "cache"
    flags = ["pairing", "--dataset", str(fixture_dataset), "--model", "stand-in"]
    flags += ["--cache-dir", str(cache)]
    with StandIn(_answer_by_attribute) as server:
        # credentials in the query string are not stored (the stand-in ignores the query)
        assert run(out, *flags, "--base-url", server.url + "?api-key=sk-secret-in-url") == 0
    first = _record(out)
    assert first["endpoint_contacted"] == server.url
    assert first["answers_from_cache"] == 0
    assert first["first_answered_by"] == {server.url: rows}
    assert "contacted " + server.url in capsys.readouterr().out
    assert not [p for p in cache.rglob("*.json") if "sk-secret-in-url" in p.read_text()]
    # each entry holds the very request its name is the key of, and who answered it
    from recenter_bench.run.cache import request_key

    for path in cache.rglob("*.json"):
        entry = json.loads(path.read_text())
        assert request_key(entry["request"]) == path.stem and entry["endpoint"] == server.url

    # the server is gone: a warm cache answers everything and the metadata says so
    entries = sorted(cache.rglob("*.json"))
    old = json.loads(entries[0].read_text())
    del old["endpoint"]  # an entry written before endpoints were recorded
    entries[0].write_text(json.dumps(old))
    assert run(out, *flags, "--base-url", server.url) == 0
    again = _record(out)
    assert again["endpoint_contacted"] == NONE_CONTACTED
    assert again["answers_from_cache"] == rows
    assert again["first_answered_by"] == {server.url: rows - 1, "unknown": 1}
    printed = capsys.readouterr().out
    assert f"no endpoint contacted: all {rows:,} answers came from the cache" in printed


def test_ctrl_c_says_how_to_resume_and_the_rerun_sends_only_the_rest(
    fixture_dataset: Path, fixture_reference: Reference, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    rows = sum(len(r) for r in fixture_reference.rows["pairing"].values())
    out = tmp_path / "acme__judge" / "v1"
    cache = tmp_path / "cache"
    flags = ["pairing", "--dataset", str(fixture_dataset), "--model", "stand-in"]
    flags += ["--cache-dir", str(cache), "--concurrency", "1", "--no-progress"]
    with StandIn(_answer_by_attribute, latency_s=0.1) as server:
        command = [sys.executable, "-m", "recenter_bench.cli", "run", *flags]
        command += ["--base-url", server.url, "--out", str(out)]
        process = subprocess.Popen(
            command, stderr=subprocess.PIPE, text=True, env={**os.environ, "OPENAI_API_KEY": KEY}
        )
        deadline = time.monotonic() + 60
        while len(list(cache.rglob("*.json"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130 and not out.exists()
        assert err.count("\n") == 1 and err.startswith("interrupted: run the same command again"), (
            err
        )
        kept = len(list(cache.rglob("*.json")))
        assert 3 <= kept < rows
        server.counts.clear()
        assert run(out, *flags, "--base-url", server.url) == 0
        assert server.counts["chat"] == rows - kept  # resumed from every answer received
    assert validate_submission(out, reference=fixture_reference, require_results=True) == []
