"""Run one system over one stage of a dataset: its predictions, raw answers and run record.

Labels of the splits a system may not fit on are masked (None) before any fitting code sees
the rows, so a system's decision rule can only depend on `fit_on` and `choose_on`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recenter_bench.errors import UserError
from recenter_bench.review import ID_FIELD, RAW_ANSWERS_FILE, Reference
from recenter_bench.run.judge import JUDGE_STAGES
from recenter_bench.run.kinds import get_kind, register_kind
from recenter_bench.run.systems import LLM_JUDGE, System, read_prompt

SPLIT_ORDER = ("train", "validation", "test")
# The fitted kinds score a prompt against an attribute and learn from a yes/no label of the
# pair: that is the shape of this one stage's rows (a fact of these kinds, not of the stage).
PAIR_STAGE = "pairing"
# What an answer without a readable decision counts as, per stage (the judge's adapters say).
UNPARSED_DEFAULT = {stage: adapter.unparsed for stage, adapter in JUDGE_STAGES.items()}


@dataclass
class Context:
    """What a kind's run function gets besides its system and rows: the stage, and for an LLM
    judge the endpoint, the answer cache, the conversations (Stage 1) and the progress flag."""

    stage: str
    endpoint: Any = None
    cache: Any = None
    conversations: Sequence[Mapping[str, Any]] = ()
    show_progress: bool = True


@dataclass
class Outcome:
    """What a run produced: prediction rows, raw answers (LLM judges), the metadata `run`
    record, and the failed requests (a run with any writes no submission)."""

    predictions: list[dict[str, Any]]
    record: dict[str, Any]
    raw: list[dict[str, Any]] | None = None
    failures: list[str] = field(default_factory=list)


def stage_rows(
    reference: Reference, stage: str, splits: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, split of each row) of the requested splits, sorted by ID."""
    id_field = ID_FIELD[stage]
    found = [
        (row, split)
        for split in SPLIT_ORDER
        if split in splits
        for row in reference.rows[stage].get(split, [])
    ]
    if not found:
        raise UserError(f"{reference.source}: no {stage} rows in the split(s) {', '.join(splits)}")
    found.sort(key=lambda pair: pair[0][id_field])
    return [row for row, _ in found], [split for _, split in found]


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


def _pairing_rows(predictions: np.ndarray, scores: np.ndarray, rows: Sequence[Mapping]) -> list:
    return [
        {"pair_id": row["pair_id"], "relevant": bool(decision), "score": round(float(score), 6)}
        for row, decision, score in zip(rows, predictions, scores, strict=True)
    ]


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
    """BM25 or embedding similarity: score every pair, fit and choose the rule, decide."""
    from recenter_bench.run.rules import choose

    labels = fitting_labels(rows, splits, system)
    if system.kind == "bm25":
        from recenter_bench.run.lexical import bm25_scores

        variants = {
            f"{direction}, stopwords {stopwords}": (
                lambda d=direction, s=stopwords: bm25_scores(rows, d, s)
            )
            for direction in system.get("directions", ["prompt->attribute"])
            for stopwords in system.get("stopwords", ["none"])
        }
        model = "bm25s (Lucene BM25, k1=1.5, b=0.75) + PyStemmer english"
    else:
        from recenter_bench.run.embed import cosine_scores

        model = system.get("model")
        variants = {
            _prefix_label(prefix): (lambda p=prefix: cosine_scores(rows, model, p))
            for prefix in system.get("prefixes", [""])
        }
    choice, scores = choose(
        variants,
        system.get("rules", ["threshold"]),
        splits,
        groups_of(rows),
        labels,
        fit_on=system.fit_on,
        choose_on=system.choose_on,
    )
    decisions = choice.rule.apply(scores, groups_of(rows))
    record = {
        "model": model,
        "rule": f"{choice.variant}; {choice.rule.describe()}",
        "candidates": choice.table,
    }
    return Outcome(_pairing_rows(decisions, scores, rows), record)


def _prefix_label(prefix: str) -> str:
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
        label = _prefix_label(prefix)
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
    return Outcome(_pairing_rows(scores >= threshold, scores, rows), record)


def run_judge(
    system: System,
    stage: str,
    rows: list[dict],
    endpoint: Any,
    cache: Any,
    conversations: Sequence[Mapping[str, Any]] = (),
    show_progress: bool = True,
) -> Outcome:
    """An LLM judge over an OpenAI-compatible endpoint."""
    from recenter_bench.run import judge
    from recenter_bench.run.llm import ask

    template = read_prompt(system)
    adapter = judge.judge_stage(stage)
    queries = adapter.queries(rows, template, system, conversations)
    decoding = dict(system.get("decoding", {}))
    requests = [judge.chat_request(q, endpoint.model, decoding) for q in queries]
    answers = ask(endpoint, requests, cache, show_progress=show_progress)
    failures = [a.error or "failed" for a in answers if a.text is None]
    decided = judge.decide(stage, queries, answers)
    record = {
        "model": endpoint.model,
        "prompt": system.get("prompt"),
        "prompt_version": system.get("prompt_version"),
        "decoding": decoding,
        "position_bias": judge.BOTH_ORDERS_NOTE if adapter.both_orders else None,
        "requests": len(requests),
        **answer_provenance(endpoint, answers),
        "unparsed": decided.unparsed,
        "prompt_tokens": sum(a.prompt_tokens for a in answers),
        "completion_tokens": sum(a.completion_tokens for a in answers),
        "raw_answers": RAW_ANSWERS_FILE,
    }
    return Outcome(
        decided.predictions,
        {k: v for k, v in record.items() if v is not None},
        raw=decided.raw,
        failures=failures,
    )


NONE_CONTACTED = "none (every answer came from the cache)"
MAX_ENDPOINTS_LISTED = 50


def answer_provenance(endpoint: Any, answers: Sequence[Any]) -> dict[str, Any]:
    """Where a run's answers came from: the endpoint it contacted (its URL without credentials,
    or NONE_CONTACTED), how many answers the cache gave, and which endpoint first answered
    each ("unknown" for cache entries from before endpoints were recorded)."""
    contacted = any(not answer.cached for answer in answers)
    answered_by: dict[str, int] = {}
    for answer in answers:
        if answer.text is not None:
            answered_by[answer.endpoint] = answered_by.get(answer.endpoint, 0) + 1
    ranked = sorted(answered_by.items(), key=lambda item: (-item[1], item[0]))
    if len(ranked) > MAX_ENDPOINTS_LISTED:  # the metadata schema's bound
        rest = sum(count for _, count in ranked[MAX_ENDPOINTS_LISTED - 1 :])
        ranked = [*ranked[: MAX_ENDPOINTS_LISTED - 1], ("other endpoints", rest)]
    return {
        "endpoint_contacted": endpoint.public_url if contacted else NONE_CONTACTED,
        "answers_from_cache": sum(answer.cached for answer in answers),
        "first_answered_by": dict(sorted(ranked)),
    }


@register_kind(
    LLM_JUDGE,
    fields=("model", "prompt", "prompt_version", "prompt_max_chars", "decoding", "position_bias"),
    extra="run",
    metadata_type="zero-shot LLM",
    fitted=False,
    summary="a zero-shot LLM judge over any OpenAI-compatible endpoint",
)
def run_judge_kind(
    system: System, rows: list[dict], splits: list[str], context: Context
) -> Outcome:
    """`run_judge` as a registered kind."""
    return run_judge(
        system,
        context.stage,
        rows,
        context.endpoint,
        context.cache,
        context.conversations,
        context.show_progress,
    )


def run_system(
    system: System,
    reference: Reference,
    splits: Sequence[str],
    endpoint: Any = None,
    cache: Any = None,
    conversations: Sequence[Mapping[str, Any]] = (),
    show_progress: bool = True,
) -> Outcome:
    """Run `system` over its stage's rows of `splits`; the record gains the system's name."""
    kind = get_kind(system.kind)
    rows, row_splits = stage_rows(reference, system.stage, splits)
    context = Context(system.stage, endpoint, cache, conversations, show_progress)
    if not kind.fitted:
        outcome = kind.run(system, rows, row_splits, context)
    else:
        if system.stage != PAIR_STAGE:
            raise UserError(
                f"{system.source}: stage: a {system.kind} system runs on {PAIR_STAGE} only"
            )
        missing = set(system.trained_on) - set(splits)
        if missing:
            raise UserError(f"--splits: {system.name} needs the {', '.join(sorted(missing))} split")
        outcome = kind.run(system, rows, row_splits, context)
        if system.choose_by == "grouped-cv":
            outcome.record["choose_by"] = system.choose_by
        else:
            outcome.record.update({"fit_on": system.fit_on, "choose_on": system.choose_on})
    outcome.record = {"system": system.name, "kind": system.kind, **outcome.record}
    return outcome
