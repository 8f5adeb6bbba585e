"""Read a release in the authors' annotation-tool export layout, checking every field it uses.

The layout (see the preview release's README) is read as the tool writes it:

    data/extracted/task4_items.jsonl      Stage-1 items: a user's attributes (+ conversations)
    data/attr_evidence_cache.jsonl        Stage-1 evidence pointers, aligned with the attributes
    data/indexes/convs_index.db           SQLite: the WildChat conversation hashes of each user
    data/extracted/task5_items.jsonl      Stage-2 items: (user, prompt) with the user's profile
    data/task6/eval_results_task5_gt_attributes_<model>.jsonl
                                          the published Stage-2 majority (`ground_truth`)
    data/extracted/task6_items.jsonl      Stage-3 items: generic vs personalized response
    data/annotations/<annotator>_task{4,5,6}.jsonl   final per-annotator exports (optional)

`data/annotations_v0/` (pilot rounds) is deliberately never read. Every problem is raised as a
`UserError` naming the file, the line and the field, before anything is written.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError, first_line, where
from recenter_bench.limits import too_deep
from recenter_bench.paths import load_schema

TASK4_ITEMS = Path("data/extracted/task4_items.jsonl")
TASK5_ITEMS = Path("data/extracted/task5_items.jsonl")
TASK6_ITEMS = Path("data/extracted/task6_items.jsonl")
EVIDENCE_CACHE = Path("data/attr_evidence_cache.jsonl")
CONVS_INDEX = Path("data/indexes/convs_index.db")
GROUND_TRUTH_GLOB = "data/task6/eval_results_task5_gt_attributes_*.jsonl"
ANNOTATIONS_DIR = Path("data/annotations")
ANNOTATION_FILE = re.compile(r"^(?P<name>.+)_task(?P<task>[456])\.jsonl$")

SOURCES = ("wildchat", "cupid", "prefeval", "personalens")
# The tool's Stage-1 buttons ("Makes sense" / "Maybe" / "Doesn't make sense") -> dataset labels.
STAGE1_LABELS = {"ok": "accepted", "unsure": "uncertain", "bad": "rejected"}


# Limits far above any real export (the largest preview file is 3.6 MB, its deepest line 5
# levels), checked before a file is parsed or its values are used; and the integers a column
# can hold.
MAX_FILE_BYTES = 1 << 30
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _parse_line(raw: bytes, path: Path, number: int) -> dict[str, Any] | None:
    """One line of a JSONL file -> its object (None for a blank line); a bad line is a
    `UserError`. Python's JSON parser is linear in the line's length and gives up past the
    recursion limit, so a hostile line costs no more than reading it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{where(path, number, 'json')}: not UTF-8 text (bad byte at column {error.start + 1})"
        ) from None
    if not text.strip():
        return None
    too_deep_error = UserError(
        f"{where(path, number, 'json')}: values nested more than {MAX_DEPTH} levels deep"
    )
    try:
        record = json.loads(text)
    except RecursionError:
        raise too_deep_error from None
    except ValueError as error:  # bad JSON, or an integer of more than 4,300 digits
        reason = getattr(error, "msg", None) or first_line(error)
        raise UserError(f"{where(path, number, 'json')}: malformed JSONL line ({reason})") from None
    if not isinstance(record, dict):
        raise UserError(f"{where(path, number, 'json')}: expected a JSON object per line")
    if too_deep(record, MAX_DEPTH):
        raise too_deep_error
    return record


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for every non-blank line; a bad line is a `UserError`."""
    if not path.is_file():
        raise UserError(f"{path}: missing file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(
            f"{path}: {size:,} bytes; a release file may have at most {MAX_FILE_BYTES:,}"
        )
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            record = _parse_line(raw, path, number)
            if record is not None:
                yield number, record


_KINDS: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "number": (int, float),
    "bool": bool,
    "list": list,
    "dict": dict,
}


def need(
    record: dict[str, Any], key: str, kind: str, path: Path, line: int, prefix: str = ""
) -> Any:
    """`record[key]`, checked to be of `kind` (str, int, number, bool, list, dict)."""
    name = f"{prefix}{key}"
    if key not in record:
        raise UserError(f"{where(path, line, name)}: missing field")
    value = record[key]
    # bool is an int in Python; a judgment of `true` where a number belongs is still wrong.
    wrong_bool = isinstance(value, bool) and kind in ("int", "number")
    if wrong_bool or not isinstance(value, _KINDS[kind]):
        raise UserError(
            f"{where(path, line, name)}: expected {kind}, got {type(value).__name__} {value!r:.40}"
        )
    # JSON numbers that no column can hold: NaN, Infinity, 1e999, integers past 64 bits.
    if kind == "int" and not INT64_MIN <= value <= INT64_MAX:
        raise UserError(f"{where(path, line, name)}: integer out of the 64-bit range")
    if kind == "number" and not _finite(value):
        raise UserError(f"{where(path, line, name)}: expected a finite number, got {value!r:.40}")
    return value


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def need_objects(
    record: dict[str, Any], key: str, path: Path, line: int, prefix: str = ""
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each element of the list `record[key]`, checked to be an object, with the prefix that
    names its own fields in errors (`key[i].`)."""
    for i, element in enumerate(need(record, key, "list", path, line, prefix)):
        name = f"{prefix}{key}[{i}]"
        if not isinstance(element, dict):
            raise UserError(f"{where(path, line, name)}: expected an object")
        yield f"{name}.", element


@dataclass(frozen=True)
class Attribute:
    attribute: str
    reason: str
    confidence: float


@dataclass(frozen=True)
class Conversation:
    conversation_hash: str
    turns: tuple[tuple[str, str], ...]


@dataclass
class Item:
    """The fields of every line of an items file; `path` and `line` locate it in errors."""

    path: Path
    line: int
    item_index: int
    user_id: str


def _item_fields(record: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "item_index": need(record, "item_index", "int", path, line),
        "user_id": need(record, "user_id", "str", path, line),
    }


@dataclass
class Stage1Item(Item):
    source: str
    attributes: list[Attribute]
    conversations: list[Conversation]


@dataclass
class Stage2Item(Item):
    prompt_index: int
    prompt: str
    attributes: list[Attribute]


@dataclass
class Stage3Item(Item):
    prompt_index: int
    generator: str
    prompt: str
    relevance: list[tuple[str, bool]]
    response_generic: str
    response_personalized: str


@dataclass
class AnnotationFile:
    """One annotator's export for one task: the original name never leaves the loader."""

    path: Path
    name: str
    task: str
    lines: list[tuple[int, dict[str, Any]]]


@dataclass
class Release:
    stage1: list[Stage1Item]
    # (source, user_id) -> (file, line, evidence entries), kept to name the line in errors
    evidence: dict[tuple[str, str], tuple[Path, int, list[dict[str, Any]]]]
    wildchat_hashes: dict[str, list[str]]  # user_id -> hashes, in the index's order
    stage2: list[Stage2Item]
    # (user_id, prompt_index, attribute) -> published majority (None = no label)
    ground_truth: dict[tuple[str, int, str], bool | None]
    stage3: list[Stage3Item]
    annotations: dict[str, list[AnnotationFile]]  # task ("4", "5", "6") -> export files


def _attributes(record: dict[str, Any], key: str, path: Path, line: int) -> list[Attribute]:
    out = []
    for prefix, raw in need_objects(record, key, path, line):
        confidence = need(raw, "confidence", "number", path, line, prefix)
        out.append(
            Attribute(
                attribute=need(raw, "attribute", "str", path, line, prefix),
                reason=need(raw, "reason", "str", path, line, prefix),
                confidence=float(confidence),
            )
        )
    return out


def _conversations(record: dict[str, Any], path: Path, line: int) -> list[Conversation]:
    out = []
    for prefix, raw in need_objects(record, "conversations", path, line):
        turns = tuple(
            (
                need(turn, "role", "str", path, line, turn_prefix),
                need(turn, "content", "str", path, line, turn_prefix),
            )
            for turn_prefix, turn in need_objects(raw, "conversation", path, line, prefix)
        )
        out.append(Conversation(need(raw, "conversation_hash", "str", path, line, prefix), turns))
    return out


def need_choice(
    record: dict[str, Any], key: str, choices: Sequence[str], what: str, path: Path, line: int
) -> str:
    """`record[key]`, a string that must be one of `choices`; `what` names it in the error."""
    value = need(record, key, "str", path, line)
    if value not in choices:
        raise UserError(
            f"{where(path, line, key)}: unknown {what} {value!r:.40} "
            f"(expected one of {', '.join(choices)})"
        )
    return value


def _source(record: dict[str, Any], path: Path, line: int) -> str:
    return need_choice(record, "source", SOURCES, "source", path, line)


def read_stage1(path: Path) -> list[Stage1Item]:
    return [
        Stage1Item(
            **_item_fields(record, path, line),
            source=_source(record, path, line),
            attributes=_attributes(record, "merged_attributes", path, line),
            conversations=_conversations(record, path, line),
        )
        for line, record in read_jsonl(path)
    ]


def read_evidence(path: Path) -> dict[tuple[str, str], tuple[Path, int, list[dict[str, Any]]]]:
    """(source, user_id) -> the evidence list (one entry per merged attribute, in order)."""
    out: dict[tuple[str, str], tuple[Path, int, list[dict[str, Any]]]] = {}
    for line, record in read_jsonl(path):
        source = _source(record, path, line)
        user_id = need(record, "user_id", "str", path, line)
        evidence = []
        for prefix, entry in need_objects(record, "evidence", path, line):
            # A null conv_idx means the extractor found no supporting conversation.
            if entry.get("conv_idx") is not None:
                need(entry, "conv_idx", "int", path, line, prefix)
            for j, turn in enumerate(need(entry, "turn_idxs", "list", path, line, prefix)):
                if isinstance(turn, bool) or not isinstance(turn, int) or turn < 0:
                    raise UserError(
                        f"{where(path, line, f'{prefix}turn_idxs[{j}]')}: expected a turn "
                        f"index >= 0, got {turn!r}"
                    )
            evidence.append(entry)
        if (source, user_id) in out:
            raise UserError(f"{where(path, line, 'cache_key')}: duplicate {source}:{user_id}")
        out[(source, user_id)] = (path, line, evidence)
    return out


def read_convs_index(path: Path, users: set[str]) -> dict[str, list[str]]:
    """user_id -> that user's WildChat conversation hashes, in the index's order.

    The index lists one hash more than once for some users; the order (not deduplicated) is
    kept because the evidence cache's `conv_idx` counts positions in this list.
    """
    if not path.is_file():
        raise UserError(f"{path}: missing file")
    # immutable=1: the release is read as a snapshot. Without it SQLite creates `-wal` and `-shm`
    # files beside a WAL-mode database even for a read-only connection, which writes into the
    # release (and fails where the release folder is read-only). A snapshot ignores the `-wal`
    # file, so one that holds data must be folded into the database first.
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        raise UserError(
            f"{wal}: holds changes not yet in {path.name}; fold them in (sqlite3 {path.name} "
            "'PRAGMA wal_checkpoint(TRUNCATE)') and build again"
        )
    uri = f"{path.absolute().as_uri()}?mode=ro&immutable=1"
    db = None
    try:
        db = sqlite3.connect(uri, uri=True)
        rows = db.execute(
            "SELECT id, hashed_ip, conversation_hash FROM convs_index ORDER BY id"
        ).fetchall()
    except sqlite3.Error as error:
        raise UserError(f"{where(path, None, 'convs_index')}: unreadable index ({error})") from None
    finally:
        if db is not None:
            db.close()
    out: dict[str, list[str]] = {}
    for row_id, user_id, hashes in rows:
        if user_id not in users:
            continue
        try:
            parsed = json.loads(hashes) if hashes else []
        except (ValueError, TypeError, RecursionError):  # not JSON text, or hostile JSON
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(h, str) for h in parsed):
            raise UserError(
                f"{where(path, row_id, 'conversation_hash')}: expected a JSON list of hashes"
            )
        if user_id in out:
            raise UserError(f"{where(path, row_id, 'hashed_ip')}: user {user_id} listed twice")
        out[user_id] = parsed
    return out


def holds_no_data(path: Path) -> bool:
    """Whether a release file is one that SQLite's other readers may leave beside the index
    without holding any data (`-shm`, an empty `-wal`): not part of the release's content."""
    return path.name.endswith("-shm") or (path.name.endswith("-wal") and not path.stat().st_size)


def _prompt_index(record: dict[str, Any], path: Path, line: int) -> int:
    """Stage-2 lines carry `prompt_index`; Stage-3 lines only `prompt_id` = `<user>_<index>`."""
    if "prompt_index" in record:
        return need(record, "prompt_index", "int", path, line)
    prompt_id = need(record, "prompt_id", "str", path, line)
    user_id, _, index = prompt_id.rpartition("_")
    if user_id != record.get("user_id") or not index.isdigit():
        raise UserError(
            f"{where(path, line, 'prompt_id')}: expected '<user_id>_<prompt index>', "
            f"got {prompt_id!r:.60}"
        )
    return int(index)


def read_stage2(path: Path) -> list[Stage2Item]:
    return [
        Stage2Item(
            **_item_fields(record, path, line),
            prompt_index=_prompt_index(record, path, line),
            prompt=need(record, "prompt_text", "str", path, line),
            attributes=_attributes(record, "profile_attributes", path, line),
        )
        for line, record in read_jsonl(path)
    ]


def read_ground_truth(paths: list[Path]) -> dict[tuple[str, int, str], bool | None]:
    """The published Stage-2 majority; every file must agree with the first one."""
    out: dict[tuple[str, int, str], bool | None] = {}
    origin: dict[tuple[str, int, str], tuple[Path, int]] = {}
    for path in paths:
        in_this_file: dict[tuple[str, int, str], int] = {}
        for line, record in read_jsonl(path):
            user_id = need(record, "user_id", "str", path, line)
            index = _prompt_index(record, path, line)
            for prefix, raw in need_objects(record, "profile_attributes", path, line):
                attribute = need(raw, "attribute", "str", path, line, prefix)
                truth = raw.get("ground_truth")
                if truth is not None and not isinstance(truth, bool):
                    raise UserError(
                        f"{where(path, line, prefix + 'ground_truth')}: unknown label value "
                        f"{truth!r:.40} (expected true, false or null)"
                    )
                key = (user_id, index, attribute)
                if key in in_this_file:
                    raise UserError(
                        f"{where(path, line, prefix + 'attribute')}: ID clash: pair listed twice "
                        f"(first at line {in_this_file[key]})"
                    )
                in_this_file[key] = line
                if key in out and out[key] != truth:
                    other, other_line = origin[key]
                    raise UserError(
                        f"{where(path, line, prefix + 'ground_truth')}: {truth} disagrees with "
                        f"{other.name}:{other_line} ({out[key]})"
                    )
                out[key] = truth
                origin.setdefault(key, (path, line))
    return out


def _generator(record: dict[str, Any], path: Path, line: int) -> str:
    """The item's `model_tag`, one of the generators the response_quality schema allows."""
    allowed = load_schema("response_quality")["properties"]["generator"]["enum"]
    return need_choice(record, "model_tag", allowed, "generator", path, line)


def read_stage3(path: Path) -> list[Stage3Item]:
    items = []
    for line, record in read_jsonl(path):
        relevance = [
            (
                need(raw, "attribute", "str", path, line, prefix),
                need(raw, "is_relevant", "bool", path, line, prefix),
            )
            for prefix, raw in need_objects(record, "attributes", path, line)
        ]
        items.append(
            Stage3Item(
                **_item_fields(record, path, line),
                prompt_index=_prompt_index(record, path, line),
                generator=_generator(record, path, line),
                prompt=need(record, "prompt_text", "str", path, line),
                relevance=relevance,
                response_generic=need(record, "response_no_context", "str", path, line),
                response_personalized=need(record, "response_personalized", "str", path, line),
            )
        )
    return items


def read_annotation_files(folder: Path) -> dict[str, list[AnnotationFile]]:
    """task ("4", "5", "6") -> the annotators' export files, sorted by file name.

    Two files of one task whose names differ only in case or surrounding blanks are the same
    annotator exported twice: counting them twice would fake a majority, so it is an error.
    """
    out: dict[str, list[AnnotationFile]] = {"4": [], "5": [], "6": []}
    if not folder.is_dir():
        return out
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.iterdir()):
        match = ANNOTATION_FILE.match(path.name)
        if not match or not path.is_file():
            continue
        name, task = match["name"], match["task"]
        key = (annotator_key(name), task)
        if key in seen:
            raise UserError(
                f"{where(path, None, 'annotator')}: duplicate annotator file: "
                f"{seen[key].name} is the same annotator's task{task} export"
            )
        seen[key] = path
        out[task].append(AnnotationFile(path, name, task, list(read_jsonl(path))))
    return out


def annotator_key(name: str) -> str:
    """The identity of an annotator across file names and stages (case and blanks ignored)."""
    return " ".join(name.split()).casefold()


def check_unique(items: Sequence[Item], field_name: str) -> None:
    """Two items with the same `item_index` (or user) would make annotations ambiguous."""
    seen: dict[Any, int] = {}
    for item in items:
        value = getattr(item, field_name)
        if value in seen:
            raise UserError(
                f"{where(item.path, item.line, field_name)}: ID clash: {value!r:.70} already "
                f"on line {seen[value]}"
            )
        seen[value] = item.line


def read_release(root: Path) -> Release:
    """Read and check every file of the release that the dataset is built from."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: missing release folder")
    stage1 = read_stage1(root / TASK4_ITEMS)
    stage2 = read_stage2(root / TASK5_ITEMS)
    stage3 = read_stage3(root / TASK6_ITEMS)
    for items in (stage1, stage2, stage3):
        check_unique(items, "item_index")
    check_unique(stage1, "user_id")
    evidence = read_evidence(root / EVIDENCE_CACHE)
    wildchat_users = {item.user_id for item in stage1 if item.source == "wildchat"}
    hashes = read_convs_index(root / CONVS_INDEX, wildchat_users)
    return Release(
        stage1=stage1,
        evidence=evidence,
        wildchat_hashes=hashes,
        stage2=stage2,
        ground_truth=read_ground_truth(sorted(root.glob(GROUND_TRUTH_GLOB))),
        stage3=stage3,
        annotations=read_annotation_files(root / ANNOTATIONS_DIR),
    )
