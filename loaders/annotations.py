"""The annotators' final exports -> per-unit judgments under stable pseudonyms.

Annotator file names are personal identifiers (first names, crowd-worker IDs). They are read
here and replaced by `annotator_1`, `annotator_2`, ... before any row is made; nothing else in
the loader ever sees a name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from recenter_bench.errors import UserError, where
from recenter_bench.loaders.release import (
    STAGE1_LABELS,
    AnnotationFile,
    Release,
    Stage1Item,
    Stage2Item,
    Stage3Item,
    annotator_key,
    need,
    need_objects,
)

# Stage 3 export lines may say on which side the personalized response was shown; the tool's
# scale runs 1 = prefer the left (A) response ... 5 = prefer the right (B) one, and the dataset
# always means 1 = prefer generic, so a personalized-as-A line is mirrored (r -> 6 - r).
PERSONALIZED_SIDE_FIELD = "personalized_position"


def pseudonyms(names: Iterable[str]) -> dict[str, str]:
    """annotator key -> `annotator_<n>`, the same for one person across the three stages.

    Numbers follow the order of a hash of the name rather than the name itself, so the
    pseudonyms do not even leak the alphabetical order of the real names.
    """
    keys = sorted(
        {annotator_key(n) for n in names},
        key=lambda k: hashlib.sha256(k.encode("utf-8")).hexdigest(),
    )
    return {key: f"annotator_{number}" for number, key in enumerate(keys, start=1)}


@dataclass
class Judgments:
    """Every stage's judgments, keyed by the unit they judge, as (pseudonym, value) lists."""

    stage1: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    stage2: dict[tuple[str, int, str], list[tuple[str, bool]]] = field(default_factory=dict)
    stage3: dict[tuple[str, int, str, str], list[tuple[str, int]]] = field(default_factory=dict)
    annotators: dict[str, int] = field(default_factory=dict)  # stage config -> how many


def _latest_lines(export: AnnotationFile) -> dict[int, tuple[int, dict[str, Any]]]:
    """item index -> the annotator's last line for it (the tool appends when a judgment is
    re-saved, so the last line is the annotator's final answer)."""
    latest: dict[int, tuple[int, dict[str, Any]]] = {}
    for line, record in export.lines:
        latest[need(record, "index", "int", export.path, line)] = (line, record)
    return latest


def _item(items: dict[int, Any], index: int, export: AnnotationFile, line: int) -> Any:
    if index not in items:
        raise UserError(
            f"{where(export.path, line, 'index')}: no task{export.task} item has index {index}"
        )
    return items[index]


def _check_same(record: dict[str, Any], key: str, expected: Any, path: Any, line: int) -> None:
    if key in record and record[key] != expected:
        raise UserError(
            f"{where(path, line, key)}: {record[key]!r:.60} does not match the item's "
            f"{expected!r:.60}"
        )


def _one_per_attribute(
    record: dict[str, Any],
    key: str,
    what: str,
    item: Stage1Item | Stage2Item,
    export: AnnotationFile,
    line: int,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The judgment objects of `record[key]` with their field prefixes; there must be one per
    attribute of the item (`what` names the attributes in the error)."""
    judged = len(need(record, key, "list", export.path, line))
    if judged != len(item.attributes):
        raise UserError(
            f"{where(export.path, line, key)}: {judged} judgments for "
            f"{len(item.attributes)} {what} of item {item.item_index}"
        )
    return need_objects(record, key, export.path, line)


def _stage1(export: AnnotationFile, items: dict[int, Stage1Item], who: str, out: Judgments):
    for index, (line, record) in sorted(_latest_lines(export).items()):
        item = _item(items, index, export, line)
        judgments = _one_per_attribute(record, "attr_judgments", "attributes", item, export, line)
        for (name, judgment), attribute in zip(judgments, item.attributes, strict=True):
            value = need(judgment, "judgment", "str", export.path, line, name)
            if value not in STAGE1_LABELS:
                raise UserError(
                    f"{where(export.path, line, name + 'judgment')}: unknown label value "
                    f"{value!r:.40} (expected one of {', '.join(STAGE1_LABELS)})"
                )
            key = (item.user_id, attribute.attribute)
            out.stage1.setdefault(key, []).append((who, STAGE1_LABELS[value]))


def _stage2(export: AnnotationFile, items: dict[int, Stage2Item], who: str, out: Judgments):
    for index, (line, record) in sorted(_latest_lines(export).items()):
        item = _item(items, index, export, line)
        _check_same(record, "user_id", item.user_id, export.path, line)
        _check_same(record, "prompt_index", item.prompt_index, export.path, line)
        judgments = _one_per_attribute(
            record, "relevance_judgments", "profile attributes", item, export, line
        )
        profile = {a.attribute for a in item.attributes}
        seen: set[str] = set()
        for name, judgment in judgments:
            attribute = need(judgment, "attribute", "str", export.path, line, name)
            if attribute not in profile or attribute in seen:
                problem = "judged twice" if attribute in seen else "not in the item's profile"
                raise UserError(
                    f"{where(export.path, line, name + 'attribute')}: {problem}: {attribute!r:.60}"
                )
            seen.add(attribute)
            value = judgment.get("relevant")
            if not isinstance(value, bool):
                raise UserError(
                    f"{where(export.path, line, name + 'relevant')}: unknown label value "
                    f"{value!r:.40} (expected true or false)"
                )
            key = (item.user_id, item.prompt_index, attribute)
            out.stage2.setdefault(key, []).append((who, value))


def _stage3(export: AnnotationFile, items: dict[int, Stage3Item], who: str, out: Judgments):
    latest: dict[int, tuple[int, dict[str, Any]]] = {}
    for line, record in export.lines:
        # `index` is the annotator's queue position; `item_index` names the task6 item.
        latest[need(record, "item_index", "int", export.path, line)] = (line, record)
    for index, (line, record) in sorted(latest.items()):
        item = _item(items, index, export, line)
        _check_same(record, "user_id", item.user_id, export.path, line)
        _check_same(record, "model_tag", item.generator, export.path, line)
        _check_same(record, "prompt_id", f"{item.user_id}_{item.prompt_index}", export.path, line)
        ratings = need(record, "ratings", "dict", export.path, line)
        relevant = [attribute for attribute, is_relevant in item.relevance if is_relevant]
        if len(ratings) != len(relevant):
            raise UserError(
                f"{where(export.path, line, 'ratings')}: {len(ratings)} ratings for "
                f"{len(relevant)} relevant attributes of item {index}"
            )
        side = record.get(PERSONALIZED_SIDE_FIELD, "B")
        if side not in ("A", "B"):
            raise UserError(
                f"{where(export.path, line, PERSONALIZED_SIDE_FIELD)}: unknown value "
                f"{side!r:.20} (expected 'A' or 'B')"
            )
        for attribute, rating in ratings.items():
            name = f"ratings[{attribute!r:.50}]"
            if attribute not in relevant:
                raise UserError(
                    f"{where(export.path, line, name)}: not a relevant attribute of item {index}"
                )
            if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
                raise UserError(
                    f"{where(export.path, line, name)}: unknown label value {rating!r:.20} "
                    "(expected an integer 1..5)"
                )
            value = 6 - rating if side == "A" else rating
            key = (item.user_id, item.prompt_index, item.generator, attribute)
            out.stage3.setdefault(key, []).append((who, value))


def read_judgments(release: Release) -> Judgments:
    """Every annotator's judgment of every unit, under pseudonyms, sorted by pseudonym."""
    exports = release.annotations
    names = pseudonyms(export.name for files in exports.values() for export in files)
    out = Judgments()
    readers = (
        ("4", "extraction", _stage1, {item.item_index: item for item in release.stage1}),
        ("5", "pairing", _stage2, {item.item_index: item for item in release.stage2}),
        ("6", "response_quality", _stage3, {item.item_index: item for item in release.stage3}),
    )
    for task, config, reader, items in readers:
        for export in exports.get(task, []):
            reader(export, items, names[annotator_key(export.name)], out)
        out.annotators[config] = len(exports.get(task, []))
    for table in (out.stage1, out.stage2, out.stage3):
        for votes in table.values():
            votes.sort(key=lambda vote: int(vote[0].rsplit("_", 1)[1]))
    return out
