"""Run one system over one stage of a dataset: its predictions, raw answers and run record.

`run_system` takes the stage's rows of the asked splits, checks a fitted system has its
fitting splits, and hands the rows to the kind's run function (the system's `spec`, resolved
when the file was read): the retrieval kinds are registered in `run.retrieval`, the trained
ones in `run.trained`, the LLM judge in `run.judge`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError
from recenter_bench.review import ID_FIELD, Reference
from recenter_bench.run.judge import JUDGE_STAGES
from recenter_bench.run.records import Context, Endpoint, Outcome, System

SPLIT_ORDER = ("train", "validation", "test")
# The fitted kinds score a prompt against an attribute and learn from a yes/no label of the
# pair: that is the shape of this one stage's rows (a fact of these kinds, not of the stage).
PAIR_STAGE = "pairing"
# What an answer without a readable decision counts as, per stage (the judge's adapters say).
UNPARSED_DEFAULT = {stage: adapter.unparsed for stage, adapter in JUDGE_STAGES.items()}


def stage_rows(
    reference: Reference, stage: str, splits: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, split of each row) of the requested splits, sorted by ID."""
    id_field = ID_FIELD[stage]
    found = [
        (row, split)
        for split in SPLIT_ORDER
        if split in splits
        for row in reference.rows[stage].get(split, [])
    ]
    if not found:
        raise UserError(f"{reference.source}: no {stage} rows in the split(s) {', '.join(splits)}")
    found.sort(key=lambda pair: pair[0][id_field])
    return [row for row, _ in found], [split for _, split in found]


def run_system(
    system: System,
    reference: Reference,
    splits: Sequence[str],
    endpoint: Endpoint | None = None,
    cache_dir: Path | None = None,
    conversations: Sequence[Mapping[str, Any]] = (),
    show_progress: bool = True,
) -> Outcome:
    """Run `system` over its stage's rows of `splits`; the record gains the system's name."""
    kind = system.spec
    rows, row_splits = stage_rows(reference, system.stage, splits)
    context = Context(system.stage, endpoint, cache_dir, conversations, show_progress)
    if not kind.fitted:
        outcome = kind.run(system, rows, row_splits, context)
    else:
        if system.stage != PAIR_STAGE:
            raise UserError(
                f"{system.source}: stage: a {system.kind} system runs on {PAIR_STAGE} only"
            )
        missing = set(system.trained_on) - set(splits)
        if missing:
            raise UserError(f"--splits: {system.name} needs the {', '.join(sorted(missing))} split")
        outcome = kind.run(system, rows, row_splits, context)
        if system.choose_by == "grouped-cv":
            outcome.record["choose_by"] = system.choose_by
        else:
            outcome.record.update({"fit_on": system.fit_on, "choose_on": system.choose_on})
    outcome.record = {"system": system.name, "kind": system.kind, **outcome.record}
    return outcome
