"""The LLM judge: dataset rows -> chat requests -> answers -> predictions, for each stage.

- Stage 2 (`pairing`), the paper's protocol by default: one user message holding the template
  with `{attribute}` and `{prompt}` filled in (the prompt cut to its first 800 characters), no
  system message, temperature 0, up to 4,096 new tokens; an answer without a decision is NO.
- Stage 1 (`extraction`): the attribute and the user's own messages (the evidence turns when the
  dataset points to them, else every message of the user's conversations, up to a length cap);
  `\\boxed{rejected}` = problematic; an answer without a verdict counts as accepted.
- Stage 3 (`response_quality`): the generic and the personalized response side by side, sent
  twice, once with each as Response A, so that a judge's position bias cancels; each rating is
  mapped to the benchmark's scale (1 = prefer generic, 5 = prefer personalized) and the two are
  averaged; an unreadable rating is left out of the average, and 3 (no preference) stands in
  when neither order could be read.

Every answer is kept (the submission's raw answers file) and the answers that could not be read
are counted, never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recenter_bench.errors import UserError
from recenter_bench.review import RAW_ANSWERS_FILE
from recenter_bench.run import parse
from recenter_bench.run.cache import AnswerCache
from recenter_bench.run.kinds import register_kind
from recenter_bench.run.llm import Answer, answer_summary, ask
from recenter_bench.run.parse import ORDERS, Decisions, parse_rating, parse_relevance, parse_verdict
from recenter_bench.run.records import Context, Outcome, System
from recenter_bench.run.systems import LLM_JUDGE

MAX_MESSAGES_CHARS = 8000
NO_MESSAGES = "(none of this user's messages are included in this dataset)"


@dataclass(frozen=True)
class Query:
    """One request of a run: the row it is about, which order (Stage 3), and the message."""

    row_id: str
    order: str | None
    content: str


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with each `{name}` of `values` replaced in one pass (other braces, such as
    `\\boxed{accepted}`, and braces inside the values are left alone).

    >>> fill("A: {a} / {b} / \\\\boxed{x}", {"a": "{b}", "b": "2"})
    'A: {b} / 2 / \\\\boxed{x}'
    """
    pattern = re.compile("|".join(re.escape("{" + name + "}") for name in values))
    return pattern.sub(lambda m: values[m.group(0)[1:-1]], template)


def _cut(text: str, limit: int | None) -> str:
    return text if limit is None else text[:limit]


def pairing_queries(
    rows: Sequence[Mapping[str, Any]], template: str, prompt_max_chars: int | None
) -> list[Query]:
    return [
        Query(
            row["pair_id"],
            None,
            fill(
                template,
                {"attribute": row["attribute"], "prompt": _cut(row["prompt"], prompt_max_chars)},
            ),
        )
        for row in rows
    ]


def user_messages(
    row: Mapping[str, Any],
    conversations: Mapping[str, Sequence[Mapping[str, Any]]],
    by_user: Mapping[str, Sequence[str]],
) -> str:
    """The user's own messages behind an extracted attribute: its evidence turns when given,
    else every user turn of the user's conversations; numbered, cut to a length cap."""
    picked: list[str] = []
    for evidence in row.get("evidence") or []:
        turns = conversations.get(evidence["conversation_id"], [])
        picked += [
            turns[i]["content"]
            for i in evidence["turn_idxs"]
            if i < len(turns) and turns[i]["role"] == "user"
        ]
    if not picked:
        picked = [
            turn["content"]
            for conversation_id in by_user.get(row["user_id"], [])
            for turn in conversations.get(conversation_id, [])
            if turn["role"] == "user"
        ]
    if not picked:
        return NO_MESSAGES
    text = "\n".join(f"[{n}] {message}" for n, message in enumerate(picked, 1))
    return text[:MAX_MESSAGES_CHARS]


def extraction_queries(
    rows: Sequence[Mapping[str, Any]],
    template: str,
    conversation_rows: Sequence[Mapping[str, Any]],
) -> list[Query]:
    conversations = {c["conversation_id"]: c["turns"] for c in conversation_rows}
    by_user: dict[str, list[str]] = {}
    for conversation in conversation_rows:
        by_user.setdefault(conversation["user_id"], []).append(conversation["conversation_id"])
    return [
        Query(
            row["attribute_id"],
            None,
            fill(
                template,
                {
                    "messages": user_messages(row, conversations, by_user),
                    "attribute": row["attribute"],
                },
            ),
        )
        for row in rows
    ]


def response_quality_queries(rows: Sequence[Mapping[str, Any]], template: str) -> list[Query]:
    queries = []
    for row in rows:
        generic, personalized = row["response_generic"], row["response_personalized"]
        for order in ORDERS:
            a, b = (
                (generic, personalized) if order == "personalized-as-B" else (personalized, generic)
            )
            values = {
                "attribute": row["attribute"],
                "prompt": row["prompt"],
                "response_a": a,
                "response_b": b,
            }
            queries.append(Query(row["rating_id"], order, fill(template, values)))
    return queries


@dataclass(frozen=True)
class JudgeStage:
    """How the LLM judge asks about one stage's rows and reads its answers: the judge's own
    adapter of a stage, kept here rather than in the stage record because it is the judge's
    protocol (what a template's placeholders hold, which words are a decision), and the metric
    file that owns the records stays importable by `evaluate.load` without the runner. What the
    metric knows (ID field, prediction field, kind) is read from the record; which prompt file a
    system sends is its system file's `prompt`.

    - `queries(rows, template, system, conversations)`: the requests for the stage's rows
      (`system` gives its settings, such as `prompt_max_chars`).
    - `parse`: an answer's decision, or None when it has none.
    - `unparsed`: what an answer without a readable decision counts as (said in run metadata).
    - `input_field`: the row field a reader of a transcript sees as the sample's input.
    - `needs_conversations`: the queries quote the user's conversations (loaded for it).
    - `both_orders`: each row is sent in both `ORDERS` and the two ratings averaged.
    """

    queries: Callable[..., list[Query]]
    parse: Callable[[str], Any]
    unparsed: str
    input_field: str
    needs_conversations: bool = False
    both_orders: bool = False


# The judge's adapter of each stage, keyed by the stage record's name (the one table of the
# judge keyed by stage; tests/test_stage_records.py checks that it covers every record).
JUDGE_STAGES: Mapping[str, JudgeStage] = {
    "extraction": JudgeStage(
        queries=lambda rows, template, system, conversations: extraction_queries(
            rows, template, conversations
        ),
        parse=parse_verdict,
        unparsed="accepted (not problematic)",
        input_field="attribute",
        needs_conversations=True,
    ),
    "pairing": JudgeStage(
        queries=lambda rows, template, system, conversations: pairing_queries(
            rows, template, system.get("prompt_max_chars")
        ),
        parse=parse_relevance,
        unparsed="NO (not relevant), as the paper counts it",
        input_field="prompt",
    ),
    "response_quality": JudgeStage(
        queries=lambda rows, template, system, conversations: response_quality_queries(
            rows, template
        ),
        parse=parse_rating,
        unparsed="left out of the two orders' mean; 3 (no preference) if both are",
        input_field="prompt",
        both_orders=True,
    ),
}


# What run metadata says of position bias when a stage's rows are sent in both orders.
BOTH_ORDERS_NOTE = (
    "both orders: each pair of responses is judged with the personalized one as A and "
    "as B, and the two ratings (mapped to 1 = generic, 5 = personalized) are averaged"
)


def judge_stage(stage: str) -> JudgeStage:
    """The judge's adapter of `stage`; a stage it has none for is a one-line error."""
    if stage not in JUDGE_STAGES:
        raise UserError(
            f"stage {stage}: the LLM judge has no adapter for it (known: "
            f"{', '.join(JUDGE_STAGES)}); add one to recenter_bench/run/judge.py JUDGE_STAGES"
        )
    return JUDGE_STAGES[stage]


def chat_request(query: Query, model: str, decoding: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a chat completion request: one user message, no system message."""
    return {"model": model, "messages": [{"role": "user", "content": query.content}], **decoding}


def decide(stage: str, queries: Sequence[Query], answers: Sequence[Answer]) -> Decisions:
    """`parse.decide` with the stage's own parser (for readers of a single answer or a log)."""
    return parse.decide(stage, queries, answers, judge_stage(stage).parse)


@register_kind(
    LLM_JUDGE,
    fields=("model", "prompt", "prompt_version", "prompt_max_chars", "decoding", "position_bias"),
    required=("prompt",),
    extra="run",
    metadata_type="zero-shot LLM",
    fitted=False,
    summary="a zero-shot LLM judge over any OpenAI-compatible endpoint",
)
def run_judge(system: System, rows: list[dict], splits: list[str], context: Context) -> Outcome:
    """An LLM judge over an OpenAI-compatible endpoint, in one pass: the requests (here), the
    answers the cache holds (cache), the others from the endpoint (llm), the decisions (parse).
    A warm run never comes back to a module it left; a cold one writes each new answer to the
    cache as it arrives."""
    adapter = judge_stage(context.stage)
    queries = adapter.queries(rows, system.template, system, context.conversations)
    decoding = dict(system.get("decoding", {}))
    endpoint = context.endpoint
    requests = [chat_request(q, endpoint.model, decoding) for q in queries]
    cache = AnswerCache(context.cache_dir)
    looked_up = cache.look_up(requests)
    answers = ask(
        endpoint, requests, cache, show_progress=context.show_progress, looked_up=looked_up
    )
    summary = answer_summary(endpoint, answers)
    decided = parse.decide(context.stage, queries, answers, adapter.parse)
    record = {
        "model": endpoint.model,
        "prompt": system.get("prompt"),
        "prompt_version": system.get("prompt_version"),
        "decoding": decoding,
        "position_bias": BOTH_ORDERS_NOTE if adapter.both_orders else None,
        "requests": len(requests),
        **summary.provenance,
        "unparsed": decided.unparsed,
        "prompt_tokens": summary.prompt_tokens,
        "completion_tokens": summary.completion_tokens,
        "raw_answers": RAW_ANSWERS_FILE,
    }
    for key in list(record):  # a loop, not a comprehension: no step after this module's own
        if record[key] is None:
            del record[key]
    return Outcome(decided.predictions, record, raw=decided.raw, failures=summary.failures)
