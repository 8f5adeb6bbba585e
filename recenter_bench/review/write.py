"""Step 5, write: the committed text of each file of a submission, results.json written
atomically (a reader never sees half a file), and the lines `recenter score` prints."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from recenter_bench.atomic import write_file
from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.paths import load_schema
from recenter_bench.review.files import RESULTS_FILE
from recenter_bench.review.model import Results


def metadata_text(metadata: Mapping[str, Any]) -> str:
    """metadata.yaml as the project writes it: the schema's field order, block style."""
    order = list(load_schema("submission_metadata")["properties"])
    ordered = {key: metadata[key] for key in sorted(metadata, key=order.index)}
    return yaml.safe_dump(
        ordered, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def jsonl_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """One JSON object per line, each line ending in a newline."""
    return "".join(
        json.dumps(dict(row), ensure_ascii=False, allow_nan=False) + "\n" for row in rows
    )


def write_results(folder: Path, results: Results) -> None:
    """Replace a submission's results.json atomically (its text: `Results.to_json`)."""
    write_file(Path(folder) / RESULTS_FILE, results.to_json().encode("utf-8"))


def headline_lines(results: Results) -> list[str]:
    """One line per stage and split: the headline metric with its CI (or, for a reported row
    without it, the numbers the paper gives)."""
    headline = metric.HEADLINE
    lines = []
    for stage, splits in results.scores.items():
        name = headline[stage]
        for split, metrics in splits.items():
            if name not in metrics:
                given = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if v is not None)
                lines.append(f"  {stage:<17} {split:<10} {given}")
                continue
            value = metrics[name]
            low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
            shown = "undefined" if value is None else f"{value:.3f}"
            if low is not None and high is not None:
                shown += f" [{low:.3f}, {high:.3f}]"
            n = metrics.get("n")
            count = f"  (n={int(n)})" if isinstance(n, int | float) else ""
            lines.append(f"  {stage:<17} {split:<10} {name} {shown}{count}")
    return lines
