"""The retrieval kinds: BM25, embedding similarity, and the classifier on frozen embeddings.

Each scores every (prompt, attribute) pair and turns scores into decisions with a rule fit on
the labelled splits (`run.rules`). Labels of the splits a system may not fit on are masked
(None) by `fitting_labels` before any fitting code sees the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recenter_bench.errors import UserError
from recenter_bench.run.kinds import register_kind
from recenter_bench.run.records import Context, Outcome, System, pairing_rows


def fitting_labels(
    rows: Sequence[Mapping[str, Any]], splits: Sequence[str], system: System
) -> list[bool | None]:
    """The pairing labels a system may read: those of `fit_on` and `choose_on`; None elsewhere."""
    allowed = set(system.trained_on)
    labels = [
        row["relevant"] if split in allowed else None
        for row, split in zip(rows, splits, strict=True)
    ]
    for split in allowed:
        if not any(
            label is not None for label, s in zip(labels, splits, strict=True) if s == split
        ):
            raise UserError(f"pairing: the {split} split has no labels to fit {system.name} on")
    return labels


def groups_of(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The (user, prompt) item of each pair: the unit of the top-share rule."""
    return [(row["user_id"], row["prompt_id"]) for row in rows]


FITTED_FIELDS = ("fit_on", "choose_on")


@register_kind(
    "bm25",
    fields=("directions", "stopwords", "rules", *FITTED_FIELDS),
    extra="run",
    metadata_type="retrieval",
    fitted=True,
    summary="BM25 (bm25s) between prompt and attribute; a rule fit on the labelled splits",
)
@register_kind(
    "embedding-similarity",
    fields=("model", "prefixes", "rules", *FITTED_FIELDS),
    extra="embed",
    metadata_type="retrieval",
    fitted=True,
    summary="cosine similarity of sentence embeddings; a rule fit on the labelled splits",
)
def run_retrieval(
    system: System, rows: list[dict], splits: list[str], context: Context | None = None
) -> Outcome:
    """BM25 or embedding similarity: score every pair, fit and choose the rule, decide.

    One pass: the labels and groups first, then every variant's scores (lexical or embed),
    then the rule is fit, chosen and applied (rules), so the flow does not come back to this
    module after leaving it."""
    from recenter_bench.run.rules import choose

    labels = fitting_labels(rows, splits, system)
    groups = groups_of(rows)
    if system.kind == "bm25":
        from recenter_bench.run.lexical import bm25_scores

        names = [
            (f"{direction}, stopwords {stopwords}", direction, stopwords)
            for direction in system.get("directions", ["prompt->attribute"])
            for stopwords in system.get("stopwords", ["none"])
        ]
        variants = {name: bm25_scores(rows, d, s) for name, d, s in names}
        model = "bm25s (Lucene BM25, k1=1.5, b=0.75) + PyStemmer english"
    else:
        from recenter_bench.run.embed import cosine_scores

        model = system.get("model")
        prefixes = {prefix_label(prefix): prefix for prefix in system.get("prefixes", [""])}
        variants = {name: cosine_scores(rows, model, p) for name, p in prefixes.items()}
    choice, scores = choose(
        variants,
        system.get("rules", ["threshold"]),
        splits,
        groups,
        labels,
        fit_on=system.fit_on,
        choose_on=system.choose_on,
    )
    decisions = choice.rule.apply(scores, groups)
    record = {
        "model": model,
        "rule": f"{choice.variant}; {choice.rule.describe()}",
        "candidates": choice.table,
    }
    return Outcome(pairing_rows(decisions, scores, rows), record)


def prefix_label(prefix: str) -> str:
    return f"{prefix.strip()!r} removed" if prefix else "text as is"


@register_kind(
    "embedding-classifier",
    fields=("model", "prefixes", "regularization", *FITTED_FIELDS, "choose_by", "groups", "folds"),
    extra="embed",
    metadata_type="fine-tuned",
    fitted=True,
    summary="logistic regression on frozen sentence embeddings of prompt and attribute",
)
def run_classifier(
    system: System, rows: list[dict], splits: list[str], context: Context | None = None
) -> Outcome:
    """Frozen embeddings + logistic regression: fit on `fit_on`, threshold on `choose_on`,
    then the remaining rows (the test split) are scored once with the chosen model."""
    from recenter_bench.run.embed import fit_classifier, pair_features
    from recenter_bench.run.rules import best_threshold, f1

    if system.choose_by == "grouped-cv":
        from recenter_bench.run.trained import grouped_cv_classifier

        return grouped_cv_classifier(system, rows, splits)
    fit_on, choose_on = system.fit_on, system.choose_on
    labels = fitting_labels(rows, splits, system)
    split_array = np.asarray(splits)
    fit_rows = np.flatnonzero(split_array == fit_on)
    choose_rows = np.flatnonzero(split_array == choose_on)
    model_name = system.get("model")
    best: tuple[float, str, Any, float, str] | None = None
    table = []
    for prefix in system.get("prefixes", [""]):
        features = pair_features(rows, model_name, prefix)
        y_fit = np.array([labels[i] for i in fit_rows], dtype=bool)
        y_choose = np.array([labels[i] for i in choose_rows], dtype=bool)
        classifier = fit_classifier(features[fit_rows], y_fit, system.get("regularization", 1.0))
        threshold, choose_f1 = best_threshold(
            classifier.predict_proba(features[choose_rows])[:, 1], y_choose
        )
        fit_f1 = f1(y_fit, classifier.predict_proba(features[fit_rows])[:, 1] >= threshold)
        label = prefix_label(prefix)
        table.append(
            {
                "variant": label,
                "rule": f"P(relevant) >= {threshold:.6g}",
                f"{fit_on}_f1": round(fit_f1, 4),
                f"{choose_on}_f1": round(choose_f1, 4),
            }
        )
        if best is None or choose_f1 > best[0]:
            best = (choose_f1, prefix, classifier, threshold, label)
    assert best is not None
    _, prefix, classifier, threshold, label = best
    scores = classifier.predict_proba(pair_features(rows, model_name, prefix))[:, 1]
    record = {
        "model": model_name,
        "rule": f"{label}; logistic regression (C={system.get('regularization', 1.0):g}, "
        f"balanced class weights) fit on {fit_on}; P(relevant) >= {threshold:.6g} "
        f"(best F1 on {choose_on})",
        "candidates": table,
    }
    return Outcome(pairing_rows(scores >= threshold, scores, rows), record)
