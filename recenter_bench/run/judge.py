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

from recenter_bench.run.llm import Answer
from recenter_bench.run.parse import parse_rating, parse_relevance, parse_verdict
from recenter_bench.submissions import ID_FIELD

MAX_MESSAGES_CHARS = 8000
NO_MESSAGES = "(none of this user's messages are included in this dataset)"
# Stage 3 sends each pair of responses in both orders; the label says where the personalized
# response stands, and the mapping turns a rating of B over A into the benchmark's scale.
ORDERS: dict[str, Callable[[int], int]] = {
    "personalized-as-B": lambda r: r,
    "personalized-as-A": lambda r: 6 - r,
}


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


def chat_request(query: Query, model: str, decoding: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a chat completion request: one user message, no system message."""
    return {"model": model, "messages": [{"role": "user", "content": query.content}], **decoding}


@dataclass
class Decisions:
    """What a stage's answers add up to: prediction rows, raw-answer rows, unreadable count."""

    predictions: list[dict[str, Any]]
    raw: list[dict[str, Any]]
    unparsed: int


def decide(stage: str, queries: Sequence[Query], answers: Sequence[Answer]) -> Decisions:
    """Parse every answer and turn the parses into the stage's prediction rows (sorted by ID)."""
    id_field = ID_FIELD[stage]
    parser = {
        "pairing": parse_relevance,
        "extraction": parse_verdict,
        "response_quality": parse_rating,
    }[stage]
    parsed_by_row: dict[str, list[Any]] = {}
    raw, unparsed = [], 0
    for query, answer in zip(queries, answers, strict=True):
        text = answer.text or ""
        parsed = parser(text)
        unparsed += parsed is None
        if stage == "response_quality" and parsed is not None:
            parsed = ORDERS[query.order](parsed)
        parsed_by_row.setdefault(query.row_id, []).append(parsed)
        record = {id_field: query.row_id}
        if query.order:
            record["order"] = query.order
        raw.append({**record, "answer": text, "decision": parsed})
    predictions = []
    for row_id, values in sorted(parsed_by_row.items()):
        if stage == "pairing":
            predictions.append({id_field: row_id, "relevant": values[0] is True})
        elif stage == "extraction":
            predictions.append({id_field: row_id, "problematic": values[0] is True})
        else:
            read = [v for v in values if v is not None]
            rating = sum(read) / len(read) if read else 3.0
            predictions.append({id_field: row_id, "rating": float(rating)})
    return Decisions(predictions, raw, unparsed)
