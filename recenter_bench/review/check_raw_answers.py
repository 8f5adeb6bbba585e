"""Check raw_answers.jsonl (`recenter run`'s record of every answer of an LLM judge)."""

from __future__ import annotations

from recenter_bench.review.check_predictions import checked_lines, parse_row
from recenter_bench.review.dataset import Reference
from recenter_bench.review.files import Problems, id_fields, show

RAW_ANSWERS_SCHEMA = "raw_answers"


def check_raw_answers(
    label: str, text: str | None, reference: Reference, problems: Problems
) -> None:
    """Check a raw_answers.jsonl (`recenter run`'s record of every answer of an LLM judge) by
    the stage files' reader: its schema, and IDs of the dataset. The answers themselves are
    untrusted text, quoted only escaped."""
    if text is None:  # not UTF-8, already reported
        return
    id_field = id_fields()
    for number, row in checked_lines(
        label, text, lambda line: parse_row(RAW_ANSWERS_SCHEMA, line), problems
    ):
        stage, key = next((s, row[f]) for s, f in id_field.items() if f in row)
        if key not in reference.split_of_id[stage]:
            message = f"unknown ID {show(key)}: not in the {stage} config of the dataset"
            problems.add(label, number, id_field[stage], message)
