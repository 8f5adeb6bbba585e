"""Stable, content-derived IDs and the split of every row.

An ID depends only on the content that identifies a unit (never on file order), so the same
release always yields the same IDs and a submission keyed by them stays valid across rebuilds.
"""

from __future__ import annotations

import hashlib
import json

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric

# The paper's held-out prompts (appendix F): Stage 2 and 3 are split by LIMA prompt index.
TEST_PROMPTS = frozenset(range(33, 38))
VALIDATION_PROMPTS = frozenset(range(38, 43))
SPLITS = metric.SPLITS


def _digest(*parts: object) -> str:
    payload = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def prompt_id(prompt_index: int) -> str:
    """`lima-07`: the LIMA prompt a pairing or response row is about."""
    return f"lima-{int(prompt_index):02d}"


def attribute_id(user_id: str, attribute: str) -> str:
    """One attribute of one user's profile; shared by the extraction and pairing configs."""
    return f"attr-{_digest(user_id, attribute)}"


def pair_id(user_id: str, prompt_index: int, attribute: str) -> str:
    """One (user, prompt, attribute) relevance question of Stage 2."""
    return f"pair-{_digest(user_id, int(prompt_index), attribute)}"


def item_id(user_id: str, prompt_index: int, generator: str) -> str:
    """One side-by-side Stage-3 item: a user's prompt answered by one generator."""
    return f"item-{_digest(user_id, int(prompt_index), generator)}"


def rating_id(user_id: str, prompt_index: int, generator: str, attribute: str) -> str:
    """One (item, relevant attribute) rating unit of Stage 3."""
    return f"rating-{_digest(user_id, int(prompt_index), generator, attribute)}"


def split_of_prompt(prompt_index: int) -> str:
    """The paper's prompt-level split, used by `pairing` and `response_quality`."""
    if prompt_index in TEST_PROMPTS:
        return "test"
    if prompt_index in VALIDATION_PROMPTS:
        return "validation"
    return "train"


def split_of_user(user_id: str) -> str:
    """A deterministic user-level split for `extraction`: 1/8 test, 1/8 validation, 6/8 train.

    The eighths mirror the prompt split's share (5 of 41 prompts each for test and validation).
    """
    bucket = int(hashlib.sha256(user_id.encode("utf-8")).hexdigest(), 16) % 8
    return {0: "test", 1: "validation"}.get(bucket, "train")
