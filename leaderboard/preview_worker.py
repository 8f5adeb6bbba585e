"""What a preview worker process runs: the job and its warm-up (`limits.PreviewRunner`).

Kept apart from the Submit tab (`submit.py`) because a worker imports the module its functions
live in: this one needs the validator, the metric and the board's ranking, not Gradio, whose
import alone took 2.3 s of a worker's 2.9 s start here, on the cores the first visitor's page
is painted with.
"""

from __future__ import annotations

import functools
from typing import Any

from recenter_bench.leaderboard.ranking import predictions_of


def preview_job(contents: dict[str, bytes], dataset: str | None) -> tuple[Any, ...]:
    """What a worker process computes: (messages, scores, predictions by stage)."""
    from recenter_bench.review import STAGE_FILES, preview_with_rows

    messages, scores, rows = preview_with_rows(contents, worker_dataset(dataset))
    predictions = {}
    if scores is not None:
        for stage in STAGE_FILES.values():
            if stage in rows:
                predictions[stage] = predictions_of(stage, rows[stage])
    return messages, scores, predictions


@functools.cache
def worker_dataset(dataset: str | None) -> str:
    """The dataset folder a worker scores against, resolved once per worker: without
    `--dataset`, resolving hashes the whole preview release to find its built copy (~0.1 s,
    a tenth of a preview), and the board beside it was loaded once at start anyway."""
    from recenter_bench.review import resolve_dataset

    return resolve_dataset(dataset)


def warm_worker(dataset: str | None) -> None:
    """A worker's start: import the validator and load the dataset once."""
    from recenter_bench.review import load_reference

    load_reference(worker_dataset(dataset))
