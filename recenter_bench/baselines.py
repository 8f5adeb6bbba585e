"""No-skill baselines: the metric's predictions of a system that does not look at the input.

`recenter baseline NAME --out submissions/recenter-bench__<NAME>/<run>` writes a complete
submission folder (metadata.yaml, one `<config>.jsonl` per stage, results.json), checked by the
same `check_files` as every other submission and scored by the metric. Nothing here computes a
score: the predictions come from the metric module. Systems that read the input (BM25,
embeddings, LLM judges) are `recenter run` systems.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from recenter_bench import BENCHMARK_VERSION
from recenter_bench.errors import UserError, printable
from recenter_bench.review import (
    PROJECT_ORG,
    STAGES,
    Reference,
    folder_name,
    identity_of,
    load_reference,
    metric_module,
)
from recenter_bench.run.output import write_submission

ORG = PROJECT_ORG
LINK = "https://github.com/recenter-bench/recenter-bench"


def _labelled_stages(reference: Reference) -> list[str]:
    """Stages with at least one human label: a baseline enters only where it can be scored."""
    reference_value = metric_module().reference_value
    return [
        stage
        for stage in STAGES
        if any(
            reference_value(stage, row) is not None
            for rows in reference.rows[stage].values()
            for row in rows
        )
    ]


def baseline_names() -> list[str]:
    return list(metric_module().BASELINES)


def _unknown(name: str) -> str:
    hint = "; BM25 is `recenter run pairing --system bm25s`" if name.lower() == "bm25" else ""
    return (
        f"baseline: unknown baseline {name!r} (expected one of {', '.join(baseline_names())})"
        + hint
    )


def baseline_submission(
    name: str, reference: Reference, seed: int = 0
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(metadata, {stage: prediction rows}) of one baseline on one dataset."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    common = {
        "org": ORG,
        "link": LINK,
        "open_weights": True,
        "benchmark_version": BENCHMARK_VERSION,
        "dataset_revision": reference.revision,
        "date": today,
        "contact": "",
        "provenance": "rescored",
    }
    stages = _labelled_stages(reference)
    baselines = metric_module().BASELINES
    if name not in baselines:
        raise UserError(_unknown(name))
    all_predictions = metric_module().no_skill_predictions(
        {s: reference.rows[s] for s in stages}, seed=seed
    )
    predictions = {s: rows for s, rows in all_predictions.get(name, {}).items() if s in stages}
    if not predictions:
        raise UserError(
            f"baseline: {name} enters {', '.join(baselines[name][0])}, none of which has human "
            "labels in this dataset"
        )
    uses_train = name in ("random-at-human-rate", "constant-human-mean")
    description = (
        f"No-skill baseline from the metric module ({name}): {baselines[name][1]}. "
        + ("Its rate comes from the train split's labels. " if uses_train else "")
        + f"Seed {seed}. Made by `recenter baseline {name}`; it shows what a system scores "
        "without looking at the input."
    )
    metadata = {
        "model": name,
        **common,
        "type": "baseline",
        "trained_on": ["train"] if uses_train else [],
        "stages": [s for s in STAGES if s in predictions],
        "description": description,
    }
    return metadata, predictions


def baseline_command(args: argparse.Namespace) -> int:
    """`recenter baseline NAME --out SUBMISSION_DIR [--dataset D]`."""
    if args.name not in baseline_names():
        raise UserError(_unknown(args.name))
    reference = load_reference(args.dataset)
    metadata, predictions = baseline_submission(args.name, reference)
    out = Path(args.out)
    org_model, _ = identity_of(out)
    expected = folder_name(metadata["org"], metadata["model"])
    if org_model != expected:
        raise UserError(f"--out: {out}: the folder must be {expected}/<run> for this baseline")
    results = write_submission(out, metadata, predictions, reference)
    headline = metric_module().HEADLINE
    for stage, splits in results.scores.items():
        for split in ("test", "all"):
            value = splits.get(split, {}).get(headline[stage])
            shown = "undefined" if value is None else f"{value:.3f}"
            print(f"{args.name}: {stage} {split} {headline[stage]} {shown}")
    print(printable(f"wrote {out}"))
    return 0


__all__ = ["baseline_command", "baseline_names", "baseline_submission"]
