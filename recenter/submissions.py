"""Submissions: check a submission, score it with the metric, write its results, open a Hub PR.

A submission is data in a folder, `submissions/<org>__<model>/<run>/`, holding `metadata.yaml`,
one `<config>.jsonl` of predictions per stage it enters, and `results.json` (written by
`recenter score --write`, never by hand). The paper's rows whose predictions are not public are
`provenance: reported`: no predictions, and `results.json` holds the paper's printed numbers.

One code path checks every submission, whoever asks: `check_files` takes the files' bytes (from
a folder, from a Hub pull request or from the Space's upload box) and returns every problem, one
line each (`file:line: field: what is wrong`). The CLI (`validate`, `score`, `submit`), the
GitHub workflow, the repository tests and the leaderboard's Submit tab all end up there, and
every score comes from the metric module; nothing here computes a metric.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from recenter import BENCHMARK_VERSION
from recenter.errors import UserError, ValidationFailed, where
from recenter.paths import (
    HUB_DATASET_ID,
    HUB_LEADERBOARD_ID,
    PREVIEW_RELEASE_DIR,
    REPO_ROOT,
    SUBMISSIONS_DIR,
    load_schema,
)

STAGES: tuple[str, ...] = ("extraction", "pairing", "response_quality")
SPLITS: tuple[str, ...] = ("train", "validation", "test")
ID_FIELD = {"extraction": "attribute_id", "pairing": "pair_id", "response_quality": "rating_id"}
METADATA_FILE = "metadata.yaml"
RESULTS_FILE = "results.json"
STAGE_FILES = {f"{stage}.jsonl": stage for stage in STAGES}
ALLOWED_FILES: tuple[str, ...] = (METADATA_FILE, *STAGE_FILES, RESULTS_FILE)
# A full-size stage file (3,973 pairing rows with scores) is about 400 KB; the limits leave
# room for long IDs and scores while keeping a hostile upload from exhausting memory.
MAX_BYTES = {METADATA_FILE: 64 * 1024, RESULTS_FILE: 256 * 1024}
MAX_STAGE_FILE_BYTES = 4 * 1024 * 1024
# The paper's printed numbers: reported rows hold them under "all" (zero-shot) or "test"
# (trained systems), and name this as the revision and metric they come from.
PAPER = "arXiv:2606.06614v1"
REPORTED_SPLITS = ("all", "test")
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
# Relative tolerance when comparing a committed results.json with the recomputed scores: the
# JSON round trip of a float is exact, so only platform-level noise in the last bits is allowed.
REL_TOLERANCE = 1e-9


def metric_module() -> Any:
    """The metric module (imported lazily: it pulls in scipy)."""
    from metric.recenter_personalization import recenter_personalization

    return recenter_personalization


# --------------------------------------------------------------------------------------------
# Names: the folder of a submission is derived from its metadata
# --------------------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A display name as it appears in a folder name: runs of other characters become '-'.

    >>> slug("GPT-5.4 + optimized prompt")
    'GPT-5.4-optimized-prompt'
    >>> slug("meta-llama")
    'meta-llama'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")


def folder_name(org: str, model: str) -> str:
    """`<org>__<model>`: the first folder level of a submission (MTEB's results layout).

    >>> folder_name("openai", "GPT-5.4")
    'openai__GPT-5.4'
    """
    return f"{slug(org)}__{slug(model)}"


def _show(value: Any, limit: int = 60) -> str:
    """Untrusted input quoted on one line of ASCII (control characters and newlines escaped)."""
    if isinstance(value, _NonFinite):
        return value.text
    try:
        text = json.dumps(value, ensure_ascii=True, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value).encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_name(name: str) -> str:
    """A file name from disk or an upload, safe to print on one line."""
    shown = name.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _problem(file: str, line: int | None, field_name: str | None, message: str) -> str:
    return f"{where(file, line, field_name)}: {message}"


# --------------------------------------------------------------------------------------------
# The dataset a submission is checked against
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The dataset side of a check: every row per stage and split, and its revision."""

    source: str
    revision: str
    rows: dict[str, dict[str, list[dict[str, Any]]]]
    split_of_id: dict[str, dict[str, str]] = field(repr=False)

    @classmethod
    def from_rows(
        cls, source: str, revision: str, rows: Mapping[str, Mapping[str, list[dict[str, Any]]]]
    ) -> Reference:
        split_of_id = {
            stage: {
                row[ID_FIELD[stage]]: split
                for split, split_rows in rows.get(stage, {}).items()
                for row in split_rows
            }
            for stage in STAGES
        }
        return cls(source, revision, {s: dict(rows.get(s, {})) for s in STAGES}, split_of_id)

    def test_ids(self, stage: str) -> list[str]:
        return [row[ID_FIELD[stage]] for row in self.rows[stage].get("test", [])]


def _cache_root() -> Path:
    base = os.environ.get("RECENTER_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "recenter-bench" if base else Path.home() / ".cache" / "recenter-bench"


def _release_key(release: Path) -> str:
    """Content hash of a release and of the builder's code: a rebuilt cache is never stale."""
    digest = hashlib.sha256()
    files = [(release, p) for p in sorted(release.rglob("*")) if p.is_file()]
    files += [(REPO_ROOT, p) for p in sorted((REPO_ROOT / "loaders").glob("*.py"))]
    files += [(REPO_ROOT, p) for p in sorted((REPO_ROOT / "dataset_card").rglob("*.*"))]
    for root, path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_dataset() -> str:
    """The dataset used when `--dataset` is omitted: the preview release beside the checkout,
    built once into a cache folder keyed by its content, else the published Hub dataset."""
    if (PREVIEW_RELEASE_DIR / "data").is_dir():
        from loaders.build import build_dataset

        out = _cache_root() / f"preview-{_release_key(PREVIEW_RELEASE_DIR)}"
        if not (out / "data").is_dir():
            out.parent.mkdir(parents=True, exist_ok=True)
            # Build beside the target and rename: two concurrent runs never see half a folder.
            scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=out.parent))
            build_dataset(PREVIEW_RELEASE_DIR, scratch / "dataset")
            try:
                os.replace(scratch / "dataset", out)
            except OSError:
                if not (out / "data").is_dir():
                    raise
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        return str(out)
    return HUB_DATASET_ID


def _local_copy(source: str) -> str:
    """A Hub dataset ID -> its snapshot folder, so a local path and the Hub give one revision."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(source, repo_type="dataset")
    except Exception as error:  # network, auth, missing repo: all a user-level problem
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(
            f"--dataset: could not download {source!r} from the Hub: {message}"
        ) from None


def resolve_dataset(source: str | Path | None) -> str:
    """`--dataset` -> a local dataset folder (built or downloaded when needed)."""
    if source is None:
        source = default_dataset()
    text = str(source)
    if Path(text).is_dir():
        if not (Path(text) / "data").is_dir():
            raise UserError(f"--dataset: {text}: not a dataset folder (no data/ inside)")
        return text
    if HUB_ID.match(text) and not Path(text).exists():
        return _local_copy(text)
    raise UserError(f"--dataset: {text}: no such dataset folder or Hub dataset ID")


def load_reference(source: str | Path | None) -> Reference:
    """Load (once per folder and revision) the rows a submission is checked and scored on."""
    from loaders.load import dataset_revision

    folder = resolve_dataset(source)
    return _load_reference(folder, dataset_revision(folder))


@cache
def _load_reference(folder: str, revision: str) -> Reference:
    import datasets

    from loaders.load import load_rows

    datasets.disable_progress_bars()  # one line per problem on stderr, not progress bars
    return Reference.from_rows(folder, revision, {s: load_rows(s, folder) for s in STAGES})


# --------------------------------------------------------------------------------------------
# Parsing: YAML and JSON with line numbers, no surprises
# --------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.2-like scalars: only true/false are booleans and dates stay strings, so
    `open_weights: yes`, `org: NO` or `date: 2026-11-27` mean what they look like."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":bool", ":timestamp"))]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


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


@dataclass
class Document:
    """A parsed YAML/JSON document and the line of each key path (for messages)."""

    data: Any
    lines: dict[tuple, int]

    def line(self, path: tuple | list) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def parse_yaml(label: str, text: str) -> tuple[Document | None, list[str]]:
    """Parse a YAML mapping; anchors, aliases, tags and duplicate keys are rejected."""
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                return None, [
                    _problem(label, line, None, "YAML anchors and aliases are not allowed")
                ]
            implicit = getattr(event, "implicit", True)
            if getattr(event, "tag", None) and not (
                any(implicit) if isinstance(implicit, tuple) else implicit
            ):
                line = event.start_mark.line + 1
                return None, [_problem(label, line, None, "YAML tags are not allowed")]
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = " ".join(str(error.problem or error.context or "syntax error").split())
        return None, [_problem(label, line, None, f"not valid YAML: {reason}")]
    except (yaml.YAMLError, RecursionError, ValueError) as error:
        reason = " ".join(str(error).split())[:100] or type(error).__name__
        return None, [_problem(label, None, None, f"not valid YAML: {reason}")]
    if not isinstance(data, dict):
        return None, [_problem(label, 1, None, "must be a mapping of `field: value` lines")]
    if _too_deep(data):
        return None, [_problem(label, None, None, "values are nested too deeply")]
    problems = [
        _problem(label, line, name, "appears twice") for name, line in _duplicate_keys(node)
    ]
    return Document(data, dict(_key_lines(node))), problems


class _NonFinite:
    """NaN / Infinity in JSON (Python's json accepts them; the contract does not)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.msg = f"the key {_show(key)} appears twice in one object"
        super().__init__(self.msg)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: a repeated key is an error, not a silent "last one wins"."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _json_loads(text: str) -> Any:
    return json.loads(
        text, parse_constant=_NonFinite, parse_float=_parse_float, object_pairs_hook=_unique_keys
    )


def _json_lines(text: str) -> dict[tuple, int]:
    """Key lines of a JSON document (JSON as written by `score --write` is valid YAML)."""
    try:
        return dict(_key_lines(yaml.compose(text, Loader=_Loader)))
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}


def _decode(label: str, data: bytes) -> tuple[str | None, list[str]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, [_problem(label, line, None, "not UTF-8 text")]


MAX_DEPTH = 16  # deeper JSON/YAML than any valid file has; refused before anything recurses


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists/mappings nest deeper than `limit` (measured without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _non_finite_fields(row: Mapping[str, Any]) -> list[str]:
    bad = []
    for name, value in row.items():
        if isinstance(value, _NonFinite):
            bad.append(name)
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and abs(value) > sys.float_info.max
        ):
            bad.append(name)
    return bad


# --------------------------------------------------------------------------------------------
# Schema errors -> one readable line each
# --------------------------------------------------------------------------------------------


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = load_schema(name)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "integer": "an integer",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | _NonFinite):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _schema_error_lines(error: jsonschema.ValidationError) -> tuple[list, str]:
    """(field path, message) of one schema error, worded for a person, not a validator."""
    path = list(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in expected if name not in (value or {})]
        name = missing[0] if missing else "?"
        return [*path, name], "missing required field"
    if kind == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        name = _show_name(str(extra[0])) if extra else "?"
        hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return [*path, name], f"unknown field{hint}"
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
        return path, f"must be {wanted}, got {_kind(value)} {_show(value)}"
    if kind in ("enum", "const"):
        options = expected if kind == "enum" else [expected]
        shown = ", ".join(_show(o) for o in options)
        return path, f"must be one of {shown}; got {_show(value)}"
    if kind in ("minimum", "maximum"):
        bounds = error.schema
        low, high = bounds.get("minimum"), bounds.get("maximum")
        if low is not None and high is not None:
            return path, f"must be between {low} and {high}, got {_show(value)}"
        return path, f"must be {'at least' if kind == 'minimum' else 'at most'} {expected}"
    if kind == "pattern":
        return path, f"{_show(value)} is not allowed here ({_pattern_hint(path)})"
    if kind == "format":
        return path, f"{_show(value)} is not a valid {expected} (YYYY-MM-DD)"
    if kind in ("minLength", "maxLength"):
        words = "at least" if kind == "minLength" else "at most"
        return path, f"must have {words} {expected} character(s)"
    if kind in ("minItems", "maxItems"):
        words = "at least" if kind == "minItems" else "at most"
        return path, f"must list {words} {expected} item(s)"
    if kind == "uniqueItems":
        return path, "lists the same item twice"
    if kind == "not" and "else" in error.schema_path:
        return [*path, "source"], "only reported submissions (provenance: reported) name a source"
    if kind == "propertyNames":
        return path, f"unexpected key {_show(error.instance)}"
    return path, " ".join(error.message.split())[:120]


def _pattern_hint(path: list) -> str:
    last = path[-1] if path else ""
    return {
        "link": "an http:// or https:// URL without spaces or quotes, or empty",
        "model": "plain text with a letter or digit, no '<', '>' or control characters",
        "org": "plain text with a letter or digit, no '<', '>' or control characters",
        "contact": "no '<', '>' or control characters",
        "source": "no '<', '>' or control characters",
        "description": "no control characters",
        "date": "YYYY-MM-DD",
        "dataset_revision": "letters, digits and . _ : / -",
        "submission": "<org>__<model>/<run>",
    }.get(str(last), "see the schema in dataset_card/schemas/")


def schema_problems(
    schema: str, instance: Any, label: str, line_of: Callable[[list], int | None]
) -> list[str]:
    """Every violation of `dataset_card/schemas/<schema>.schema.json`, one line each."""
    problems = []
    errors = sorted(_validator(schema).iter_errors(instance), key=lambda e: list(map(str, e.path)))
    for error in errors:
        path, message = _schema_error_lines(error)
        field_name = ".".join(str(p) for p in path) or None
        problems.append(_problem(label, line_of(path), field_name, message))
    return problems


# --------------------------------------------------------------------------------------------
# One submission's files -> problems (the single check used by CLI, CI, tests and the Space)
# --------------------------------------------------------------------------------------------


@dataclass
class Checked:
    """What a check found: the problems, and the parsed parts for scoring."""

    problems: list[str] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    results: dict[str, Any] | None = None
    results_doc: Document | None = None
    metadata_doc: Document | None = None
    files: dict[str, bytes] = field(default_factory=dict)


def check_stage_file(
    stage: str, label: str, data: bytes, reference: Reference
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse and check one `<stage>.jsonl`: schema of every line, known IDs, no duplicates,
    and every test-split row of the stage predicted."""
    text, problems = _decode(label, data)
    if text is None:
        return [], problems
    id_field = ID_FIELD[stage]
    known = reference.split_of_id[stage]
    rows: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue  # blank lines (e.g. a trailing newline) carry nothing
        try:
            row = _json_loads(line)
        except (ValueError, RecursionError) as error:
            reason = getattr(error, "msg", None) or type(error).__name__
            column = getattr(error, "colno", None)
            at = f" (column {column})" if column else ""
            problems.append(_problem(label, number, None, f"not valid JSON: {reason}{at}"))
            continue
        if not isinstance(row, dict):
            problems.append(
                _problem(label, number, None, f"must be a JSON object, got {_kind(row)}")
            )
            continue
        if _too_deep(row):
            problems.append(_problem(label, number, None, "values are nested too deeply"))
            continue
        bad = _non_finite_fields(row)
        for name in bad:
            problems.append(
                _problem(
                    label, number, _show_name(name), f"{_show(row[name])} is not a finite number"
                )
            )
        row_problems = [
            p
            for p, path in _row_schema_problems(stage, row, label, number)
            if not (path and path[0] in bad)
        ]
        problems.extend(row_problems)
        key = row.get(id_field)
        if isinstance(key, str) and not row_problems and not bad:
            if key not in known:
                problems.append(
                    _problem(
                        label,
                        number,
                        id_field,
                        f"unknown ID {_show(key)}: not in the {stage} config of the dataset",
                    )
                )
            elif key in first_line:
                problems.append(
                    _problem(label, number, id_field, f"duplicate of line {first_line[key]}")
                )
            else:
                first_line[key] = number
                rows.append(row)
    missing = [key for key in reference.test_ids(stage) if key not in first_line]
    if missing:
        total = len(reference.test_ids(stage))
        problems.append(
            _problem(
                label,
                None,
                id_field,
                f"{len(missing)} of the {total} rows of the test split have no prediction "
                f"(first missing: {missing[0]}); every stage entered must cover its test split",
            )
        )
    return rows, problems


def _row_schema_problems(
    stage: str, row: dict[str, Any], label: str, number: int
) -> list[tuple[str, list]]:
    out = []
    for error in _validator(f"{stage}_predictions").iter_errors(row):
        path, message = _schema_error_lines(error)
        field_name = ".".join(_show_name(str(p)) for p in path) or None
        out.append((_problem(label, number, field_name, message), path))
    return sorted(out, key=lambda item: [str(p) for p in item[1]])  # field order, stable


def check_files(
    files: Mapping[str, bytes],
    reference: Reference,
    *,
    label: Callable[[str], str] = str,
    identity: tuple[str, str] | None = None,
    check_results: bool = True,
    require_metadata: bool = True,
    require_results: bool = False,
    rejected: Collection[str] = (),
) -> Checked:
    """Check a submission given as {file name: bytes}.

    `identity` is the (`<org>__<model>`, `<run>`) folder the files came from (None for an
    upload); `check_results` compares a present results.json with what the predictions earn;
    `require_results` makes a missing results.json a problem (CI and `submit`); `rejected`
    names files that exist but were already refused (links, oversized), so they are not also
    reported missing.
    """
    checked = Checked(files=dict(files))
    problems = checked.problems
    present = set(files) | set(rejected)
    for name in files:
        if name not in ALLOWED_FILES:
            problems.append(_problem(label(_show_name(name)), None, None, _unexpected_file()))
        elif len(files[name]) > _max_bytes(name):
            problems.append(_problem(label(name), None, None, _too_big(len(files[name]), name)))
    ok = {n: d for n, d in files.items() if n in ALLOWED_FILES and len(d) <= _max_bytes(n)}

    metadata = _check_metadata(
        ok, label, identity, require_metadata and METADATA_FILE not in present, checked
    )
    reported = bool(metadata) and metadata.get("provenance") == "reported"
    stages_listed = _listed_stages(metadata)

    for name, stage in STAGE_FILES.items():
        if name not in present:
            if stages_listed is not None and stage in stages_listed and not reported:
                line = checked.metadata_doc.line(("stages",)) if checked.metadata_doc else None
                problems.append(
                    _problem(
                        label(METADATA_FILE), line, "stages", f"lists {stage} but {name} is missing"
                    )
                )
            continue
        if name not in files:
            continue  # already refused on disk
        if reported:
            problems.append(
                _problem(
                    label(name),
                    None,
                    None,
                    "a reported submission carries no predictions; "
                    "remove this file or set provenance: rescored",
                )
            )
            continue
        if stages_listed is not None and stage not in stages_listed:
            problems.append(
                _problem(
                    label(name),
                    None,
                    None,
                    f"{stage} is not listed under stages in {METADATA_FILE}",
                )
            )
        if name in ok:
            rows, stage_problems = check_stage_file(stage, label(name), ok[name], reference)
            problems.extend(stage_problems)
            checked.predictions[stage] = rows

    if RESULTS_FILE in ok:
        _check_results(ok[RESULTS_FILE], label(RESULTS_FILE), metadata, identity, checked)
    elif RESULTS_FILE not in present and (reported or require_results):
        why = (
            "a reported submission holds the paper's numbers in it"
            if reported
            else ("run `recenter score FOLDER --write` to write it")
        )
        problems.append(_problem(label(RESULTS_FILE), None, None, f"missing; {why}"))

    if (
        check_results
        and checked.results is not None
        and not reported
        and not problems
        and not rejected
        and metadata is not None
    ):
        expected = compute_results(
            _submission_id(identity), metadata, checked.predictions, reference
        )
        problems.extend(
            results_differences(checked.results, expected, label(RESULTS_FILE), checked.results_doc)
        )
    return checked


def _unexpected_file() -> str:
    return f"unexpected file; a submission holds only {', '.join(ALLOWED_FILES)}"


def _max_bytes(name: str) -> int:
    return MAX_BYTES.get(name, MAX_STAGE_FILE_BYTES)


def _too_big(size: int, name: str) -> str:
    return f"file is {size:,} bytes; the limit is {_max_bytes(name):,}"


def _listed_stages(metadata: dict[str, Any] | None) -> list[str] | None:
    if not metadata:
        return None
    stages = metadata.get("stages")
    if isinstance(stages, list) and all(isinstance(s, str) and s in STAGES for s in stages):
        return stages
    return None


def _submission_id(identity: tuple[str, str] | None) -> str:
    return "/".join(identity) if identity else "upload__preview/preview"


def _check_metadata(
    files: Mapping[str, bytes],
    label: Callable[[str], str],
    identity: tuple[str, str] | None,
    required: bool,
    checked: Checked,
) -> dict[str, Any] | None:
    """Schema of metadata.yaml, and the folder name it implies. Returns the mapping when it
    parsed (even with schema problems, so later checks can still use its valid parts)."""
    problems = checked.problems
    name = label(METADATA_FILE)
    if METADATA_FILE not in files:
        if required:
            problems.append(
                _problem(
                    name,
                    None,
                    None,
                    "missing; every submission needs one (see submissions/README.md)",
                )
            )
        return None
    text, decode_problems = _decode(name, files[METADATA_FILE])
    problems.extend(decode_problems)
    if text is None:
        return None
    doc, parse_problems = parse_yaml(name, text)
    problems.extend(parse_problems)
    if doc is None:
        return None
    checked.metadata_doc = doc
    metadata = doc.data
    schema_found = schema_problems("submission_metadata", metadata, name, doc.line)
    problems.extend(schema_found)
    checked.metadata = metadata
    org, model = metadata.get("org"), metadata.get("model")
    if identity is not None:
        org_model, run = identity
        if not RUN_NAME.match(run):
            problems.append(
                _problem(
                    label(""),
                    None,
                    "run folder",
                    f"{_show_name(run)} must be letters, digits and . _ - (at most 100)",
                )
            )
        # Only names that passed the schema make a folder name worth comparing.
        if _field_ok("org", org) and _field_ok("model", model):
            expected = folder_name(org, model)
            if org_model != expected:
                problems.append(
                    _problem(
                        name,
                        doc.line(("model",)),
                        "org/model",
                        f"the folder is named {_show_name(org_model)!r} but org and model "
                        f"make {expected!r}; rename the folder or fix the metadata",
                    )
                )
    return metadata


def _field_ok(name: str, value: Any) -> bool:
    """Whether one metadata field alone satisfies its schema."""
    schema = load_schema("submission_metadata")["properties"][name]
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def _check_results(
    data: bytes,
    name: str,
    metadata: dict[str, Any] | None,
    identity: tuple[str, str] | None,
    checked: Checked,
) -> None:
    problems = checked.problems
    text, decode_problems = _decode(name, data)
    problems.extend(decode_problems)
    if text is None:
        return
    try:
        results = _json_loads(text)
    except (ValueError, RecursionError) as error:
        reason = getattr(error, "msg", None) or type(error).__name__
        line = getattr(error, "lineno", None)
        problems.append(_problem(name, line, None, f"not valid JSON: {reason}"))
        return
    if not isinstance(results, dict):
        problems.append(_problem(name, 1, None, "must be a JSON object"))
        return
    if _too_deep(results):
        problems.append(_problem(name, None, None, "values are nested too deeply"))
        return
    doc = Document(results, _json_lines(text))
    found = schema_problems("results", _finite_copy(results, name, doc, problems), name, doc.line)
    problems.extend(found)
    if found:
        return
    checked.results, checked.results_doc = results, doc
    if identity is not None and results["submission"] != "/".join(identity):
        problems.append(
            _problem(
                name,
                doc.line(("submission",)),
                "submission",
                f"says {_show(results['submission'])} but the folder is {'/'.join(identity)!r}",
            )
        )
    provenance = (metadata or {}).get("provenance")
    if provenance in ("rescored", "reported") and results["provenance"] != provenance:
        problems.append(
            _problem(
                name,
                doc.line(("provenance",)),
                "provenance",
                f"says {results['provenance']!r} but {METADATA_FILE} says {provenance!r}",
            )
        )
    stages = _listed_stages(metadata)
    metric_names = _score_names((metadata or {}).get("type"))
    for stage, splits in results["scores"].items():
        # (for a rescored row the stage files are checked against `stages` instead)
        if provenance == "reported" and stages is not None and stage not in stages:
            problems.append(
                _problem(
                    name,
                    doc.line(("scores", stage)),
                    f"scores.{stage}",
                    f"{stage} is not listed under stages in {METADATA_FILE}",
                )
            )
        for split, metrics in splits.items():
            for metric_name in metrics:
                if metric_name not in metric_names[stage]:
                    path = ("scores", stage, split, metric_name)
                    problems.append(
                        _problem(
                            name,
                            doc.line(path),
                            ".".join(path),
                            f"the metric has no {stage} score named {metric_name!r}",
                        )
                    )
            if provenance == "reported" and split not in REPORTED_SPLITS:
                problems.append(
                    _problem(
                        name,
                        doc.line(("scores", stage, split)),
                        f"scores.{stage}.{split}",
                        "reported numbers go under 'all' (zero-shot systems) "
                        "or 'test' (trained systems)",
                    )
                )
    if provenance == "reported":
        for stage in stages or []:
            if not results["scores"].get(stage):
                problems.append(
                    _problem(
                        name,
                        doc.line(("scores",)),
                        f"scores.{stage}",
                        f"{METADATA_FILE} lists {stage} but no reported number for it is given",
                    )
                )


def _score_names(system_type: Any) -> dict[str, set[str]]:
    """The score names a results.json may hold per stage: the metric's, plus its human-reference
    names (inter-annotator agreement) for a human row."""
    metric = metric_module()
    return {
        stage: set(metric.METRIC_NAMES[stage])
        | (set(metric.HUMAN_METRIC_NAMES[stage]) if system_type == "human" else set())
        for stage in STAGES
    }


def _finite_copy(
    value: Any, name: str, doc: Document, problems: list[str], path: tuple = ()
) -> Any:
    """results.json with NaN/Infinity reported (they must be written as null) and nulled."""
    if isinstance(value, dict):
        return {k: _finite_copy(v, name, doc, problems, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_copy(v, name, doc, problems, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, _NonFinite) or (
        isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max
    ):
        field_name = ".".join(_show_name(str(p)) for p in path) or None
        problems.append(
            _problem(
                name,
                doc.line(path),
                field_name,
                f"{_show(value)} is not a finite number; undefined values are written as null",
            )
        )
        return None
    return value


# --------------------------------------------------------------------------------------------
# Scores: always from the metric; results.json is compared, never trusted
# --------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """A metric value as results.json stores it: finite float, or null."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def compute_results(
    submission: str,
    metadata: Mapping[str, Any],
    predictions: Mapping[str, list[dict[str, Any]]],
    reference: Reference,
) -> dict[str, Any]:
    """The results.json a rescored submission earns: the metric's scores on the dataset."""
    metric = metric_module()
    stages = [s for s in STAGES if s in predictions]
    scores = metric.score_submission(
        {s: predictions[s] for s in stages}, {s: reference.rows[s] for s in stages}
    )
    return {
        "submission": submission,
        "benchmark_version": BENCHMARK_VERSION,
        "dataset_revision": reference.revision,
        "metric_version": metric.METRIC_VERSION,
        "provenance": "rescored",
        "scores": {
            stage: {
                split: {name: _json_value(value) for name, value in metrics.items()}
                for split, metrics in scores[stage].items()
            }
            for stage in stages
        },
    }


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-12)
    return a == b


def results_differences(
    committed: Mapping[str, Any], expected: Mapping[str, Any], label: str, doc: Document | None
) -> list[str]:
    """Where a committed results.json differs from the recomputed one, one line per value."""
    line = doc.line if doc else (lambda path: None)
    hint = "; run `recenter score FOLDER --write`"
    problems = []
    for key in (
        "submission",
        "benchmark_version",
        "dataset_revision",
        "metric_version",
        "provenance",
    ):
        if committed.get(key) != expected[key]:
            problems.append(
                _problem(
                    label,
                    line((key,)),
                    key,
                    f"says {_show(committed.get(key))}, recomputed {_show(expected[key])}{hint}",
                )
            )
    got, want = committed.get("scores", {}), expected["scores"]
    for stage in [s for s in STAGES if s in got or s in want]:
        for split in _ordered(got.get(stage, {}), want.get(stage, {})):
            have = got.get(stage, {}).get(split)
            earn = want.get(stage, {}).get(split)
            path = ("scores", stage, split)
            if have is None or earn is None:
                what = "is not earned by the predictions" if earn is None else "is missing"
                problems.append(_problem(label, line(path), ".".join(path), f"{what}{hint}"))
                continue
            for metric_name in _ordered(have, earn):
                metric_path = (*path, metric_name)
                shown = ".".join(metric_path)
                if metric_name not in earn:
                    problems.append(
                        _problem(
                            label,
                            line(metric_path),
                            shown,
                            f"is not a score the metric gives{hint}",
                        )
                    )
                elif metric_name not in have:
                    problems.append(_problem(label, line(metric_path), shown, f"is missing{hint}"))
                elif not _same(have[metric_name], earn[metric_name]):
                    problems.append(
                        _problem(
                            label,
                            line(metric_path),
                            shown,
                            f"says {_show(have[metric_name])} but the predictions earn "
                            f"{_show(earn[metric_name])}{hint}",
                        )
                    )
    return problems


def _ordered(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys([*b, *a]))


# --------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------


@dataclass
class FolderFiles:
    """A submission folder as read from disk: the readable files' bytes, the names that exist
    but were refused, and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def read_folder(folder: Path) -> FolderFiles:
    """The files of a submission folder as bytes, and the problems of the folder itself:
    symbolic links, sub-folders, special files and oversized files are never read."""
    shown = str(folder)
    read = FolderFiles()
    if folder.is_symlink():
        read.problems.append(
            _problem(shown, None, None, "is a symbolic link; submit a real folder")
        )
        return read
    if not folder.is_dir():
        read.problems.append(_problem(shown, None, None, "no such submission folder"))
        return read
    files, problems = read.files, read.problems
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = os.path.join(shown, _show_name(entry.name))
        if entry.name in ALLOWED_FILES:
            read.rejected.add(entry.name)  # until it is read below
        if entry.is_symlink():
            problems.append(_problem(path, None, None, "symbolic links are not allowed"))
        elif entry.is_dir(follow_symlinks=False):
            problems.append(
                _problem(path, None, None, "folders are not allowed inside a submission")
            )
        elif not entry.is_file(follow_symlinks=False):
            problems.append(_problem(path, None, None, "not a regular file"))
        elif entry.name not in ALLOWED_FILES:
            problems.append(_problem(path, None, None, _unexpected_file()))
        elif entry.stat(follow_symlinks=False).st_size > _max_bytes(entry.name):
            size = entry.stat(follow_symlinks=False).st_size
            problems.append(_problem(path, None, None, _too_big(size, entry.name)))
        else:
            data = _read_no_follow(Path(entry.path), _max_bytes(entry.name))
            if data is None:
                problems.append(_problem(path, None, None, "could not be read as a regular file"))
            elif len(data) > _max_bytes(entry.name):
                problems.append(_problem(path, None, None, _too_big(len(data), entry.name)))
            else:
                files[entry.name] = data
                read.rejected.discard(entry.name)
    return read


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


def identity_of(folder: Path) -> tuple[str, str]:
    """(`<org>__<model>`, `<run>`) of a submission folder, from its absolute path."""
    absolute = Path(os.path.abspath(folder))
    return absolute.parent.name, absolute.name


def check_folder(
    folder: Path,
    reference: Reference,
    *,
    check_results: bool = True,
    require_results: bool = False,
) -> Checked:
    """Check a submission folder: its files on disk, then `check_files` on their bytes."""
    folder = Path(folder)
    read = read_folder(folder)
    if folder.is_symlink() or not folder.is_dir():
        return Checked(problems=read.problems)
    checked = check_files(
        read.files,
        reference,
        label=lambda name: str(folder / name) if name else str(folder),
        identity=identity_of(folder),
        check_results=check_results,
        require_results=require_results,
        rejected=read.rejected,
    )
    checked.problems[:0] = read.problems
    return checked


def validate_submission(
    folder: Path,
    dataset_source: str | Path | None = None,
    *,
    require_results: bool = False,
    reference: Reference | None = None,
) -> list[str]:
    """Every problem of a submission folder, one line each (empty: valid). Writes nothing.

    A present results.json must equal what the predictions earn; `require_results` also makes
    a missing one a problem (CI, the repository tests and `submit` use it)."""
    reference = reference or load_reference(dataset_source)
    return check_folder(folder, reference, require_results=require_results).problems


def score_folder(
    folder: Path,
    dataset_source: str | Path | None = None,
    *,
    write: bool = False,
    reference: Reference | None = None,
) -> dict[str, Any]:
    """Validate, then score a submission: the results.json document it earns.

    A reported submission is never re-scored: its results.json (the paper's numbers) is
    returned as it is. With `write`, a rescored submission's results.json is replaced
    atomically (temporary file + rename), so a reader never sees half a file.
    """
    folder = Path(folder)
    reference = reference or load_reference(dataset_source)
    checked = check_folder(folder, reference, check_results=False)
    if checked.problems:
        raise ValidationFailed(checked.problems)
    metadata = checked.metadata or {}
    if metadata.get("provenance") == "reported":
        if write:
            raise UserError(
                f"{folder / RESULTS_FILE}: holds the paper's reported numbers; "
                "a reported submission is never re-scored or rewritten"
            )
        return dict(checked.results or {})
    results = compute_results(
        _submission_id(identity_of(folder)), metadata, checked.predictions, reference
    )
    if write:
        write_json_atomic(folder / RESULTS_FILE, results)
    return results


def results_text(results: Mapping[str, Any]) -> str:
    """results.json as committed: 2-space indent, key order kept, a final newline."""
    return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file by temp file + os.replace in its folder: a reader (or a crash) only ever
    sees the old file or the new one, never half of it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> None:
    """Write results.json atomically, in the committed format (`results_text`)."""
    write_atomic(path, results_text(document).encode("utf-8"))


def preview_submission(
    files: dict[str, bytes], dataset_source: str | Path | None
) -> tuple[list[str], dict | None]:
    """The Space's Submit tab: check uploaded stage files in memory and preview their scores.

    `files` maps a file name (`pairing.jsonl`, optionally `metadata.yaml` ...) to its bytes.
    Returns (problems, one per line; scores `{stage: {split: {metric: value}}}` or None when
    there are problems). Nothing is written anywhere.
    """
    reference = load_reference(dataset_source)
    checked = check_files(
        {Path(str(name)).name: bytes(data) for name, data in files.items()},
        reference,
        require_metadata=False,
    )
    if not checked.problems and not checked.predictions:
        checked.problems.append(
            _problem("(upload)", None, None, f"no predictions: add one of {', '.join(STAGE_FILES)}")
        )
    if checked.problems:
        return checked.problems, None
    results = compute_results("upload__preview/preview", {}, checked.predictions, reference)
    return [], results["scores"]


# --------------------------------------------------------------------------------------------
# The submissions/ tree (repository invariants and CI)
# --------------------------------------------------------------------------------------------


def find_submissions(root: Path = SUBMISSIONS_DIR) -> list[Path]:
    """Every `<org>__<model>/<run>/` folder under a submissions tree, sorted."""
    return sorted(
        run
        for org_model in root.iterdir()
        if org_model.is_dir() and not org_model.is_symlink()
        for run in org_model.iterdir()
        if run.is_dir() and not run.is_symlink()
    )


def tree_problems(root: Path = SUBMISSIONS_DIR) -> list[str]:
    """Problems of the submissions tree itself: stray files, links, misnamed or clashing
    folders, and the same predictions committed twice."""
    problems = []
    seen_lower: dict[str, Path] = {}
    seen_content: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.name == "README.md" and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_symlink() or not entry.is_dir():
            problems.append(
                _problem(
                    str(entry), None, None, "only <org>__<model>/ folders and README.md belong here"
                )
            )
            continue
        if "__" not in entry.name:
            problems.append(_problem(str(entry), None, None, "folder name must be <org>__<model>"))
        for run in sorted(entry.iterdir()):
            if run.is_symlink() or not run.is_dir():
                problems.append(_problem(str(run), None, None, "only <run>/ folders belong here"))
                continue
            key = f"{entry.name}/{run.name}".lower()
            if key in seen_lower:
                problems.append(
                    _problem(
                        str(run),
                        None,
                        None,
                        f"clashes with {seen_lower[key]} on case-insensitive file systems",
                    )
                )
            seen_lower[key] = run
            for name in STAGE_FILES:
                path = run / name
                if path.is_file() and not path.is_symlink():
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    if digest in seen_content:
                        problems.append(
                            _problem(
                                str(path),
                                None,
                                None,
                                f"the same predictions as {seen_content[digest]}: "
                                "a run is committed once",
                            )
                        )
                    seen_content[digest] = path
    return problems


# --------------------------------------------------------------------------------------------
# Hub pull request
# --------------------------------------------------------------------------------------------


def open_pull_request(
    folder: Path,
    files: Mapping[str, bytes],
    repo_id: str = HUB_LEADERBOARD_ID,
    *,
    repo_type: str = "space",
    api: Any = None,
) -> str:
    """Open a pull request adding the (already validated) files of a submission to
    `submissions/<org>__<model>/<run>/` of the leaderboard's Hub repository. Returns its URL.

    The uploaded bytes are the ones that were validated (not re-read from disk), and the path
    in the repository is built only from validated names, so nothing can land elsewhere."""
    from huggingface_hub import CommitOperationAdd, HfApi

    org_model, run = identity_of(folder)
    operations = [
        CommitOperationAdd(
            path_in_repo=f"submissions/{org_model}/{run}/{name}", path_or_fileobj=data
        )
        for name, data in sorted(files.items())
    ]
    # Like `recenter push`: HF_ENDPOINT / HF_TOKEN select the Hub (or a local stand-in).
    api = api or HfApi(endpoint=os.environ.get("HF_ENDPOINT"), token=os.environ.get("HF_TOKEN"))
    try:
        info = api.create_commit(
            repo_id=repo_id,
            repo_type=repo_type,
            operations=operations,
            commit_message=f"Add submission {org_model}/{run}",
            commit_description=(
                f"Adds `submissions/{org_model}/{run}/` ({', '.join(sorted(files))}), "
                "checked with `recenter validate`; CI re-scores it with the metric."
            ),
            create_pr=True,
        )
    except Exception as error:  # HTTP, auth, missing repo: report it, no traceback
        message = " ".join(str(error).split())[:200] or type(error).__name__
        raise UserError(f"--repo: could not open a pull request on {repo_id}: {message}") from None
    return str(info.pr_url or info.commit_url)


# --------------------------------------------------------------------------------------------
# Command handlers (recenter/cli.py HANDLERS)
# --------------------------------------------------------------------------------------------


def _describe(results: Mapping[str, Any]) -> list[str]:
    """One line per stage and split: the headline metric with its CI (or, for a reported row
    without it, the numbers the paper gives)."""
    headline = metric_module().HEADLINE
    lines = []
    for stage, splits in results.get("scores", {}).items():
        for split, metrics in splits.items():
            name = headline[stage]
            if name not in metrics:
                given = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if v is not None)
                lines.append(f"  {stage:<17} {split:<10} {given}")
                continue
            value = metrics.get(name)
            low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
            shown = "undefined" if value is None else f"{value:.3f}"
            if low is not None and high is not None:
                shown += f" [{low:.3f}, {high:.3f}]"
            n = metrics.get("n")
            count = f"  (n={int(n)})" if isinstance(n, int | float) else ""
            lines.append(f"  {stage:<17} {split:<10} {name} {shown}{count}")
    return lines


def validate_command(args: argparse.Namespace) -> int:
    """`recenter validate SUBMISSION [--dataset D] [--require-results]`."""
    folder = Path(args.submission)
    reference = load_reference(args.dataset)
    problems = validate_submission(
        folder, require_results=getattr(args, "require_results", False), reference=reference
    )
    if problems:
        raise ValidationFailed(problems)
    print(f"{folder}: valid (dataset revision {reference.revision})")
    return 0


def score_command(args: argparse.Namespace) -> int:
    """`recenter score SUBMISSION [--dataset D] [--json] [--write]`."""
    folder = Path(args.submission)
    results = score_folder(folder, args.dataset, write=args.write)
    if args.json:
        print(results_text(results), end="")
    else:
        print(
            f"{results.get('submission')}: {results.get('provenance')}, dataset revision "
            f"{results.get('dataset_revision')}"
        )
        print("\n".join(_describe(results)))
    if args.write:
        print(f"wrote {folder / RESULTS_FILE}", file=sys.stderr)
    return 0


def submit_command(args: argparse.Namespace) -> int:
    """`recenter submit SUBMISSION [--repo ID] [--dataset D]`: validate, then open a Hub PR."""
    folder = Path(args.submission)
    reference = load_reference(args.dataset)
    checked = check_folder(folder, reference, require_results=True)
    if checked.problems:
        raise ValidationFailed(checked.problems)
    url = open_pull_request(folder, checked.files, args.repo or HUB_LEADERBOARD_ID)
    print(f"opened {url}")
    return 0
