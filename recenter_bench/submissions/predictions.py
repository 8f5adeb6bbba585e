"""One `<stage>.jsonl` of predictions: every line's schema, known IDs, no duplicates, and the
whole test split of the stage covered."""

from __future__ import annotations

from typing import Any

from recenter_bench.submissions.dataset import Reference
from recenter_bench.submissions.messages import problem, show, show_name
from recenter_bench.submissions.names import ID_FIELD
from recenter_bench.submissions.parse import decode, json_loads, non_finite_fields, too_deep
from recenter_bench.submissions.schema import field_label, kind_of, schema_errors


def check_stage_file(
    stage: str, label: str, data: bytes, reference: Reference
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse and check one stage file: (the valid rows, every problem)."""
    text, problems = decode(label, data)
    if text is None:
        return [], problems
    id_field = ID_FIELD[stage]
    known = reference.split_of_id[stage]
    rows: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue  # blank lines (e.g. a trailing newline) carry nothing
        row, row_problems = _parse_row(stage, label, number, line)
        problems.extend(row_problems)
        if row is None or row_problems:
            continue
        key = row[id_field]
        if key not in known:
            message = f"unknown ID {show(key)}: not in the {stage} config of the dataset"
            problems.append(problem(label, number, id_field, message))
        elif key in first_line:
            problems.append(
                problem(label, number, id_field, f"duplicate of line {first_line[key]}")
            )
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
        problems.append(problem(label, None, id_field, message))
    return rows, problems


def _parse_row(
    stage: str, label: str, number: int, line: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """One JSON line -> (the row, its problems); a non-finite number is reported once, not
    also as the schema's type error."""
    try:
        row = json_loads(line)
    except (ValueError, RecursionError) as error:
        reason = getattr(error, "msg", None) or type(error).__name__
        column = getattr(error, "colno", None)
        at = f" (column {column})" if column else ""
        return None, [problem(label, number, None, f"not valid JSON: {reason}{at}")]
    if not isinstance(row, dict):
        return None, [problem(label, number, None, f"must be a JSON object, got {kind_of(row)}")]
    if too_deep(row):
        return None, [problem(label, number, None, "values are nested too deeply")]
    bad = non_finite_fields(row)
    problems = [
        problem(label, number, show_name(name), f"{show(row[name])} is not a finite number")
        for name in bad
    ]
    problems += [
        problem(label, number, field_label(path), message)
        for path, message in schema_errors(f"{stage}_predictions", row)
        if not (path and path[0] in bad)
    ]
    return row, problems
