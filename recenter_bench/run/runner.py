"""Run one system over one stage of a dataset: its predictions, raw answers and run record.

`run_system` takes the stage's rows of the asked splits, checks a fitted system has its
fitting splits, and hands the rows to the kind's run function (the system's `spec`, resolved
when the file was read); the LLM judge kind is registered here, the retrieval kinds in
`run.retrieval`, the trained ones in `run.trained`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from recenter_bench.errors import UserError
from recenter_bench.review import ID_FIELD, RAW_ANSWERS_FILE, Reference
from recenter_bench.run.judge import JUDGE_STAGES
from recenter_bench.run.kinds import register_kind
from recenter_bench.run.records import Context, Outcome, System
from recenter_bench.run.systems import LLM_JUDGE, read_prompt

SPLIT_ORDER = ("train", "validation", "test")
# The fitted kinds score a prompt against an attribute and learn from a yes/no label of the
# pair: that is the shape of this one stage's rows (a fact of these kinds, not of the stage).
PAIR_STAGE = "pairing"
# What an answer without a readable decision counts as, per stage (the judge's adapters say).
UNPARSED_DEFAULT = {stage: adapter.unparsed for stage, adapter in JUDGE_STAGES.items()}


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
    kind = system.spec
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
