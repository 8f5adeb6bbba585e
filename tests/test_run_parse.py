"""The answer parsers of `recenter run`: the paper's Stage-2 rules in order, checked on every
answer the authors recorded, and the project's Stage-1 and Stage-3 formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recenter_bench.run.parse import parse_rating, parse_relevance, parse_verdict


@pytest.mark.parametrize("votes", ["gpt-5.4", "google_gemma-4-31b-it"])
def test_every_recorded_answer_parses_to_the_authors_decision(
    preview_release: Path, votes: str
) -> None:
    path = preview_release / "data" / "relevance_task5" / f"{votes}.jsonl"
    items = [i for line in path.open() for i in json.loads(line)["items"]]
    assert len(items) == 3973
    assert [parse_relevance(i["full_output"]) for i in items] == [i["relevant"] for i in items]


@pytest.mark.parametrize(
    "answer, decision",
    [
        # 1. reasoning removed first, a leading fence unwrapped
        ("<think>Answer: YES</think>Answer: NO", False),
        ("<THINK>Answer: NO</think>\nanswer:yes", True),
        ("Answer: NO <think> but maybe Answer: YES", False),  # unclosed: dropped to the end
        ("```\nAnswer: YES\n```", True),
        ('```json\n{"relevant": false}\n```', False),
        # 2. the last Answer: line wins over everything later in the order
        ("Answer: YES ... on reflection Answer: NO. \\boxed{YES}", False),
        ("Answer: **YES**", True),
        # 3. \boxed{} when there is no Answer: line
        ("So \\boxed{NO} then \\boxed{YES}", True),
        ("\\boxed{\\text{NO}}", False),
        # 4. a JSON decision key, or such a pair inside the text
        ('{"decision": "yes", "reason": "tone"}', True),
        ('{"answer": 0}', False),
        ("relevant: true, because it changes the examples", True),
        # 5. bold before a bare word; 6. the last bare word
        ("**NO**, yes it is close", False),
        ("Yes, maybe. No.", False),
        ("It is yesterday's news", None),  # 'yes' inside a word is not a decision
        # 7. nothing found
        ("", None),
        ("I cannot decide.", None),
    ],
)
def test_relevance_rules_in_order(answer: str, decision: bool | None) -> None:
    assert parse_relevance(answer) is decision


@pytest.mark.parametrize(
    "answer, problematic",
    [
        ("\\boxed{rejected}", True),
        ("\\boxed{accepted} ... \\boxed{rejected}", True),
        ("<think>\\boxed{rejected}</think>\\boxed{accepted}", False),
        ("Verdict: ACCEPTED", False),
        ("It is rejected.", None),
    ],
)
def test_verdicts(answer: str, problematic: bool | None) -> None:
    assert parse_verdict(answer) is problematic


@pytest.mark.parametrize(
    "answer, rating",
    [
        ("Rating: 5", 5),
        ("rating:2\nRating: 4", 4),
        ("\\boxed{1}", 1),
        ("Rating: 0", None),
        ("", None),
    ],
)
def test_ratings(answer: str, rating: int | None) -> None:
    assert parse_rating(answer) == rating
