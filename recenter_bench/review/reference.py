"""`Reference`: the rows a submission is checked and scored against, per stage and split.

A record, below every step: the dataset step (`review.dataset.load_reference`) makes it, and
check, score and `recenter run`'s runner read it. It lives apart from the loading code so that
reading it never enters the dataset step again. The stages and ID fields are the metric's stage
records, read when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    ID_FIELD,
    STAGES,
)


@dataclass(frozen=True)
class Reference:
    """The dataset side of a check: every row per stage and split, and its revision."""

    source: str
    revision: str
    rows: dict[str, dict[str, list[dict[str, Any]]]]

    @classmethod
    def from_rows(
        cls, source: str, revision: str, rows: Mapping[str, Mapping[str, list[dict[str, Any]]]]
    ) -> Reference:
        """A reference with every stage present (a stage the dataset lacks has no splits)."""
        return cls(source, revision, {stage: dict(rows.get(stage, {})) for stage in STAGES})

    @cached_property
    def split_of_id(self) -> dict[str, dict[str, str]]:
        """{stage: {row ID: split}}, built once: every prediction line is looked up in it."""
        return {
            stage: {
                row[ID_FIELD[stage]]: split
                for split, split_rows in by_split.items()
                for row in split_rows
            }
            for stage, by_split in self.rows.items()
        }

    @cached_property
    def test_ids_by_stage(self) -> dict[str, list[str]]:
        """{stage: the IDs of its test split}, built once (an attribute, so the check reads it
        without calling back into this step)."""
        return {
            stage: [row[ID_FIELD[stage]] for row in by_split.get("test", [])]
            for stage, by_split in self.rows.items()
        }

    def test_ids(self, stage: str) -> list[str]:
        return self.test_ids_by_stage[stage]
