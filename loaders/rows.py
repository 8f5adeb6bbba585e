"""A read release plus its judgments -> the four configs' rows, split, with no ID clashes.

Rows are ordered by content (user, prompt, position in the item) rather than by file line, so
shuffling the export files changes nothing in the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError, where
from recenter_bench.loaders import ids
from recenter_bench.loaders.annotations import Judgments
from recenter_bench.loaders.release import Release

Row = dict[str, Any]


@dataclass
class Rows:
    """Every config's rows by split, plus what the build summary reports about them."""

    splits: dict[str, dict[str, list[Row]]] = field(default_factory=dict)
    pairs_left_out: list[str] = field(default_factory=list)  # "user_id / lima-NN / attribute"
    majority_disagreements: int = 0  # pairs whose votes disagree with the published majority


class _Registry:
    """Remembers where each ID came from, so a clash names both places."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.origin: dict[str, str] = {}

    def add(self, value: str, path: Path, line: int | None, field_name: str) -> None:
        here = where(path, line, field_name)
        if value in self.origin:
            raise UserError(
                f"{here}: ID clash: {self.kind} {value} was already made from {self.origin[value]}"
            )
        self.origin[value] = where(path.name, line)


def _conversation_ids(release: Release) -> dict[str, list[str]]:
    """user_id -> the user's conversation IDs in the order the evidence's `conv_idx` counts."""
    out = {}
    for item in release.stage1:
        if item.conversations:
            out[item.user_id] = [c.conversation_hash for c in item.conversations]
        else:
            out[item.user_id] = list(release.wildchat_hashes.get(item.user_id, []))
    return out


def conversation_rows(release: Release) -> list[Row]:
    """One row per conversation of a Stage-1 user (the paper's 550 conversations)."""
    registry = _Registry("conversation_id")
    rows = []
    for item in sorted(release.stage1, key=lambda i: i.user_id):
        if item.conversations:
            for i, conversation in enumerate(item.conversations):
                registry.add(
                    conversation.conversation_hash,
                    item.path,
                    item.line,
                    f"conversations[{i}].conversation_hash",
                )
                rows.append(
                    {
                        "conversation_id": conversation.conversation_hash,
                        "user_id": item.user_id,
                        "source": item.source,
                        "turns": [{"role": r, "content": c} for r, c in conversation.turns],
                        "text_included": True,
                    }
                )
            continue
        # WildChat text is not in the export: the index's hashes are the references, and the
        # index repeats a few hashes, which are one conversation each.
        for conversation_hash in dict.fromkeys(release.wildchat_hashes.get(item.user_id, [])):
            registry.add(conversation_hash, item.path, item.line, "user_id")
            rows.append(
                {
                    "conversation_id": conversation_hash,
                    "user_id": item.user_id,
                    "source": item.source,
                    "turns": [],
                    "text_included": False,
                }
            )
    return rows


def _evidence(release: Release, conversations: dict[str, list[str]]) -> dict[tuple[str, str], list]:
    """(user_id, attribute) -> [{conversation_id, turn_idxs}] from the evidence cache."""
    out: dict[tuple[str, str], list] = {}
    for item in release.stage1:
        found = release.evidence.get((item.source, item.user_id))
        if found is None:
            continue
        path, line, evidence = found
        if len(evidence) != len(item.attributes):
            raise UserError(
                f"{where(path, line, 'evidence')}: {len(evidence)} evidence entries for "
                f"{len(item.attributes)} merged attributes of user {item.user_id}"
            )
        known = conversations[item.user_id]
        for i, (entry, attribute) in enumerate(zip(evidence, item.attributes, strict=True)):
            # The cache writes conv_idx null or -1 (with no turns) when the extractor found no
            # supporting conversation: such an attribute simply has no evidence.
            if entry.get("conv_idx") is None or (
                entry["conv_idx"] == -1 and not entry["turn_idxs"]
            ):
                continue
            if not 0 <= entry["conv_idx"] < len(known):
                raise UserError(
                    f"{where(path, line, f'evidence[{i}].conv_idx')}: {entry['conv_idx']} is "
                    f"out of range: the user has {len(known)} conversations"
                )
            pointer = {
                "conversation_id": known[entry["conv_idx"]],
                "turn_idxs": list(entry["turn_idxs"]),
            }
            out[(item.user_id, attribute.attribute)] = [pointer]
    return out


def extraction_rows(release: Release, judgments: Judgments) -> list[Row]:
    """Stage 1: one row per (user, merged attribute)."""
    evidence = _evidence(release, _conversation_ids(release))
    registry = _Registry("attribute_id")
    rows = []
    for item in sorted(release.stage1, key=lambda i: i.user_id):
        for i, attribute in enumerate(item.attributes):
            key = (item.user_id, attribute.attribute)
            aid = ids.attribute_id(item.user_id, attribute.attribute)
            registry.add(aid, item.path, item.line, f"merged_attributes[{i}].attribute")
            votes = judgments.stage1.get(key, [])
            accept = sum(label == "accepted" for _, label in votes) if votes else None
            rows.append(
                {
                    "attribute_id": aid,
                    "user_id": item.user_id,
                    "source": item.source,
                    "attribute": attribute.attribute,
                    "reason": attribute.reason,
                    "confidence": attribute.confidence,
                    "evidence": evidence.get(key, []),
                    "judgments": [{"annotator": a, "label": label} for a, label in votes],
                    "accept_votes": accept,
                    # A strict majority must accept; a tie or "uncertain" majority is a problem.
                    "label": None
                    if accept is None
                    else ("accepted" if 2 * accept > len(votes) else "problematic"),
                }
            )
    return rows


def pairing_rows(release: Release, judgments: Judgments, result: Rows) -> list[Row]:
    """Stage 2: one row per labelled (user, prompt, attribute); unlabelled pairs left out."""
    registry = _Registry("pair_id")
    rows = []
    for item in sorted(release.stage2, key=lambda i: (i.prompt_index, i.user_id)):
        for i, attribute in enumerate(item.attributes):
            key = (item.user_id, item.prompt_index, attribute.attribute)
            pid = ids.pair_id(*key)
            registry.add(pid, item.path, item.line, f"profile_attributes[{i}].attribute")
            votes = judgments.stage2.get(key, [])
            published = release.ground_truth.get(key)
            if votes:
                yes = sum(vote for _, vote in votes)
                relevant = 2 * yes > len(votes)
                if published is not None and published != relevant:
                    result.majority_disagreements += 1
            elif published is not None:
                yes, relevant = None, published
            else:
                result.pairs_left_out.append(
                    f"{item.user_id} / {ids.prompt_id(item.prompt_index)} / {attribute.attribute}"
                )
                continue
            rows.append(
                {
                    "pair_id": pid,
                    "user_id": item.user_id,
                    "prompt_id": ids.prompt_id(item.prompt_index),
                    "prompt": item.prompt,
                    "attribute_id": ids.attribute_id(item.user_id, attribute.attribute),
                    "attribute": attribute.attribute,
                    "judgments": [{"annotator": a, "relevant": v} for a, v in votes],
                    "yes_votes": yes,
                    "relevant": relevant,
                }
            )
    return rows


def response_rows(release: Release, judgments: Judgments) -> list[Row]:
    """Stage 3: one row per (item, attribute that the Stage-2 majority marked relevant)."""
    registry = _Registry("rating_id")
    items = _Registry("item_id")
    rows = []
    order = sorted(release.stage3, key=lambda i: (i.prompt_index, i.user_id, i.generator))
    for item in order:
        iid = ids.item_id(item.user_id, item.prompt_index, item.generator)
        items.add(iid, item.path, item.line, "prompt_id")
        for i, (attribute, is_relevant) in enumerate(item.relevance):
            if not is_relevant:
                continue
            key = (item.user_id, item.prompt_index, item.generator, attribute)
            rid = ids.rating_id(*key)
            registry.add(rid, item.path, item.line, f"attributes[{i}].attribute")
            votes = judgments.stage3.get(key, [])
            rows.append(
                {
                    "rating_id": rid,
                    "item_id": iid,
                    "user_id": item.user_id,
                    "prompt_id": ids.prompt_id(item.prompt_index),
                    "prompt": item.prompt,
                    "generator": item.generator,
                    "attribute": attribute,
                    "response_generic": item.response_generic,
                    "response_personalized": item.response_personalized,
                    "ratings": [{"annotator": a, "rating": r} for a, r in votes],
                    "mean_rating": sum(r for _, r in votes) / len(votes) if votes else None,
                }
            )
    return rows


def _by_split(rows: list[Row], split_of) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {split: [] for split in ids.SPLITS}
    for row in rows:
        out[split_of(row)].append(row)
    return out


def _prompt_split(row: Row) -> str:
    return ids.split_of_prompt(int(row["prompt_id"].split("-")[1]))


def make_rows(release: Release, judgments: Judgments) -> Rows:
    """All four configs, split: conversations train only, extraction by user, the rest by prompt."""
    result = Rows()
    result.splits["conversations"] = {"train": conversation_rows(release)}
    result.splits["extraction"] = _by_split(
        extraction_rows(release, judgments), lambda row: ids.split_of_user(row["user_id"])
    )
    result.splits["pairing"] = _by_split(pairing_rows(release, judgments, result), _prompt_split)
    result.splits["response_quality"] = _by_split(response_rows(release, judgments), _prompt_split)
    return result
