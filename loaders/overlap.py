"""How much of the held-out pairing splits the train split already shows.

The splits are by prompt, and each user's whole profile is paired with every one of their
prompts, so a held-out pair's attribute (and its user) often occurs in train: a model can score
well on such pairs without reading the prompt. `split_overlap` measures it from the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

HELD_OUT = ("validation", "test")


def split_overlap(
    pairing: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, dict[str, float | int]]:
    """For validation and test: their pairs, and the share of them whose attribute text, and
    whose user, occur in train."""
    train = pairing.get("train", [])
    attributes = {row["attribute"] for row in train}
    users = {row["user_id"] for row in train}
    facts: dict[str, dict[str, float | int]] = {}
    for split in HELD_OUT:
        rows = pairing.get(split, [])
        if not rows:
            continue
        facts[split] = {
            "pairs": len(rows),
            "attribute_in_train": sum(r["attribute"] in attributes for r in rows) / len(rows),
            "user_in_train": sum(r["user_id"] in users for r in rows) / len(rows),
        }
    return facts


def overlap_lines(facts: Mapping[str, Mapping[str, float | int]]) -> list[str]:
    """The facts as sentences (the dataset card's and `recenter analyze`'s wording)."""
    return [
        f"{split}: {f['attribute_in_train']:.1%} of its {f['pairs']:,} pairs have an attribute "
        f"that occurs in train, {f['user_in_train']:.1%} a user that occurs in train"
        for split, f in facts.items()
    ]
