"""Check one `<stage>.jsonl` of predictions: every line's schema, known IDs, no duplicates, and
the whole test split of the stage covered; and the stage files against the stages
metadata.yaml lists."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from recenter_bench.limits import too_deep
from recenter_bench.review.check_metadata import listed_stages
from recenter_bench.review.check_schema import field_label, kind_of, problem_kind, schema_errors
from recenter_bench.review.dataset import Reference
from recenter_bench.review.files import (
    METADATA_FILE,
    Problems,
    id_fields,
    show,
    show_name,
    stage_files,
)
from recenter_bench.review.parsed import json_loads, non_finite_fields
from recenter_bench.review.read import MAX_DEPTH, ReadFiles, decode

if TYPE_CHECKING:
    from recenter_bench.review.check import Checked


def check_stage_files(
    checked: Checked,
    problems: Problems,
    read: ReadFiles,
    present: set[str],
    reference: Reference,
    label: Callable[[str], str],
    reported: bool,
) -> None:
    """Each stage file against the stages metadata.yaml lists, then its own lines."""
    stages_listed = listed_stages(checked.metadata)
    for name, stage in stage_files().items():
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
        if name in read.texts:
            problems.extend(read.parse_problems[name])
            checked.predictions[stage] = check_stage_file(
                stage, label(name), read.texts[name], reference, problems
            )


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
    stage: str, label: str, text: str | None, reference: Reference, problems: Problems
) -> list[dict[str, Any]]:
    """Parse and check each line of one stage file's text (None: not UTF-8, already reported):
    the valid rows; its problems go to `problems`."""
    if text is None:
        return []
    id_field = id_fields()[stage]
    known = reference.split_of_id[stage]
    rows: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    schema = f"{stage}_predictions"
    for number, row in checked_lines(label, text, lambda line: parse_row(schema, line), problems):
        key = row[id_field]
        if key not in known:
            message = f"unknown ID {show(key)}: not in the {stage} config of the dataset"
            problems.add(label, number, id_field, message)
        elif key in first_line:
            problems.add(label, number, id_field, f"duplicate of line {first_line[key]}")
        else:
            first_line[key] = number
            rows.append(row)
    test_ids = reference.test_ids_by_stage[stage]
    missing = [key for key in test_ids if key not in first_line]
    if missing:
        message = (
            f"{len(missing)} of the {len(test_ids)} rows of the test split have no prediction "
            f"(first missing: {missing[0]}); every stage entered must cover its test split"
        )
        problems.add(label, None, id_field, message)
    return rows


def parse_row(schema: str, line: str) -> Parsed:
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
        row, row_problems = parse_row(f"{stage}_predictions", line)
        if row is None or row_problems:
            return None
        rows.append(row)
    return rows
