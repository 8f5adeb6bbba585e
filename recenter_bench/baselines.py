"""Baselines the project runs itself: the metric's no-skill predictions and a BM25 retriever.

`recenter baseline NAME --out submissions/recenter-bench__<NAME>/<run>` writes a complete
submission folder (metadata.yaml, one `<config>.jsonl` per stage, results.json), checked by the
same `check_files` as every other submission and scored by the metric. Nothing here computes a
score: the no-skill predictions come from the metric module, and the BM25 baseline only turns
text overlap into predictions (its decision rule is chosen by the metric's F1 on the train split,
its tokenization on the validation split).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recenter_bench import BENCHMARK_VERSION
from recenter_bench.atomic import write_folder
from recenter_bench.errors import UserError
from recenter_bench.stemming import porter_step1
from recenter_bench.submissions import (
    STAGES,
    Reference,
    folder_name,
    identity_of,
    load_reference,
    metric_module,
    submission_files,
)

ORG = "recenter-bench"
LINK = "https://github.com/recenter-bench/recenter-bench"
BM25 = "bm25"
# Okapi BM25's usual constants (Robertson et al.; Lucene's defaults are 1.2 / 0.75): fixed in
# advance, not tuned, so the choices made on labels are only the decision rule (train split) and
# the tokenization (validation split).
K1 = 1.5
B = 0.75
# Function words that every attribute ("The user is interested in ...") and prompt share; they
# would only add noise to the overlap.
STOPWORDS = frozenset(
    """a about an and are as at be been being but by can could do does for from has have how i
    if in into is it its may me might my of on or our should so such than that the their them
    then there these they this to user users was we were what when where which who whom why
    will with would you your""".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased alphanumeric words without stop words, inflections folded (Porter step 1):
    "cooking" in a prompt meets "cooks" in an attribute. Chosen over unstemmed words and over
    attribute + extraction reason as documents by validation F1 (see the metadata description).

    >>> tokenize("The user is interested in 3D modeling, and in Delhi's buildings.")
    ['interest', '3d', 'model', 'delhi', 'build']
    """
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [porter_step1(w) for w in words if w not in STOPWORDS and len(w) > 1]


def bm25_scores(
    queries: Sequence[Sequence[str]],
    documents: Sequence[Sequence[str]],
    pairs: Sequence[tuple[int, int]],
    k1: float = K1,
    b: float = B,
) -> np.ndarray:
    """Okapi BM25 of (query index, document index) pairs; IDF and length statistics come from
    `documents` (the whole collection, every split: inputs only, never labels).

    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)), the non-negative form used by Lucene;
    score = sum over query tokens t of idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b |d| / avgdl)).

    >>> docs = [["cat", "sat"], ["dog"], ["cat", "cat", "dog"]]
    >>> bm25_scores([["cat"]], docs, [(0, 0), (0, 1), (0, 2)]).round(4).tolist()
    [0.47, 0.0, 0.5785]
    """
    vocabulary = {t: i for i, t in enumerate(sorted({t for d in documents for t in d}))}
    counts = np.zeros((len(documents), len(vocabulary)))
    for row, document in enumerate(documents):
        for token, count in Counter(document).items():
            counts[row, vocabulary[token]] = count
    lengths = counts.sum(axis=1)
    df = (counts > 0).sum(axis=0)
    idf = np.log1p((len(documents) - df + 0.5) / (df + 0.5))
    norm = k1 * (1 - b + b * lengths / max(lengths.mean(), 1e-12))
    weights = idf * counts * (k1 + 1) / (counts + norm[:, None])  # (documents, vocabulary)
    out = np.zeros(len(pairs))
    for n, (q, d) in enumerate(pairs):
        columns = [vocabulary[t] for t in queries[q] if t in vocabulary]
        out[n] = weights[d, columns].sum()
    return out


@dataclass(frozen=True)
class Rule:
    """BM25's decision rule: which text is the query, and the score above which a pair is
    called relevant. Chosen on the train split only."""

    direction: str  # "prompt->attribute" or "attribute->prompt"
    threshold: float
    train_f1: float


def _direction_scores(rows: Sequence[Mapping[str, Any]], direction: str) -> np.ndarray:
    prompts = sorted({row["prompt"] for row in rows})
    attributes = sorted({row["attribute"] for row in rows})
    prompt_at = {p: i for i, p in enumerate(prompts)}
    attribute_at = {a: i for i, a in enumerate(attributes)}
    prompt_tokens = [tokenize(p) for p in prompts]
    attribute_tokens = [tokenize(a) for a in attributes]
    if direction == "prompt->attribute":
        pairs = [(prompt_at[r["prompt"]], attribute_at[r["attribute"]]) for r in rows]
        return bm25_scores(prompt_tokens, attribute_tokens, pairs)
    pairs = [(attribute_at[r["attribute"]], prompt_at[r["prompt"]]) for r in rows]
    return bm25_scores(attribute_tokens, prompt_tokens, pairs)


def _train_f1(rows: Sequence[Mapping[str, Any]], relevant: np.ndarray) -> float:
    """The metric's F1 of a rule on the train rows (no bootstrap: only the point is needed)."""
    predictions = [
        {"pair_id": row["pair_id"], "relevant": bool(v)}
        for row, v in zip(rows, relevant, strict=True)
    ]
    scores = metric_module().score_submission(
        {"pairing": predictions}, {"pairing": {"train": list(rows)}}, n_bootstrap=0
    )
    f1 = scores["pairing"]["train"]["f1"]
    return -1.0 if math.isnan(f1) else float(f1)


def choose_rule(train_rows: Sequence[Mapping[str, Any]]) -> Rule:
    """The direction and threshold with the best train F1 (ties: the higher threshold, i.e.
    fewer pairs called relevant). Candidate thresholds: 0 (any overlap) and the 1st..99th
    percentiles of the train scores. Validation and test rows are never looked at."""
    labelled = [row for row in train_rows if row.get("relevant") is not None]
    if not labelled:
        raise UserError("pairing: the train split has no labelled rows to choose BM25's threshold")
    best: Rule | None = None
    for direction in ("prompt->attribute", "attribute->prompt"):
        scores = _direction_scores(labelled, direction)
        candidates = sorted({0.0, *np.percentile(scores, np.arange(1, 100)).round(6).tolist()})
        for threshold in candidates:
            f1 = _train_f1(labelled, scores > threshold)
            if best is None or (f1, threshold) > (best.train_f1, best.threshold):
                best = Rule(direction, float(threshold), f1)
    assert best is not None
    return best


def bm25_predictions(reference: Reference) -> tuple[list[dict[str, Any]], Rule]:
    """BM25 pairing predictions for every row of every split, and the rule (fixed on train)."""
    rows = [
        row
        for split in ("train", "validation", "test")
        for row in reference.rows["pairing"].get(split, [])
    ]
    rule = choose_rule(reference.rows["pairing"].get("train", []))
    scores = _direction_scores(rows, rule.direction)
    predictions = [
        {
            "pair_id": row["pair_id"],
            "relevant": bool(score > rule.threshold),
            "score": round(float(score), 6),
        }
        for row, score in zip(rows, scores, strict=True)
    ]
    return sorted(predictions, key=lambda p: p["pair_id"]), rule


# --------------------------------------------------------------------------------------------
# Submissions
# --------------------------------------------------------------------------------------------


def _labelled_stages(reference: Reference) -> list[str]:
    """Stages with at least one human label: a baseline enters only where it can be scored."""
    reference_value = metric_module().reference_value
    return [
        stage
        for stage in STAGES
        if any(
            reference_value(stage, row) is not None
            for rows in reference.rows[stage].values()
            for row in rows
        )
    ]


def baseline_names() -> list[str]:
    return [*metric_module().BASELINES, BM25]


def _unknown(name: str) -> str:
    return f"baseline: unknown baseline {name!r} (expected one of {', '.join(baseline_names())})"


def baseline_submission(
    name: str, reference: Reference, seed: int = 0
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(metadata, {stage: prediction rows}) of one baseline on one dataset."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    common = {
        "org": ORG,
        "link": LINK,
        "open_weights": True,
        "benchmark_version": BENCHMARK_VERSION,
        "dataset_revision": reference.revision,
        "date": today,
        "contact": "",
        "provenance": "rescored",
    }
    stages = _labelled_stages(reference)
    if name == BM25:
        if "pairing" not in stages:
            raise UserError(
                "pairing: the dataset has no pairing labels; BM25 needs the train split's"
            )
        predictions, rule = bm25_predictions(reference)
        query, document = rule.direction.split("->")
        no_overlap = sum(p["score"] == 0 for p in predictions) / len(predictions)
        split_of = reference.split_of_id["pairing"]
        test_scores = [p["score"] for p in predictions if split_of[p["pair_id"]] == "test"]
        test_overlap = sum(score > 0 for score in test_scores)
        description = (
            f"Okapi BM25 (k1={K1}, b={B}, idf = ln(1 + (N - df + 0.5)/(df + 0.5))) between the "
            f"{query} (query) and the {document} (document; collection statistics over every "
            "distinct text of that kind in the pairing config), on lower-cased alphanumeric "
            "words without stop words, folded by Porter's step 1 (plurals, -ed, -ing). "
            f"A pair is called relevant when its score is above {rule.threshold:g}. The "
            "direction and the threshold were chosen together on the train split only (best "
            f"train F1 = {rule.train_f1:.3f} among threshold 0 and the 1st-99th percentiles of "
            "the train scores, both directions). The stemming was chosen on the validation "
            "split, against unstemmed words, Harman's S-stemmer, attribute + extraction reason "
            "as the document, and per-(user, prompt) top-k or relative-to-best rules; read it "
            f"on the test split. {no_overlap:.0%} of all pairs (and all but {test_overlap} of the "
            f"{len(test_scores)} test pairs) share no word with their prompt (score 0), and no "
            "rule on word overlap can tell those apart; the paper's BM25 (F1 0.243, rule not "
            "stated) is a separate reported row. `score` is the BM25 score. "
            "Made by `recenter baseline bm25`."
        )
        metadata = {
            "model": "BM25",
            **common,
            "type": "retrieval",
            "trained_on": ["train", "validation"],
            "stages": ["pairing"],
            "description": description,
        }
        return metadata, {"pairing": predictions}
    baselines = metric_module().BASELINES
    if name not in baselines:
        raise UserError(_unknown(name))
    all_predictions = metric_module().no_skill_predictions(
        {s: reference.rows[s] for s in stages}, seed=seed
    )
    predictions = {s: rows for s, rows in all_predictions.get(name, {}).items() if s in stages}
    if not predictions:
        raise UserError(
            f"baseline: {name} enters {', '.join(baselines[name][0])}, none of which has human "
            "labels in this dataset"
        )
    uses_train = name in ("random-at-human-rate", "constant-human-mean")
    description = (
        f"No-skill baseline from the metric module ({name}): {baselines[name][1]}. "
        + ("Its rate comes from the train split's labels. " if uses_train else "")
        + f"Seed {seed}. Made by `recenter baseline {name}`; it shows what a system scores "
        "without looking at the input."
    )
    metadata = {
        "model": name,
        **common,
        "type": "baseline",
        "trained_on": ["train"] if uses_train else [],
        "stages": [s for s in STAGES if s in predictions],
        "description": description,
    }
    return metadata, predictions


def write_submission(
    out: Path,
    metadata: Mapping[str, Any],
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    reference: Reference,
) -> dict[str, Any]:
    """Write a complete submission folder (metadata, predictions, results.json), after checking
    the files in memory with the same check as `recenter validate`. Returns the results."""
    org_model, _ = identity_of(out)
    expected = folder_name(metadata["org"], metadata["model"])
    if org_model != expected:
        raise UserError(f"--out: {out}: the folder must be {expected}/<run> for this baseline")
    files, results = submission_files(out, metadata, predictions, reference)
    # The whole folder at once: a reader sees the old submission or the new one, never a mix.
    write_folder(out, files)
    return results


def baseline_command(args: argparse.Namespace) -> int:
    """`recenter baseline NAME --out SUBMISSION_DIR [--dataset D]`."""
    if args.name not in baseline_names():
        raise UserError(_unknown(args.name))
    reference = load_reference(args.dataset)
    metadata, predictions = baseline_submission(args.name, reference)
    out = Path(args.out)
    results = write_submission(out, metadata, predictions, reference)
    headline = metric_module().HEADLINE
    for stage, splits in results["scores"].items():
        for split in ("test", "all"):
            value = splits.get(split, {}).get(headline[stage])
            shown = "undefined" if value is None else f"{value:.3f}"
            print(f"{args.name}: {stage} {split} {headline[stage]} {shown}")
    print(f"wrote {out}")
    return 0


__all__ = [
    "Rule",
    "baseline_command",
    "baseline_names",
    "baseline_submission",
    "bm25_predictions",
    "bm25_scores",
    "choose_rule",
    "tokenize",
    "write_submission",
]
