"""Step 1, read a submission without trusting it: its folder from disk (symbolic links,
sub-folders, special files and oversized files are refused, never opened), and YAML / JSON from
untrusted bytes with line numbers for messages.

Anchors, aliases, tags, duplicate keys, NaN/Infinity and absurd nesting are refused or flagged
instead of being silently accepted as Python's yaml and json modules would.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from recenter_bench.atomic import is_leftover, leftover_target
from recenter_bench.limits import too_deep
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review.files import (
    METADATA_FILE,
    RESULTS_FILE,
    allowed_files,
    max_bytes,
    problem,
    show_name,
    too_big,
    unexpected_file,
)
from recenter_bench.review.parsed import Document, json_loads

# --------------------------------------------------------------------------------------------
# A submission folder from disk
# --------------------------------------------------------------------------------------------


@dataclass
class FolderFiles:
    """A submission folder as read from disk: the readable files' bytes, the names that exist
    but were refused, and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def read_folder(folder: Path) -> FolderFiles:
    """The files of a submission folder as bytes, and the problems of the folder itself."""
    shown = str(folder)
    read = FolderFiles()
    if folder.is_symlink():
        read.problems.append(problem(shown, None, None, "is a symbolic link; submit a real folder"))
        return read
    if not folder.is_dir():
        read.problems.append(problem(shown, None, None, "no such submission folder"))
        return read
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if leftover_target(entry.name) in allowed_files():
            continue  # a temporary of a write in progress, or of a killed one (cleaned next time)
        data, why = _read_entry(entry)
        if data is not None:
            read.files[entry.name] = data
            continue
        read.problems.append(problem(os.path.join(shown, show_name(entry.name)), None, None, why))
        if entry.name in allowed_files():
            read.rejected.add(entry.name)
    return read


def _read_entry(entry: os.DirEntry) -> tuple[bytes | None, str]:
    """(the bytes of one folder entry, or None and why it was refused)."""
    if entry.is_symlink():
        return None, "symbolic links are not allowed"
    if entry.is_dir(follow_symlinks=False):
        return None, "folders are not allowed inside a submission"
    if not entry.is_file(follow_symlinks=False):
        return None, "not a regular file"
    if entry.name not in allowed_files():
        return None, unexpected_file()
    limit = max_bytes(entry.name)
    size = entry.stat(follow_symlinks=False).st_size
    if size > limit:
        return None, too_big(size, entry.name)
    data = _read_no_follow(Path(entry.path), limit)
    if data is None:
        return None, "could not be read as a regular file"
    if len(data) > limit:  # it grew since it was listed
        return None, too_big(len(data), entry.name)
    return data, ""


def _read_no_follow(path: Path, limit: int) -> bytes | None:
    """Read at most limit + 1 bytes, refusing a file swapped for a link since it was listed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return handle.read(limit + 1)
    finally:
        if fd != -1:
            os.close(fd)


@dataclass
class ReadFiles:
    """What read hands check, once: a submission's files as given, each allowed one within its
    size limit decoded, and metadata.yaml and results.json parsed."""

    files: dict[str, bytes] = field(default_factory=dict)
    # Allowed names that exist but were refused on disk (links, oversized): not also missing.
    rejected: set[str] = field(default_factory=set)
    # The folder's problems and each refused file's, in the order found.
    problems: list[str] = field(default_factory=list)
    # Each admitted file: its text (None when it is not UTF-8) and its decode/parse problems.
    texts: dict[str, str | None] = field(default_factory=dict)
    parse_problems: dict[str, list[str]] = field(default_factory=dict)
    # metadata.yaml (a mapping) and results.json (an object) when they parsed.
    documents: dict[str, Document] = field(default_factory=dict)
    # No folder to read (missing, or a link): nothing else is checked.
    unreadable: bool = False


def parse_files(
    files: Mapping[str, bytes],
    label: Callable[[str], str] = str,
    *,
    rejected: Collection[str] = (),
    found: Sequence[str] = (),
) -> ReadFiles:
    """A submission given as {file name: bytes}, read: names that are not a submission's or
    too large refused, every other file decoded, metadata.yaml and results.json parsed.
    `rejected` and `found` come from reading a folder (`read_submission`)."""
    read = ReadFiles(files=dict(files), rejected=set(rejected), problems=list(found))
    for name, data in files.items():
        if name not in allowed_files():
            read.problems.append(problem(label(show_name(name)), None, None, unexpected_file()))
        elif len(data) > max_bytes(name):
            read.problems.append(problem(label(name), None, None, too_big(len(data), name)))
        else:
            read.texts[name], read.parse_problems[name] = decode(label(name), data)
    for name, parse in ((METADATA_FILE, parse_yaml), (RESULTS_FILE, parse_json_object)):
        text = read.texts.get(name)
        if text is not None:
            doc, problems = parse(label(name), text)
            read.parse_problems[name] += problems
            if doc is not None:
                read.documents[name] = doc
    return read


def read_submission(folder: Path, label: Callable[[str], str]) -> ReadFiles:
    """A submission folder read from disk (`read_folder`) and its files parsed (`parse_files`)."""
    on_disk = read_folder(folder)
    if folder.is_symlink() or not folder.is_dir():
        return ReadFiles(problems=on_disk.problems, unreadable=True)
    return parse_files(on_disk.files, label, rejected=on_disk.rejected, found=on_disk.problems)


def read_file(folder: Path, name: str) -> tuple[bytes | None, str]:
    """The bytes of one allowed file of a submission folder, read as `read_folder` reads it
    (no links, regular files only, at most its size limit), or None and why it was refused."""
    if folder.is_symlink() or not folder.is_dir():
        return None, "the folder is a symbolic link or missing"
    for entry in os.scandir(folder):
        if entry.name == name:
            return _read_entry(entry)
    return None, "missing"


@dataclass
class Record:
    """What the leaderboard shows of a submission folder: metadata.yaml and results.json read
    and parsed as the validator reads them (`problems` non-empty: not shown, and why)."""

    metadata: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_record(folder: Path, shown: str) -> Record:
    """metadata.yaml and results.json of a submission folder through the validator's reader:
    bounded size, no links, strict YAML (no anchors, aliases or tags), JSON without duplicate
    keys, nesting at most MAX_DEPTH. `shown` names the folder in the problem lines."""
    record = Record()
    for name in (METADATA_FILE, RESULTS_FILE):
        label = f"{shown}/{name}"
        data, why = read_file(folder, name)
        if data is None:
            record.problems.append(problem(label, None, None, why))
            continue
        text, problems = decode(label, data)
        if text is None:
            record.problems += problems
            continue
        if name == METADATA_FILE:
            doc, problems = parse_yaml(label, text)
            record.metadata = doc.data if doc is not None else {}
        else:
            parsed, problems = parse_json(label, text)
            if not problems and not (
                isinstance(parsed, dict) and isinstance(parsed.get("scores"), dict)
            ):
                problems = [problem(label, None, "scores", "missing or not an object")]
            record.results = parsed if not problems else {}
        record.problems += problems
    return record


def find_submissions(root: Path = SUBMISSIONS_DIR) -> list[Path]:
    """Every `<org>__<model>/<run>/` folder under a submissions tree, sorted (temporaries of
    the atomic writer left by a killed run are not submissions)."""
    return sorted(
        run
        for org_model in root.iterdir()
        if org_model.is_dir() and not org_model.is_symlink() and not is_leftover(org_model.name)
        for run in org_model.iterdir()
        if run.is_dir() and not run.is_symlink() and not is_leftover(run.name)
    )


# --------------------------------------------------------------------------------------------
# YAML and JSON from untrusted bytes
# --------------------------------------------------------------------------------------------

# Deeper JSON/YAML than any valid file has; refused before anything recurses.
MAX_DEPTH = 16

# libyaml's parser when PyYAML was built with it (the wheels are): linear in the input where
# the pure-Python scanner is quadratic in the nesting depth.
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2-like scalars: only true/false are booleans and dates stay strings, so
    `open_weights: yes`, `org: NO` or `date: 2026-11-27` mean what they look like."""


_Resolver.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":bool", ":timestamp"))]
    for key, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _Refused(ValueError):
    """A construct the project does not accept, at a line of the text."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line, self.why = line, why


def _checked_events(text: str) -> list[yaml.Event]:
    """Parse once: every event of the text, refusing anchors, aliases, explicit tags (they let
    a small file expand into a huge one, or name Python objects) and nesting deeper than
    MAX_DEPTH as soon as they appear, before anything is built from them."""
    events, depth = [], 0
    for event in yaml.parse(text, Loader=_PARSER):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(line, "YAML anchors and aliases are not allowed")
        implicit = getattr(event, "implicit", True)
        if getattr(event, "tag", None) and not (
            any(implicit) if isinstance(implicit, tuple) else implicit
        ):
            raise _Refused(line, "YAML tags are not allowed")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(line, f"values are nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        events.append(event)
    return events


class _Replay(yaml.composer.Composer, yaml.constructor.SafeConstructor, _Resolver):
    """PyYAML's safe composer and constructor fed with events already parsed, so one parse
    gives both the node tree (lines, duplicate keys) and the data."""

    def __init__(self, events: list[yaml.Event]) -> None:
        self._events = events
        self._next = 0
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)

    def check_event(self, *choices: type) -> bool:
        if self._next >= len(self._events):
            return False
        return not choices or isinstance(self._events[self._next], choices)

    def peek_event(self) -> yaml.Event:
        return self._events[self._next]

    def get_event(self) -> yaml.Event:
        self._next += 1
        return self._events[self._next - 1]


def _compose(text: str) -> tuple[yaml.Node | None, _Replay]:
    """The node tree of a single-document YAML text (None when empty), parsed once."""
    replay = _Replay(_checked_events(text))
    return replay.get_single_node(), replay


def _key_lines(node: yaml.Node, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple, int]]:
    """(path, 1-based line) of every mapping key and sequence item of a composed YAML node."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, key.value)
            yield path, key.start_mark.line + 1
            yield from _key_lines(value, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield (*prefix, index), item.start_mark.line + 1
            yield from _key_lines(item, (*prefix, index))


def _duplicate_keys(node: yaml.Node, prefix: str = "") -> Iterator[tuple[str, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = f"{prefix}{key.value}"
            if key.value in seen:
                yield name, key.start_mark.line + 1
            seen.add(key.value)
            yield from _duplicate_keys(value, f"{name}.")
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{prefix}{index}.")


def _load(label: str, text: str) -> tuple[yaml.Node | None, Any, list[str]]:
    """(node tree, data, problems) of one YAML document under the project's rules."""
    try:
        node, replay = _compose(text)
        data = replay.construct_document(node) if node is not None else None
    except _Refused as refused:
        return None, None, [problem(label, refused.line, None, refused.why)]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = " ".join(str(error.problem or error.context or "syntax error").split())
        return None, None, [problem(label, line, None, f"not valid YAML: {reason}")]
    except (yaml.YAMLError, ValueError) as error:
        reason = " ".join(str(error).split())[:100] or type(error).__name__
        return None, None, [problem(label, None, None, f"not valid YAML: {reason}")]
    return node, data, []


def parse_yaml_value(label: str, text: str) -> tuple[Any, list[str]]:
    """One YAML value (a flag's `FIELD=VALUE`) read as strictly as a file: libyaml, no anchors,
    aliases or tags, nesting at most MAX_DEPTH, YAML 1.2 booleans."""
    _, data, problems = _load(label, text)
    return data, problems


def parse_yaml(label: str, text: str) -> tuple[Document | None, list[str]]:
    """Parse a YAML mapping (once, with libyaml); anchors, aliases, tags, duplicate keys and
    nesting deeper than MAX_DEPTH are rejected."""
    node, data, problems = _load(label, text)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [problem(label, 1, None, "must be a mapping of `field: value` lines")]
    problems = [problem(label, line, name, "appears twice") for name, line in _duplicate_keys(node)]
    return Document(data, dict(_key_lines(node))), problems


def parse_json(label: str, text: str) -> tuple[Any, list[str]]:
    """A JSON document as the validator reads it: duplicate keys refused, NaN/Infinity kept as
    `NonFinite` (for the caller to report), nesting deeper than MAX_DEPTH refused (a file
    nested 200,000 deep is refused at the parser's recursion limit, never crashes it)."""
    try:
        data = json_loads(text)
    except (ValueError, RecursionError) as error:
        reason = getattr(error, "msg", None) or type(error).__name__
        line = getattr(error, "lineno", None)
        return None, [problem(label, line, None, f"not valid JSON: {reason}")]
    if too_deep(data, MAX_DEPTH):
        return None, [problem(label, None, None, "values are nested too deeply")]
    return data, []


def parse_json_object(label: str, text: str) -> tuple[Document | None, list[str]]:
    """A JSON object (results.json) with the line of each key, as `parse_json` reads it."""
    data, problems = parse_json(label, text)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [problem(label, 1, None, "must be a JSON object")]
    return Document(data, json_lines(text)), []


def json_lines(text: str) -> dict[tuple, int]:
    """Key lines of a JSON document (JSON as written by `score --write` is valid YAML)."""
    try:
        node, _ = _compose(text)
    except (yaml.YAMLError, ValueError):
        return {}
    return dict(_key_lines(node)) if node is not None else {}


def decode(label: str, data: bytes) -> tuple[str | None, list[str]]:
    """UTF-8 text (a byte-order mark allowed), or the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, [problem(label, line, None, "not UTF-8 text")]
