"""The records a run passes from step to step: the resolved `System`, the `Context` its kind
runs in, and the `Outcome` it produces.

They are data, below every step of `recenter run` (systems -> dataset -> runner -> the kind ->
output): each step reads them, none calls back into the step that made them. A `System` carries
its kind's registration (`Kind`, from `run.kinds`), resolved once when the file is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from recenter_bench.run.kinds import Kind

# The splits whose labels a fitted system may read (`fit_on`, `choose_on`); never test.
FITTING_SPLITS = ("train", "validation")


@dataclass(frozen=True)
class System:
    """One system, as read from its file (plus flags); `fields` holds the kind's settings and
    `spec` the registration of its kind (what it runs, whether it is fitted)."""

    name: str
    source: str
    kind: str
    stage: str
    description: str
    spec: Kind
    fields: dict[str, Any] = field(default_factory=dict)
    # The prompt was given as a file on the command line (`--prompt FILE`), not by name.
    explicit_prompt: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    @property
    def fit_on(self) -> str:
        """The split whose labels fit the system's parameters (a threshold, weights)."""
        return self.get("fit_on", "train")

    @property
    def choose_on(self) -> str:
        """The split whose labels choose between candidates (default: `fit_on`)."""
        return self.get("choose_on", self.fit_on)

    @property
    def choose_by(self) -> str:
        """`validation` (fit on `fit_on`, choose on `choose_on`) or `grouped-cv`."""
        return self.get("choose_by", "validation")

    @property
    def trained_on(self) -> list[str]:
        """The splits whose labels the system reads (metadata's `trained_on`)."""
        if not self.spec.fitted:
            return []
        if self.choose_by == "grouped-cv":
            return list(FITTING_SPLITS)
        return [s for s in FITTING_SPLITS if s in (self.fit_on, self.choose_on)]

    @property
    def metadata_type(self) -> str:
        return self.spec.metadata_type


@dataclass
class Context:
    """What a kind's run function gets besides its system and rows: the stage, and for an LLM
    judge the endpoint, the answer cache, the conversations (Stage 1) and the progress flag."""

    stage: str
    endpoint: Any = None
    cache: Any = None
    conversations: Sequence[Mapping[str, Any]] = ()
    show_progress: bool = True


@dataclass
class Outcome:
    """What a run produced: prediction rows, raw answers (LLM judges), the metadata `run`
    record, and the failed requests (a run with any writes no submission)."""

    predictions: list[dict[str, Any]]
    record: dict[str, Any]
    raw: list[dict[str, Any]] | None = None
    failures: list[str] = field(default_factory=list)


def pairing_rows(
    decisions: np.ndarray, scores: np.ndarray, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The rows of a pairing predictions file: each pair's decision and its score."""
    return [
        {"pair_id": row["pair_id"], "relevant": bool(decision), "score": round(float(score), 6)}
        for row, decision, score in zip(rows, decisions, scores, strict=True)
    ]
