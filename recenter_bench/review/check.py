"""Step 2, check a submission: one submission's files -> every problem, one line each.

`check_files` is the single check behind the CLI, CI, the repository tests and the Space's
Submit tab, whichever way the bytes arrived (a folder, a Hub pull request, an upload). It runs
the checks of each file (metadata.yaml, each `<stage>.jsonl`, results.json) and, once they all
pass, compares a committed results.json with what the predictions earn (step 3, `score`).
`tree_problems` checks what no single submission can see: the submissions/ tree as a whole.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from recenter_bench.atomic import is_leftover
from recenter_bench.limits import too_deep
from recenter_bench.paths import SUBMISSIONS_DIR, load_schema
from recenter_bench.review.dataset import Reference
from recenter_bench.review.files import (
    ALLOWED_FILES,
    HUMAN_FOLDER,
    ID_FIELD,
    METADATA_FILE,
    PROJECT_ORG,
    RAW_ANSWERS_FILE,
    RESERVED_TYPES,
    RESULTS_FILE,
    RUN_NAME,
    STAGE_FILES,
    STAGES,
    Problems,
    folder_name,
    max_bytes,
    problem,
    show,
    show_name,
    submission_id,
    too_big,
    unexpected_file,
)
from recenter_bench.review.flat_schema import flat_rule
from recenter_bench.review.read import (
    MAX_DEPTH,
    Document,
    NonFinite,
    decode,
    is_non_finite,
    json_lines,
    json_loads,
    non_finite_fields,
    parse_json,
    parse_yaml,
)
from recenter_bench.review.score import compute_results, metric_module, results_differences


@dataclass
class Checked:
    """What a check found: the problems, and the parsed parts for scoring."""

    files: dict[str, bytes]
    problems: list[str] = field(default_factory=list)
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    metadata_doc: Document | None = None
    results_doc: Document | None = None
    # What the predictions earn, when the check computed it to compare with results.json.
    expected: dict[str, Any] | None = None

    @property
    def metadata(self) -> dict[str, Any] | None:
        """metadata.yaml as parsed (possibly with schema problems), or None."""
        return self.metadata_doc.data if self.metadata_doc else None

    @property
    def results(self) -> dict[str, Any] | None:
        """results.json when it satisfies its schema, else None."""
        return self.results_doc.data if self.results_doc else None


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
    found: Sequence[str] = (),
) -> Checked:
    """Check a submission given as {file name: bytes}.

    `identity` is the (`<org>__<model>`, `<run>`) folder the files came from (None for an
    upload); `check_results` compares a present results.json with what the predictions earn;
    `require_results` makes a missing results.json a problem (CI and `submit`); `rejected`
    names files that exist but were already refused (links, oversized), so they are not also
    reported missing; `found` holds problems already found reading them (listed first).
    At most MAX_PROBLEMS problems are listed; a last line counts the others.
    """
    checked = Checked(files=dict(files))
    problems = Problems()
    problems.extend(found)
    present = set(files) | set(rejected)
    ok: dict[str, bytes] = {}
    for name, data in files.items():
        if name not in ALLOWED_FILES:
            problems.add(label(show_name(name)), None, None, unexpected_file())
        elif len(data) > max_bytes(name):
            problems.add(label(name), None, None, too_big(len(data), name))
        else:
            ok[name] = data

    if METADATA_FILE in ok:
        checked.metadata_doc, metadata_problems = check_metadata(ok[METADATA_FILE], label, identity)
        problems.extend(metadata_problems)
    elif require_metadata and METADATA_FILE not in present:
        message = "missing; every submission needs one (see submissions/README.md)"
        problems.add(label(METADATA_FILE), None, None, message)
    metadata = checked.metadata
    reported = (metadata or {}).get("provenance") == "reported"
    if checked.metadata_doc is not None:
        problems.extend(revision_problems(checked.metadata_doc, label(METADATA_FILE), reference))

    _check_stage_files(checked, problems, ok, present, reference, label, reported)
    if RAW_ANSWERS_FILE in ok:
        check_raw_answers(label(RAW_ANSWERS_FILE), ok[RAW_ANSWERS_FILE], reference, problems)

    if RESULTS_FILE in ok:
        checked.results_doc, results_problems = check_results_file(
            ok[RESULTS_FILE], label(RESULTS_FILE), metadata, identity
        )
        problems.extend(results_problems)
    elif RESULTS_FILE not in present and (reported or require_results):
        why = (
            "a reported submission holds the paper's numbers in it"
            if reported
            else "run `recenter score FOLDER --write` to write it"
        )
        problems.add(label(RESULTS_FILE), None, None, f"missing; {why}")

    # Compare with what the predictions earn only once everything else is right: scores of
    # broken predictions would only add noise to the messages.
    comparable = metadata is not None and checked.results is not None and not reported
    if check_results and comparable and not problems and not rejected:
        checked.expected = compute_results(submission_id(identity), checked.predictions, reference)
        problems.extend(
            results_differences(
                checked.results, checked.expected, label(RESULTS_FILE), checked.results_doc
            )
        )
    checked.problems = problems.report()
    return checked


def _check_stage_files(
    checked: Checked,
    problems: Problems,
    ok: Mapping[str, bytes],
    present: set[str],
    reference: Reference,
    label: Callable[[str], str],
    reported: bool,
) -> None:
    """Each stage file against the stages metadata.yaml lists, then its own lines."""
    stages_listed = listed_stages(checked.metadata)
    for name, stage in STAGE_FILES.items():
        if name not in present:
            if stages_listed is not None and stage in stages_listed and not reported:
                line = checked.metadata_doc.line(("stages",)) if checked.metadata_doc else None
                message = f"lists {stage} but {name} is missing"
                problems.add(label(METADATA_FILE), line, "stages", message)
            continue
        if name not in checked.files:
            continue  # refused on disk already
        if reported:
            message = (
                "a reported submission carries no predictions; "
                "remove this file or set provenance: rescored"
            )
            problems.add(label(name), None, None, message)
            continue
        if stages_listed is not None and stage not in stages_listed:
            message = f"{stage} is not listed under stages in {METADATA_FILE}"
            problems.add(label(name), None, None, message)
        if name in ok:
            checked.predictions[stage] = check_stage_file(
                stage, label(name), ok[name], reference, problems
            )


# --------------------------------------------------------------------------------------------
# metadata.yaml: its schema, and the folder name its org and model imply
# --------------------------------------------------------------------------------------------


METADATA_SCHEMA = "submission_metadata"


def check_metadata(
    data: bytes, label: Callable[[str], str], identity: tuple[str, str] | None
) -> tuple[Document | None, list[str]]:
    """(the parsed metadata.yaml, its problems). The document is returned whenever it parsed,
    schema problems or not, so that later checks can still use its valid parts."""
    name = label(METADATA_FILE)
    text, problems = decode(name, data)
    if text is None:
        return None, problems
    doc, parse_problems = parse_yaml(name, text)
    problems += parse_problems
    if doc is None:
        return None, problems
    problems += schema_problems(METADATA_SCHEMA, doc.data, name, doc.line)
    problems += reserved_type_problems(doc, name, identity)
    if identity is not None:
        problems += _folder_problems(doc, name, label(""), identity)
    return doc, problems


def reserved_folders(system_type: str) -> set[str]:
    """The `<org>__<model>` folders that may hold a type reserved for the project's rows."""
    if system_type == "human":
        return {HUMAN_FOLDER}
    return {folder_name(PROJECT_ORG, name) for name in metric_module().BASELINES}


def reserved_type_problems(doc: Document, name: str, identity: tuple[str, str] | None) -> list[str]:
    """`type: human` and `type: baseline` mark the rows the project makes from the dataset (the
    board's human line and no-skill lines); any other folder, and every upload, is refused."""
    system_type = doc.data.get("type")
    if system_type not in RESERVED_TYPES:
        return []
    if identity is not None and identity[0] in reserved_folders(system_type):
        return []
    kinds = load_schema(METADATA_SCHEMA)["properties"]["type"]["enum"]
    allowed = ", ".join(show(k) for k in kinds if k not in RESERVED_TYPES)
    message = (
        f"{show(system_type)} is reserved for the rows the project makes from the dataset; "
        f"a submission's type is one of {allowed}"
    )
    return [problem(name, doc.line(("type",)), "type", message)]


def _folder_problems(doc: Document, name: str, folder: str, identity: tuple[str, str]) -> list[str]:
    org_model, run = identity
    problems = []
    if not RUN_NAME.match(run):
        message = f"{show_name(run)} must be letters, digits and . _ - (at most 100)"
        problems.append(problem(folder, None, "run folder", message))
    org, model = doc.data.get("org"), doc.data.get("model")
    # Only names that passed the schema make a folder name worth comparing.
    if field_is_valid(METADATA_SCHEMA, "org", org) and field_is_valid(
        METADATA_SCHEMA, "model", model
    ):
        expected = folder_name(org, model)
        if org_model != expected:
            message = (
                f"the folder is named {show_name(org_model)!r} but org and model make "
                f"{expected!r}; rename the folder or fix the metadata"
            )
            problems.append(problem(name, doc.line(("model",)), "org/model", message))
    return problems


# A reported row's numbers were printed in a paper, not computed on a dataset revision: its
# dataset_revision names that paper (the project's rows: `arXiv:2606.06614v1`).
PAPER_TAG = re.compile(r"^arXiv:[0-9]{4}\.[0-9]{4,5}v[0-9]+$")


def revision_problems(doc: Document, name: str, reference: Reference) -> list[str]:
    """metadata.yaml's dataset_revision against the dataset the submission is checked on. A
    rescored submission's must be that dataset's revision (a `TODO` or `Infinity` would leave
    its scores tied to no data); a reported one names the paper its numbers come from."""
    revision = doc.data.get("dataset_revision")
    if not field_is_valid(METADATA_SCHEMA, "dataset_revision", revision):
        return []  # the schema's problem line already says what is wrong
    if doc.data.get("provenance") == "reported":
        if PAPER_TAG.match(revision):
            return []
        message = (
            f"says {show(revision)}; a reported submission names the paper its numbers are "
            "printed in, e.g. arXiv:2606.06614v1"
        )
    elif revision != reference.revision:
        message = (
            f"says {show(revision)} but the dataset checked against is revision "
            f"{reference.revision}; make the predictions on that revision, or check against the "
            "dataset they were made on (--dataset)"
        )
    else:
        return []
    return [problem(name, doc.line(("dataset_revision",)), "dataset_revision", message)]


def listed_stages(metadata: dict[str, Any] | None) -> list[str] | None:
    """The stages metadata.yaml lists, or None when it lists none validly."""
    stages = (metadata or {}).get("stages")
    if isinstance(stages, list) and all(isinstance(s, str) and s in STAGES for s in stages):
        return stages
    return None


# --------------------------------------------------------------------------------------------
# One <stage>.jsonl of predictions: every line's schema, known IDs, no duplicates, and the
# whole test split of the stage covered
# --------------------------------------------------------------------------------------------


# Distinct lines whose check is remembered within one file: a repeated line (a file pasted
# twice, a million `{}`) is checked once. A full stage file has at most 3,973 distinct rows.
MAX_REMEMBERED_LINES = 10_000
# Longer lines (raw answers of a reasoning judge) are parsed again when repeated: their repeats
# cost no more than distinct lines of the same bytes, and remembering them would copy the file.
MAX_REMEMBERED_CHARS = 4096


Parsed = tuple[dict[str, Any] | None, list[tuple[str | None, str]]]


def checked_lines(
    label: str, text: str, parse: Callable[[str], Parsed], problems: Problems
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of every line of a JSON Lines text that `parse` finds no problem in;
    the problems of the others go to `problems`. Lines are read one at a time (a list of a
    million short strings would weigh more than the file) and a repeated line is parsed once."""
    remembered: dict[str, Parsed] = {}
    for number, line in enumerate(io.StringIO(text, newline="\n"), start=1):
        line = line.removesuffix("\n")
        if not line.strip():
            continue  # blank lines (e.g. a trailing newline) carry nothing
        parsed = remembered.get(line)
        if parsed is None:
            parsed = parse(line)
            if len(remembered) < MAX_REMEMBERED_LINES and len(line) <= MAX_REMEMBERED_CHARS:
                remembered[line] = parsed
        row, row_problems = parsed
        for field_name, message in row_problems:
            problems.add(label, number, field_name, message, kind=problem_kind(message))
        if row is not None and not row_problems:
            yield number, row


def check_stage_file(
    stage: str, label: str, data: bytes, reference: Reference, problems: Problems
) -> list[dict[str, Any]]:
    """Parse and check one stage file: the valid rows; its problems go to `problems`."""
    text, decode_problems = decode(label, data)
    problems.extend(decode_problems)
    if text is None:
        return []
    id_field = ID_FIELD[stage]
    known = reference.split_of_id[stage]
    rows: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    schema = f"{stage}_predictions"
    for number, row in checked_lines(label, text, lambda line: _parse_row(schema, line), problems):
        key = row[id_field]
        if key not in known:
            message = f"unknown ID {show(key)}: not in the {stage} config of the dataset"
            problems.add(label, number, id_field, message)
        elif key in first_line:
            problems.add(label, number, id_field, f"duplicate of line {first_line[key]}")
        else:
            first_line[key] = number
            rows.append(row)
    test_ids = reference.test_ids(stage)
    missing = [key for key in test_ids if key not in first_line]
    if missing:
        message = (
            f"{len(missing)} of the {len(test_ids)} rows of the test split have no prediction "
            f"(first missing: {missing[0]}); every stage entered must cover its test split"
        )
        problems.add(label, None, id_field, message)
    return rows


RAW_ANSWERS_SCHEMA = "raw_answers"


def check_raw_answers(label: str, data: bytes, reference: Reference, problems: Problems) -> None:
    """Check a raw_answers.jsonl (`recenter run`'s record of every answer of an LLM judge) by
    the stage files' reader: its schema, and IDs of the dataset. The answers themselves are
    untrusted text, quoted only escaped."""
    text, decode_problems = decode(label, data)
    problems.extend(decode_problems)
    if text is None:
        return
    for number, row in checked_lines(
        label, text, lambda line: _parse_row(RAW_ANSWERS_SCHEMA, line), problems
    ):
        stage, key = next((s, row[f]) for s, f in ID_FIELD.items() if f in row)
        if key not in reference.split_of_id[stage]:
            message = f"unknown ID {show(key)}: not in the {stage} config of the dataset"
            problems.add(label, number, ID_FIELD[stage], message)


def _parse_row(schema: str, line: str) -> Parsed:
    """One JSON line -> (the row, its problems under `schema` as (field, message)); a
    non-finite number is reported once, not also as the schema's type error."""
    try:
        row = json_loads(line)
    except (ValueError, RecursionError) as error:
        reason = getattr(error, "msg", None) or type(error).__name__
        column = getattr(error, "colno", None)
        at = f" (column {column})" if column else ""
        return None, [(None, f"not valid JSON: {reason}{at}")]
    if not isinstance(row, dict):
        return None, [(None, f"must be a JSON object, got {kind_of(row)}")]
    if too_deep(row, MAX_DEPTH):
        return None, [(None, "values are nested too deeply")]
    bad = non_finite_fields(row)
    problems: list[tuple[str | None, str]] = [
        (show_name(name), f"{show(row[name])} is not a finite number") for name in bad
    ]
    problems += [
        (field_label(path), message)
        for path, message in schema_errors(schema, row)
        if not (path and path[0] in bad)
    ]
    return row, problems


def stage_rows(stage: str, data: bytes) -> list[dict[str, Any]] | None:
    """The rows of a stage file's bytes, each line parsed and checked as `check_stage_file`
    does (JSON, depth, finite numbers, the row's schema) but without the dataset (IDs are not
    looked up); None when the file is not UTF-8 or any line fails."""
    text, _ = decode(stage, data)
    if text is None:
        return None
    rows = []
    for line in io.StringIO(text, newline="\n"):
        line = line.removesuffix("\n")
        if not line.strip():
            continue
        row, row_problems = _parse_row(f"{stage}_predictions", line)
        if row is None or row_problems:
            return None
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# A committed results.json read as untrusted input: its schema, and whether it fits its folder
# and metadata (a reported row's numbers under the splits the paper prints, nothing the metric
# does not compute)
# --------------------------------------------------------------------------------------------


# Reported rows hold the paper's numbers under "all" (zero-shot) or "test" (trained systems).
REPORTED_SPLITS = ("all", "test")


def check_results_file(
    data: bytes,
    name: str,
    metadata: dict[str, Any] | None,
    identity: tuple[str, str] | None,
) -> tuple[Document | None, list[str]]:
    """(the parsed results.json when it satisfies its schema, every problem)."""
    text, problems = decode(name, data)
    if text is None:
        return None, problems
    results, problems = parse_json(name, text)
    if problems:
        return None, problems
    if not isinstance(results, dict):
        return None, [problem(name, 1, None, "must be a JSON object")]
    doc = Document(results, json_lines(text))
    problems = _non_finite_problems(results, name, doc)
    schema_found = schema_problems("results", _nulled(results), name, doc.line)
    if schema_found:
        return None, problems + schema_found
    return doc, problems + _fit_problems(doc, name, metadata or {}, identity)


def _fit_problems(
    doc: Document, name: str, metadata: dict[str, Any], identity: tuple[str, str] | None
) -> list[str]:
    """A schema-valid results.json against its folder and its metadata."""
    results, problems = doc.data, []

    def add(path: tuple, message: str) -> None:
        problems.append(problem(name, doc.line(path), ".".join(path), message))

    if identity is not None and results["submission"] != "/".join(identity):
        folder = "/".join(identity)
        add(("submission",), f"says {show(results['submission'])} but the folder is {folder!r}")
    provenance = metadata.get("provenance")
    reported = provenance == "reported"
    if provenance in ("rescored", "reported") and results["provenance"] != provenance:
        add(
            ("provenance",),
            f"says {results['provenance']!r} but {METADATA_FILE} says {provenance!r}",
        )
    stages = listed_stages(metadata)
    names = _score_names(metadata.get("type"))
    for stage, splits in results["scores"].items():
        # (for a rescored row the stage files are checked against `stages` instead)
        if reported and stages is not None and stage not in stages:
            add(("scores", stage), f"{stage} is not listed under stages in {METADATA_FILE}")
        for split, metrics in splits.items():
            for metric_name in metrics:
                if metric_name not in names[stage]:
                    message = f"the metric has no {stage} score named {metric_name!r}"
                    add(("scores", stage, split, metric_name), message)
            if reported and split not in REPORTED_SPLITS:
                message = (
                    "reported numbers go under 'all' (zero-shot systems) "
                    "or 'test' (trained systems)"
                )
                add(("scores", stage, split), message)
    if reported:
        for stage in stages or []:
            if not results["scores"].get(stage):
                message = f"{METADATA_FILE} lists {stage} but no reported number for it is given"
                problems.append(problem(name, doc.line(("scores",)), f"scores.{stage}", message))
    return problems


def _score_names(system_type: Any) -> dict[str, set[str]]:
    """The score names a results.json may hold per stage: the metric's, plus its human-reference
    names (inter-annotator agreement) for a human row."""
    metric = metric_module()
    return {
        stage: set(metric.METRIC_NAMES[stage])
        | (set(metric.HUMAN_METRIC_NAMES[stage]) if system_type == "human" else set())
        for stage in STAGES
    }


def _non_finite_problems(value: Any, name: str, doc: Document, path: tuple = ()) -> list[str]:
    """NaN/Infinity anywhere in results.json: undefined values must be written as null."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        if not is_non_finite(value):
            return []
        message = f"{show(value)} is not a finite number; undefined values are written as null"
        return [problem(name, doc.line(path), field_label(list(path)), message)]
    return [p for key, item in items for p in _non_finite_problems(item, name, doc, (*path, key))]


def _nulled(value: Any) -> Any:
    """A copy with every non-finite number replaced by null (reported once, not again as a
    schema type error)."""
    if isinstance(value, dict):
        return {key: _nulled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulled(item) for item in value]
    return None if is_non_finite(value) else value


# --------------------------------------------------------------------------------------------
# JSON Schema violations (dataset_card/schemas/) -> one readable line each
# --------------------------------------------------------------------------------------------


@cache
def _certainly_valid(name: str) -> Callable[[Any], bool]:
    return flat_rule(load_schema(name)) or (lambda _: False)


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


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | NonFinite):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _describe(error: jsonschema.ValidationError) -> list[tuple[list, str]]:
    """(field path, message) of each field one schema error is about, worded for a person."""
    path = list(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in expected if name not in (value or {})]
        return [([*path, name], "missing required field") for name in missing]
    if kind == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return [([*path, show_name(str(name))], f"unknown field{hint}") for name in extra]
    return [_describe_one(error, path, kind, expected, value)]


def _describe_one(
    error: jsonschema.ValidationError, path: list, kind: str, expected: Any, value: Any
) -> tuple[list, str]:
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
        return path, f"must be {wanted}, got {kind_of(value)} {show(value)}"
    if kind in ("enum", "const"):
        options = expected if kind == "enum" else [expected]
        shown = ", ".join(show(o) for o in options)
        return path, f"must be one of {shown}; got {show(value)}"
    if kind in ("minimum", "maximum"):
        bounds = error.schema
        low, high = bounds.get("minimum"), bounds.get("maximum")
        if low is not None and high is not None:
            return path, f"must be between {low} and {high}, got {show(value)}"
        return path, f"must be {'at least' if kind == 'minimum' else 'at most'} {expected}"
    if kind == "pattern":
        return path, f"{show(value)} is not allowed here ({_pattern_hint(path)})"
    if kind == "format":
        return path, f"{show(value)} is not a valid {expected} (YYYY-MM-DD)"
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
    if kind == "oneOf" and all(set(option) == {"required"} for option in expected):
        names = ", ".join(name for option in expected for name in option["required"])
        return path, f"needs exactly one of {names}"
    if kind == "propertyNames":
        return path, f"unexpected key {show(error.instance)}"
    return path, " ".join(error.message.split())[:120]


# "..., got a string" of a type problem: what is wrong whatever the value quoted after it.
_GOT_KIND = re.compile(r"^(.*, got (?:null|a boolean|a number|a string|a list|a mapping))(?: |$)")


def problem_kind(message: str) -> str:
    """A problem message without the value it quotes, when it ends in one (type problems):
    the key under which repeated problems are counted instead of listed.

    >>> problem_kind('must be true or false, got a string "yes"')
    'must be true or false, got a string'
    """
    match = _GOT_KIND.match(message)
    return match[1] if match else message


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


def schema_errors(schema: str, instance: Any) -> list[tuple[list, str]]:
    """Every violation of `dataset_card/schemas/<schema>.schema.json` as (field path, message),
    in field order."""
    if _certainly_valid(schema)(instance):
        return []  # a flat schema's row checked in a few microseconds (flat_schema)
    # jsonschema raises one `required` error per missing field, each describing them all: a
    # field is reported once however many errors name it.
    described = {
        (tuple(path), message): None
        for error in _validator(schema).iter_errors(instance)
        for path, message in _describe(error)
    }
    return sorted(
        ((list(path), message) for path, message in described), key=lambda i: [str(p) for p in i[0]]
    )


def field_label(path: list) -> str | None:
    """A field path as a problem line names it: `scores.pairing.test.f1`."""
    return ".".join(show_name(str(p)) for p in path) or None


def schema_problems(
    schema: str, instance: Any, label: str, line_of: Callable[[list], int | None]
) -> list[str]:
    """Every violation of a schema, one problem line each."""
    return [
        problem(label, line_of(path), field_label(path), message)
        for path, message in schema_errors(schema, instance)
    ]


def field_is_valid(schema: str, name: str, value: Any) -> bool:
    """Whether one top-level field alone satisfies its schema."""
    return jsonschema.Draft202012Validator(load_schema(schema)["properties"][name]).is_valid(value)


# --------------------------------------------------------------------------------------------
# The submissions/ tree as a whole: the problems no single submission can see
# --------------------------------------------------------------------------------------------


def tree_problems(root: Path = SUBMISSIONS_DIR) -> list[str]:
    """Problems of the submissions tree itself: stray files, links, misnamed or clashing
    folders, and the same predictions committed twice."""
    problems = []
    seen_lower: dict[str, Path] = {}
    seen_content: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.name == "README.md" and entry.is_file() and not entry.is_symlink():
            continue
        if is_leftover(entry.name):
            continue  # a killed write's temporary: ignored, cleaned by the next write
        if entry.is_symlink() or not entry.is_dir():
            message = "only <org>__<model>/ folders and README.md belong here"
            problems.append(problem(str(entry), None, None, message))
            continue
        if "__" not in entry.name:
            problems.append(problem(str(entry), None, None, "folder name must be <org>__<model>"))
        for run in sorted(entry.iterdir()):
            if is_leftover(run.name):
                continue
            if run.is_symlink() or not run.is_dir():
                problems.append(problem(str(run), None, None, "only <run>/ folders belong here"))
                continue
            key = f"{entry.name}/{run.name}".lower()
            if key in seen_lower:
                message = f"clashes with {seen_lower[key]} on case-insensitive file systems"
                problems.append(problem(str(run), None, None, message))
            seen_lower[key] = run
            problems += _repeated_predictions(run, seen_content)
    return problems


def _repeated_predictions(run: Path, seen: dict[str, Path]) -> list[str]:
    """Stage files of `run` whose bytes an earlier run already holds (`seen`: digest -> file)."""
    problems = []
    for name in STAGE_FILES:
        path = run / name
        if not path.is_file() or path.is_symlink():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            message = f"the same predictions as {seen[digest]}: a run is committed once"
            problems.append(problem(str(path), None, None, message))
        seen[digest] = path
    return problems
