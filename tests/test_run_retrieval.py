"""`recenter run` systems that read no endpoint: BM25 (bm25s), all-MiniLM-L6-v2 similarity and
logistic regression on frozen embeddings. Their rules are fit on train and chosen on
validation; these tests show that the test split's labels never reach any fitting, that each
distinct text is encoded once, and that the rule search agrees with scikit-learn."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from recenter_bench.cli import main
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review import Reference
from recenter_bench.run import embed, rules
from recenter_bench.run.runner import run_system
from recenter_bench.run.systems import load_system
from tests.cross_cpu import (
    SCORE_TOLERANCE,
    assert_same_decisions,
    assert_same_record,
    assert_same_refit,
    compare_runs,
    rule_thresholds,
)
from tests.written_submission import assert_complete_pairing_submission

SPLITS = ["train", "validation", "test"]


def _flip(reference: Reference, split: str) -> Reference:
    """The same dataset with every pairing label of `split` flipped."""
    rows = copy.deepcopy(reference.rows)
    for row in rows["pairing"][split]:
        row["relevant"] = not row["relevant"]
    return dataclasses.replace(reference, rows=rows)


@pytest.fixture(scope="module")
def outcomes(reference: Reference) -> dict:
    """Each system run once on the preview (the encoder's vectors are shared in the process)."""
    return {
        name: run_system(load_system(name), reference, SPLITS)
        for name in ("bm25s", "minilm-similarity", "minilm-logreg")
    }


@pytest.mark.parametrize("name", ["bm25s", "minilm-similarity", "minilm-logreg"])
def test_test_labels_never_reach_fitting(name: str, outcomes: dict, reference: Reference) -> None:
    """Flipping every test label changes nothing; flipping the train labels changes the rule."""
    flipped_test = run_system(load_system(name), _flip(reference, "test"), SPLITS)
    assert flipped_test.predictions == outcomes[name].predictions
    assert flipped_test.record == outcomes[name].record
    flipped_train = run_system(load_system(name), _flip(reference, "train"), SPLITS)
    assert flipped_train.record["candidates"] != outcomes[name].record["candidates"]


def test_classifier_is_fit_on_train_rows_only(
    reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    real_fit = embed.fit_classifier

    def spy(features: np.ndarray, labels: np.ndarray, regularization: float):
        seen.append((features.copy(), labels.copy()))
        return real_fit(features, labels, regularization)

    monkeypatch.setattr(embed, "fit_classifier", spy)
    run_system(load_system("minilm-logreg"), reference, SPLITS)
    train = sorted(reference.rows["pairing"]["train"], key=lambda r: r["pair_id"])
    for prefix, (features, labels) in zip(["", "The user "], seen, strict=True):
        assert labels.tolist() == [r["relevant"] for r in train]
        assert np.array_equal(features, embed.pair_features(train, embed.MINILM, prefix))


def test_each_distinct_text_is_encoded_once(outcomes: dict, reference: Reference) -> None:
    rows = [r for rs in reference.rows["pairing"].values() for r in rs]
    texts = {r["prompt"] for r in rows} | {r["attribute"] for r in rows}
    texts |= {embed.strip_prefix(r["attribute"], "The user ") for r in rows}
    encoder = embed.encoder(embed.MINILM)
    # no text went through the model twice, and there are far fewer texts than pairs
    assert encoder.encoded == len(encoder.vectors) and texts <= encoder.vectors.keys()
    assert len(texts) < len(rows)  # a loop over pairs would encode 2 texts per pair per variant


def test_cosine_scores_match_a_direct_computation(reference: Reference) -> None:
    rows = reference.rows["pairing"]["validation"][:20]
    model = embed.encoder(embed.MINILM)._load()
    prompts = model.encode([r["prompt"] for r in rows])
    attributes = model.encode([r["attribute"] for r in rows])
    direct = [
        float(p @ a / np.linalg.norm(p) / np.linalg.norm(a))
        for p, a in zip(prompts, attributes, strict=True)
    ]
    got = embed.cosine_scores(rows, embed.MINILM, "")
    # other batches pad the texts differently: float32 kernels agree to their tolerance only
    assert got.tolist() == pytest.approx(direct, **SCORE_TOLERANCE)


def test_bm25_scores_are_bm25s_retrieval_scores(reference: Reference) -> None:
    """A pair's score is what bm25s's own retrieve gives that document for that query."""
    import bm25s
    import Stemmer

    from recenter_bench.run.lexical import bm25_scores

    rows = reference.rows["pairing"]["test"]
    scores = bm25_scores(rows, "prompt->attribute", "none")
    documents = sorted({r["attribute"] for r in rows})
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(documents, stopwords=None, stemmer=stemmer, show_progress=False),
                    show_progress=False)  # fmt: skip
    row = max(range(len(rows)), key=lambda i: scores[i])
    query = bm25s.tokenize([rows[row]["prompt"]], stopwords=None, stemmer=stemmer,
                           show_progress=False)  # fmt: skip
    found, values = retriever.retrieve(query, k=1, show_progress=False)
    assert documents[found[0][0]] == rows[row]["attribute"]
    # float32 sums in another order (numpy's SIMD width differs across CPUs): float32 tolerance
    assert values[0][0] == pytest.approx(scores[row], rel=1e-5)


# --------------------------------------------------------------------------------------------
# Rules, cross-checked against scikit-learn
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_best_threshold_is_the_best_of_all_thresholds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.random(200) < 0.2
    scores = np.round(rng.random(200) + labels * 0.3, 2)  # ties on purpose
    threshold, best = rules.best_threshold(scores, labels)
    brute = {t: f1_score(labels, scores >= t) for t in np.unique(scores)}
    assert best == pytest.approx(max(brute.values()))
    assert best == pytest.approx(f1_score(labels, scores >= threshold))


def _committed_train_scores(reference: Reference) -> tuple[np.ndarray, np.ndarray]:
    """The committed all-MiniLM-L6-v2 similarity scores of the train pairs, and their labels."""
    folder = SUBMISSIONS_DIR / "recenter-bench__all-MiniLM-L6-v2-similarity" / "v1"
    lines = (folder / "pairing.jsonl").read_text().splitlines()
    score = {row["pair_id"]: row["score"] for row in map(json.loads, lines)}
    train = reference.rows["pairing"]["train"]
    return np.array([score[r["pair_id"]] for r in train]), np.array([r["relevant"] for r in train])


@pytest.mark.parametrize("seed", range(5))
def test_fitted_threshold_is_the_same_on_another_cpu(seed: int, reference: Reference) -> None:
    """On an AMD EPYC the threshold fit on the same scores came out 0.0688003 where Intel gave
    0.0688002: the threshold is written to 4 significant digits, which such noise leaves alone."""
    scores, labels = _committed_train_scores(reference)
    noise = np.random.default_rng(seed).uniform(-1e-6, 1e-6, len(scores))
    threshold, best = rules.best_threshold(scores, labels)
    assert rules.best_threshold(scores + noise, labels)[0] == threshold == 0.0688
    assert best == pytest.approx(f1_score(labels, scores >= threshold))
    assert rules.Rule("threshold", threshold).describe() == "score >= 0.0688"


def _amd_like(rows: list[dict], shift: float) -> list[dict]:
    return [
        {**row, "score": round(row["score"] + shift * (-1) ** i, 6)} for i, row in enumerate(rows)
    ]


def test_cross_cpu_comparison_allows_float32_noise_and_threshold_flips() -> None:
    rows = [{"pair_id": f"p{i}", "relevant": i / 400 >= 0.5, "score": i / 400} for i in range(400)]
    noisy = _amd_like(rows, 1.7e-5)
    noisy[200]["relevant"] = False  # its score, 0.5, is the threshold: the last digit decides
    assert_same_decisions(rows, noisy, [0.5])
    assert_same_record({"rule": "score >= 0.0688002", "f1": 0.3525},
                       {"rule": "score >= 0.0688003", "f1": 0.3526})  # fmt: skip


def test_cross_cpu_comparison_counts_what_the_benchmark_reports() -> None:
    rows = [{"pair_id": f"p{i}", "relevant": i / 400 >= 0.5, "score": i / 400} for i in range(400)]
    noisy = _amd_like(rows, 1.7e-5)
    noisy[200]["relevant"] = noisy[10]["relevant"] = True  # at the threshold, and far from it
    comparison = compare_runs(rows, noisy, [0.5])
    assert comparison.max_score_diff == pytest.approx(1.7e-5, abs=1e-6)
    assert comparison.flips == [("p10", 0.025)] and comparison.far_flips == [("p10", 0.025)]
    noisy[200]["relevant"] = False
    assert compare_runs(rows, noisy, [0.5]).flips == [("p10", 0.025), ("p200", 0.5)]
    assert comparison.max_flips == 2  # 0.5% of 400


_REFIT_RECORD = {
    "rule": "'The user' removed; HistGradientBoosting; P(relevant) >= 0.1629",
    "candidates": [{"variant": "text as is", "cv_f1": 0.4216},
                   {"variant": "'The user' removed", "cv_f1": 0.4621}],
}  # fmt: skip


def test_refit_comparison_allows_other_trees_of_the_same_system() -> None:
    rows = [{"pair_id": f"p{i}", "relevant": i % 5 == 0, "score": i / 400} for i in range(400)]
    refit = _flip_rows(_amd_like(rows, 0.3), 0, 24)  # 6.25% of the decisions, scores far off
    record = {**_REFIT_RECORD, "rule": _REFIT_RECORD["rule"].replace("0.1629", "0.3089")}
    record["candidates"] = [{**c, "cv_f1": c["cv_f1"] - 0.0061} for c in record["candidates"]]
    assert_same_refit(rows, refit, _REFIT_RECORD, record)


@pytest.mark.parametrize(
    ("flipped", "change"),
    [
        (45, {}),  # 11% of the decisions
        (0, {"rule": "text as is; HistGradientBoosting; P(relevant) >= 0.295"}),
        (
            0,
            {
                "candidates": [
                    {"variant": "text as is", "cv_f1": 0.3916},
                    {"variant": "'The user' removed", "cv_f1": 0.4621},
                ]
            },
        ),  # fmt: skip
    ],
    ids=["decisions", "chosen-candidate", "cv-f1"],
)
def test_refit_comparison_catches_another_system(flipped: int, change: dict) -> None:
    rows = [{"pair_id": f"p{i}", "relevant": i % 5 == 0, "score": i / 400} for i in range(400)]
    with pytest.raises(AssertionError):
        assert_same_refit(rows, _flip_rows(rows, 0, flipped - 1), _REFIT_RECORD,
                          {**_REFIT_RECORD, **change})  # fmt: skip


def _flip_rows(rows: list[dict], first: int, last: int) -> list[dict]:
    return [
        {**r, "relevant": not r["relevant"]} if first <= i <= last else r
        for i, r in enumerate(rows)
    ]


@pytest.mark.parametrize(
    ("change", "thresholds"),
    [
        (lambda rows: _amd_like(rows, 2e-3), [0.5]),  # scores that are not the same model's
        (lambda rows: _flip_rows(rows, 10, 10), [0.5]),  # a decision far from the threshold
        # 3 of 400 rows (0.75%), each at a threshold: more flips than float noise explains
        (lambda rows: _flip_rows(rows, 199, 201), [0.4975, 0.5, 0.5025]),
    ],
    ids=["scores", "flip-far-from-threshold", "too-many-flips"],
)
def test_cross_cpu_comparison_still_catches_a_different_run(change, thresholds) -> None:
    rows = [{"pair_id": f"p{i}", "relevant": i / 400 >= 0.5, "score": i / 400} for i in range(400)]
    with pytest.raises(AssertionError, match="score|flip|approx"):
        assert_same_decisions(rows, change(rows), thresholds)


@pytest.mark.parametrize(
    ("committed", "recomputed"),
    [
        ({"rule": "score >= 0.0688"}, {"rule": "score >= 0.0701"}),
        ({"rule": "score >= 0.0688"}, {"rule": "top 45% of each item"}),
        ({"train_f1": 0.3525}, {"train_f1": 0.3125}),
        # a threshold value is a threshold, not an F1: 0.7% apart is another rule
        ({"candidates": [{"threshold": 0.585}]}, {"candidates": [{"threshold": 0.589}]}),
        ({"variant": "text as is"}, {"variant": "'The user' removed"}),
    ],
)
def test_cross_cpu_record_comparison_catches_a_different_rule(committed, recomputed) -> None:
    with pytest.raises(AssertionError):
        assert_same_record(committed, recomputed)


def test_rule_thresholds_are_read_from_the_rule_text() -> None:
    assert rule_thresholds("text as is; score >= 0.0688") == [0.0688]
    assert rule_thresholds("x; P(relevant) >= 0.7698 (best F1 on validation)") == [0.7698]
    assert rule_thresholds("prompt->attribute, stopwords none; score > 0") == [0.0]
    assert rule_thresholds("top 45% of each (user, prompt) item's attributes by score") == []


def test_top_share_keeps_the_top_of_each_group() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.3, 0.8, 0.2])
    groups = ["a", "a", "a", "b", "b", "b"]
    assert rules.top_share(scores, groups, 0.3).tolist() == [False, True, False, False, True, False]
    assert rules.top_share(scores, groups, 0.5).tolist() == [False, True, True, True, True, False]


def test_choose_keeps_the_best_validation_candidate() -> None:
    labels = [True, False, True, False, True, False]
    splits = ["train", "train", "validation", "validation", "test", "test"]
    good = np.array([0.6, 0.1, 0.8, 0.2, 0.0, 0.0])
    bad = np.array([0.6, 0.1, 0.2, 0.8, 0.0, 0.0])
    choice, scores = rules.choose(
        {"bad": bad, "good": good}, ["threshold"], splits, list(range(6)), labels
    )
    assert choice.variant == "good" and scores is good
    assert [row["validation_f1"] for row in choice.table] == [0.0, 1.0]


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def test_run_bm25s_writes_a_valid_submission(tmp_path: Path, reference: Reference, capsys) -> None:
    out = tmp_path / "recenter-bench__BM25" / "v2"
    code = main(["run", "pairing", "--system", "bm25s", "--dataset", reference.source,
                 "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and printed.endswith(f"wrote {out}\n") and "pairing/test: f1 " in printed
    assert_complete_pairing_submission(out, reference)


def test_a_display_name_that_does_not_make_the_out_folder_is_refused(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "someone__my-bm25" / "v1"
    flags = ["--system", "bm25s", "--display-name", "BM25", "--out", str(out)]
    assert main(["run", "pairing", *flags]) == 1
    assert capsys.readouterr().err == (
        f"error: --out: {out}: org 'someone' and model 'BM25' make the folder someone__BM25/<run>;"
        " rename --out or change --org / --display-name\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("stranger", ["notes.txt", "data/", "raw_answers.jsonl/"])
def test_an_out_folder_holding_what_recenter_did_not_write_is_never_replaced(
    tmp_path: Path, reference: Reference, capsys, stranger: str
) -> None:
    out = tmp_path / "someone__BM25" / "v1"
    flags = ["run", "pairing", "--system", "bm25s", "--dataset", reference.source, "--out"]
    assert main([*flags, str(out)]) == 0  # an earlier run's folder may be replaced ...
    assert main([*flags, str(out)]) == 0
    capsys.readouterr()
    (out / "results.json").unlink()
    if stranger.endswith("/"):
        (out / stranger).mkdir()
    else:
        (out / stranger).write_text("a user's thesis notes\n")
    before = {p.name: p.is_dir() or p.read_bytes() for p in out.iterdir()}
    assert main([*flags, str(out)]) == 1  # ... one holding anything else may not
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"holds '{stranger.rstrip('/')}'" in err, err
    assert "nothing was written" in err
    assert {p.name: p.is_dir() or p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(
    "folder, flags, system_name, expected",
    [
        # one rule for every kind: the folder names the row (was refused for bm25s, #18)
        ("someone__my-bm25", (None, None), "BM25", ("someone", "my-bm25")),
        ("newcomer__my-gemma", (None, None), None, ("newcomer", "my-gemma")),
        # a system's own display name is used where it makes the folder's <model>
        ("recenter-bench__BM25", (None, None), "BM25", ("recenter-bench", "BM25")),
        (
            "recenter-bench__all-MiniLM-L6-v2-similarity",
            (None, None),
            "all-MiniLM-L6-v2 similarity",
            ("recenter-bench", "all-MiniLM-L6-v2 similarity"),
        ),
        ("x__y", ("x", "y"), "BM25", ("x", "y")),
        ("acme__GPT-5.4-mine", (None, "GPT-5.4 mine"), None, ("acme", "GPT-5.4 mine")),
    ],
)
def test_the_out_folder_names_the_row_for_every_kind(
    tmp_path: Path, folder: str, flags: tuple, system_name: str | None, expected: tuple
) -> None:
    from recenter_bench.run.destination import out_identity

    assert out_identity(tmp_path / folder / "v1", *flags, system_name) == expected
