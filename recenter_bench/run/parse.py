"""Reading a judge's decision out of its free-text answer, one parser per stage.

Stage 2 follows the order of rules the paper's judge script applies (listed in
`../shared/protocol/README.md`; this code is the project's own): the first rule that matches
wins, and an answer with no decision is counted as NO. Stages 1 and 3 read the answer formats
that the project's own prompts ask for (`prompts/stage1-verify-v1.txt`,
`prompts/stage3-compare-v1.txt`). Every parser returns None when it finds nothing, so the caller
can count the answers it could not read before applying the stage's default.

`decide` turns a run's answers into prediction rows: the step after the endpoint, so a judge's
run enters this module last (`recenter run` reads as one pass, tests/test_run_flow.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    BINARY,
    stage_record,
)

THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
THINK_UNCLOSED = re.compile(r"<think>.*\Z", re.DOTALL | re.IGNORECASE)
LEADING_FENCE = re.compile(r"\A\s*```[A-Za-z0-9_-]*[ \t]*\n(.*?)\n?```", re.DOTALL)
ANSWER_LINE = re.compile(r"answer\s*:\s*\**\s*(yes|no)\b", re.IGNORECASE)
BOXED_YES_NO = re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*(yes|no)\s*\}?\s*\}", re.IGNORECASE)
JSON_OBJECT = re.compile(r"\{[^{}]*\}")
KEY_VALUE = re.compile(
    r"[\"']?(relevant|answer|decision)[\"']?\s*[:=]\s*[\"']?(yes|no|true|false|1|0)\b",
    re.IGNORECASE,
)
BOLD_YES_NO = re.compile(r"\*\*\s*(yes|no)\s*\*\*", re.IGNORECASE)
WORD_YES_NO = re.compile(r"\b(yes|no)\b", re.IGNORECASE)
DECISION_KEYS = ("relevant", "answer", "decision")
TRUE_WORDS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def strip_reasoning(text: str) -> str:
    """The answer without `<think>` blocks (an unclosed one runs to the end), and the inside of
    a fenced code block it starts with.

    >>> strip_reasoning("<think>maybe YES</think>```\\nAnswer: NO\\n```")
    'Answer: NO'
    """
    text = THINK_UNCLOSED.sub("", THINK_BLOCK.sub("", text))
    fenced = LEADING_FENCE.match(text)
    return fenced.group(1) if fenced else text


def _first_rule(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    """The last match (lower-cased) of the first pattern that matches at all: rules in order."""
    for pattern in patterns:
        found = pattern.findall(text)
        if found:
            return found[-1].lower()
    return None


def _json_decision(text: str) -> bool | None:
    """A decision key in a JSON object of the text, or such a key-value pair anywhere in it."""
    for candidate in reversed(JSON_OBJECT.findall(text)):
        try:
            document = json.loads(candidate)
        except ValueError:
            continue
        if not isinstance(document, dict):
            continue
        for key in DECISION_KEYS:
            value = document.get(key)
            if isinstance(value, bool):
                return value
            if isinstance(value, int | str) and str(value).strip().lower() in TRUE_WORDS:
                return TRUE_WORDS[str(value).strip().lower()]
    pair = KEY_VALUE.findall(text)
    return TRUE_WORDS[pair[-1][1].lower()] if pair else None


def parse_relevance(answer: str) -> bool | None:
    """Stage 2: True (YES, relevant), False (NO) or None (no decision found).

    >>> parse_relevance("It would change the tone.\\n\\nAnswer: YES")
    True
    >>> parse_relevance("<think>Answer: YES</think>The final call: \\\\boxed{NO}")
    False
    >>> parse_relevance('{"relevant": false, "why": "no effect"}')
    False
    >>> parse_relevance("**NO** - the answer would be the same. Yes, really.")
    False
    >>> parse_relevance("I cannot tell.") is None
    True
    """
    text = strip_reasoning(answer)
    word = _first_rule((ANSWER_LINE, BOXED_YES_NO), text)
    if word is not None:
        return word == "yes"
    decision = _json_decision(text)
    if decision is not None:
        return decision
    word = _first_rule((BOLD_YES_NO, WORD_YES_NO), text)
    return None if word is None else word == "yes"


BOXED_VERDICT = re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*(accepted|rejected)\s*\}?\s*\}", re.I)
VERDICT_LINE = re.compile(r"verdict\s*:\s*\**\s*(accepted|rejected)\b", re.IGNORECASE)


def parse_verdict(answer: str) -> bool | None:
    """Stage 1: True (rejected: the attribute is problematic), False (accepted) or None.

    >>> parse_verdict("The messages never mention dogs. \\\\boxed{rejected}")
    True
    >>> parse_verdict("Verdict: accepted") is False
    True
    """
    word = _first_rule((BOXED_VERDICT, VERDICT_LINE), strip_reasoning(answer))
    return None if word is None else word == "rejected"


RATING_LINE = re.compile(r"rating\s*:\s*\**\s*([1-5])\b", re.IGNORECASE)
BOXED_RATING = re.compile(r"\\boxed\{\s*([1-5])\s*\}")


def parse_rating(answer: str) -> int | None:
    """Stage 3: the 1-5 rating the answer ends with (`Rating: N` or `\\boxed{N}`), or None.

    >>> parse_rating("B is more specific.\\nRating: 4")
    4
    >>> parse_rating("Rating: 7") is None
    True
    """
    word = _first_rule((RATING_LINE, BOXED_RATING), strip_reasoning(answer))
    return None if word is None else int(word)


# Stage 3 sends each pair of responses in both orders; the label says where the personalized
# response stands, and the mapping turns a rating of B over A into the benchmark's scale.
ORDERS: dict[str, Callable[[int], int]] = {
    "personalized-as-B": lambda r: r,
    "personalized-as-A": lambda r: 6 - r,
}


@dataclass
class Decisions:
    """What a stage's answers add up to: prediction rows, raw-answer rows, unreadable count."""

    predictions: list[dict[str, Any]]
    raw: list[dict[str, Any]]
    unparsed: int


def decide(
    stage: str, queries: Sequence[Any], answers: Sequence[Any], parser: Callable[[str], Any]
) -> Decisions:
    """Parse every answer with `parser` (the stage's, `judge.JUDGE_STAGES`) and turn the parses
    into the stage's prediction rows (sorted by ID): a binary stage's first answer decides (no
    decision = False); a rating stage's readable ratings are averaged, 3 (no preference) when
    none is. `queries` are `judge.Query`s, `answers` `llm.Answer`s."""
    record = stage_record(stage)
    id_field = record.id_field
    parsed_by_row: dict[str, list[Any]] = {}
    raw, unparsed = [], 0
    for query, answer in zip(queries, answers, strict=True):
        text = answer.text or ""
        parsed = parser(text)
        unparsed += parsed is None
        if query.order and parsed is not None:
            parsed = ORDERS[query.order](parsed)
        parsed_by_row.setdefault(query.row_id, []).append(parsed)
        raw_row = {id_field: query.row_id}
        if query.order:
            raw_row["order"] = query.order
        raw.append({**raw_row, "answer": text, "decision": parsed})
    predictions = []
    for row_id, values in sorted(parsed_by_row.items()):
        if record.kind == BINARY:
            predictions.append({id_field: row_id, record.prediction_field: values[0] is True})
        else:
            read = [v for v in values if v is not None]
            rating = sum(read) / len(read) if read else 3.0
            predictions.append({id_field: row_id, record.prediction_field: float(rating)})
    return Decisions(predictions, raw, unparsed)
