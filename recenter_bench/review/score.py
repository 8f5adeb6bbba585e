"""Step 3, score a submission: the results.json it earns (every score from the metric module;
nothing here computes a metric)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from recenter_bench import BENCHMARK_VERSION
from recenter_bench.review.dataset import Reference
from recenter_bench.review.files import stages
from recenter_bench.review.model import Results


def metric_module() -> Any:
    """The metric module (imported lazily: it pulls in scipy)."""
    from recenter_bench.metric.recenter_personalization import recenter_personalization

    return recenter_personalization


def _json_value(value: Any) -> Any:
    """A metric value as results.json stores it: finite float, or null."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def compute_results(
    submission: str,
    predictions: Mapping[str, list[dict[str, Any]]],
    reference: Reference,
) -> Results:
    """The results.json a rescored submission earns: the metric's scores on the dataset."""
    metric = metric_module()
    entered = [s for s in stages() if s in predictions]
    scores = metric.score_submission(
        {s: predictions[s] for s in entered}, {s: reference.rows[s] for s in entered}
    )
    return Results(
        submission=submission,
        benchmark_version=BENCHMARK_VERSION,
        dataset_revision=reference.revision,
        metric_version=metric.METRIC_VERSION,
        provenance="rescored",
        scores={
            stage: {
                split: {name: _json_value(value) for name, value in metrics.items()}
                for split, metrics in scores[stage].items()
            }
            for stage in entered
        },
    )
