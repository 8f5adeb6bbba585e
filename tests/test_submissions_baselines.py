"""`recenter baseline`: the metric's no-skill predictions and the project's BM25 run, written as
ordinary submissions; BM25 checked against a plain-Python reading of its formula, and its
decision rule shown to depend on the train split only."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recenter_bench.baselines import (
    K1,
    B,
    baseline_submission,
    bm25_predictions,
    bm25_scores,
    choose_rule,
    tokenize,
)
from recenter_bench.cli import main
from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.stemming import porter_step1
from recenter_bench.submissions import Reference, validate_submission


def _bm25_by_hand(query: list[str], document: list[str], documents: list[list[str]]) -> float:
    n = len(documents)
    average = sum(len(d) for d in documents) / n
    total = 0.0
    for term in query:
        df = sum(term in d for d in documents)
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        tf = Counter(document)[term]
        total += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(document) / average))
    return total


words = st.sampled_from(["tea", "coat", "cook", "python", "music", "travel", "dog"])


@settings(max_examples=100, deadline=None)
@given(
    documents=st.lists(st.lists(words, min_size=1, max_size=6), min_size=1, max_size=6),
    queries=st.lists(st.lists(words, max_size=4), min_size=1, max_size=3),
)
def test_bm25_matches_the_formula(documents: list[list[str]], queries: list[list[str]]) -> None:
    pairs = [(q, d) for q in range(len(queries)) for d in range(len(documents))]
    got = bm25_scores(queries, documents, pairs)
    want = [_bm25_by_hand(queries[q], documents[d], documents) for q, d in pairs]
    assert got.tolist() == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_tokenize_drops_stop_words_and_punctuation_and_folds_inflections() -> None:
    assert tokenize("The user enjoys Jazz, Blues & 1950s music!") == [
        "enjoi",
        "jazz",
        "blue",
        "1950",
        "music",
    ]
    assert tokenize("cooking") == tokenize("cooks") == tokenize("Cooked") == ["cook"]


# Every example of steps 1a, 1b and 1c in Porter (1980), "An algorithm for suffix stripping".
PORTER_STEP1 = {
    "caresses": "caress",
    "ponies": "poni",
    "ties": "ti",
    "caress": "caress",
    "cats": "cat",
    "feed": "feed",
    "agreed": "agree",
    "plastered": "plaster",
    "bled": "bled",
    "motoring": "motor",
    "sing": "sing",
    "conflated": "conflate",
    "troubled": "trouble",
    "sized": "size",
    "hopping": "hop",
    "tanned": "tan",
    "falling": "fall",
    "hissing": "hiss",
    "fizzed": "fizz",
    "failing": "fail",
    "filing": "file",
    "happy": "happi",
    "sky": "sky",
}


@pytest.mark.parametrize("word, stem", PORTER_STEP1.items())
def test_porter_step1_matches_the_paper(word: str, stem: str) -> None:
    assert porter_step1(word) == stem


def _relabel(reference: Reference, splits: tuple[str, ...]) -> Reference:
    """The same dataset with every pairing label of `splits` flipped."""
    rows = copy.deepcopy(reference.rows)
    for split in splits:
        for row in rows["pairing"][split]:
            row["relevant"] = not row["relevant"]
    return dataclasses.replace(reference, rows=rows)


def test_bm25_rule_sees_the_train_split_only(reference: Reference) -> None:
    predictions, rule = bm25_predictions(reference)
    flipped = _relabel(reference, ("validation", "test"))
    assert bm25_predictions(flipped) == (predictions, rule)
    # ... while the train labels do choose it
    assert choose_rule(_relabel(reference, ("train",)).rows["pairing"]["train"]) != rule


def test_bm25_covers_every_pair_once(reference: Reference) -> None:
    predictions, rule = bm25_predictions(reference)
    ids = [p["pair_id"] for p in predictions]
    assert sorted(ids) == ids and len(set(ids)) == len(ids)
    assert set(ids) == set(reference.split_of_id["pairing"])
    assert all(p["relevant"] == (p["score"] > rule.threshold) for p in predictions)
    assert rule.direction in ("prompt->attribute", "attribute->prompt")


def test_no_skill_baselines_are_the_metrics(reference: Reference) -> None:
    metadata, predictions = baseline_submission("always-yes", reference)
    # the preview has human labels for pairing only, so the baseline enters pairing only
    assert metadata["stages"] == ["pairing"] == list(predictions)
    expected = metric.no_skill_predictions({"pairing": reference.rows["pairing"]})
    assert predictions["pairing"] == expected["always-yes"]["pairing"]


@pytest.mark.parametrize("name, model", [("bm25", "BM25"), ("random-at-human-rate", None)])
def test_baseline_command_writes_a_valid_submission(
    name: str, model: str | None, tmp_path: Path, reference: Reference, capsys
) -> None:
    out = tmp_path / f"recenter-bench__{model or name}" / "v1"
    code = main(["baseline", name, "--dataset", reference.source, "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and printed.endswith(f"wrote {out}\n")
    assert sorted(p.name for p in out.iterdir()) == [
        "metadata.yaml",
        "pairing.jsonl",
        "results.json",
    ]
    assert validate_submission(out, reference=reference, require_results=True) == []
    results = json.loads((out / "results.json").read_text())
    assert set(results["scores"]["pairing"]) == {"train", "validation", "test", "all"}


def test_baseline_refuses_a_misnamed_folder(tmp_path: Path, reference: Reference, capsys) -> None:
    out = tmp_path / "someone__BM25" / "v1"
    code = main(["baseline", "bm25", "--dataset", reference.source, "--out", str(out)])
    assert code == 1
    assert capsys.readouterr().err == (
        f"error: --out: {out}: the folder must be recenter-bench__BM25/<run> for this baseline\n"
    )
    assert not out.exists()


def test_unknown_baseline(tmp_path: Path, capsys) -> None:
    code = main(["baseline", "oracle", "--out", str(tmp_path / "x" / "y")])
    assert code == 1
    assert capsys.readouterr().err == (
        "error: baseline: unknown baseline 'oracle' (expected one of always-yes, always-no, "
        "random-at-human-rate, constant-3, constant-human-mean, bm25)\n"
    )


@pytest.mark.parametrize(
    "module",
    [
        "recenter_bench.baselines",
        "recenter_bench.stemming",
        "recenter_bench.submissions.files",
    ],
)
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
