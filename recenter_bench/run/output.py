"""Writing a submission folder the project makes (`recenter run`, `recenter baseline`): the last
step of `recenter run` (`write_run`: metadata.yaml, the folder, the scores printed).

The files come from the submissions side's `submission_files` (checked by the same
`check_files` as `recenter validate`, results.json computed by the metric) plus, for an LLM
judge, the raw answers file; the folder is replaced whole (`recenter_bench.atomic.write_folder`),
so a reader sees the earlier run's files or this run's, never a mix, and files of an earlier run
that this one does not write are gone.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recenter_bench import BENCHMARK_VERSION
from recenter_bench.atomic import write_folder
from recenter_bench.errors import UserError, first_line, printable
from recenter_bench.metric.recenter_personalization.recenter_personalization import HEADLINE
from recenter_bench.review import (
    RAW_ANSWERS_FILE,
    Reference,
    Results,
    jsonl_text,
    submission_files,
)
from recenter_bench.review.files import allowed_files
from recenter_bench.run.llm import NONE_CONTACTED
from recenter_bench.run.records import Outcome, System
from recenter_bench.run.runner import UNPARSED_DEFAULT
from recenter_bench.run.systems import LLM_JUDGE


def write_submission(
    out: Path,
    metadata: Mapping[str, Any],
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    reference: Reference,
    raw_answers: Sequence[Mapping[str, Any]] | None = None,
) -> Results:
    """Write a complete submission folder and return its results.json. A folder holding more
    than a submission's files is never replaced (`atomic.refuse_foreign`), checked here too
    because a long run's --out may have changed since it started."""
    files, results = submission_files(out, metadata, predictions, reference)
    if raw_answers is not None:
        files[RAW_ANSWERS_FILE] = jsonl_text(raw_answers).encode("utf-8")
    try:
        write_folder(out, files, allowed_files(), "--out")
    except OSError as error:  # a read-only or full disk: an earlier run's folder, if any, is kept
        reason = error.strerror or first_line(error)
        raise UserError(f"--out: {out}: cannot write the submission ({reason})") from None
    return results


def write_run(
    out: Path,
    system: System,
    outcome: Outcome,
    row: tuple[str, str],
    args: argparse.Namespace,
    reference: Reference,
) -> None:
    """`recenter run`'s last step: write the run's submission folder (metadata.yaml for the row
    `(org, model)`), then print its headline scores and, for an LLM judge, its requests and
    where the answers came from."""
    metadata = build_metadata(system, outcome, *row, args, reference.revision)
    results = write_submission(
        out, metadata, {system.stage: outcome.predictions}, reference, outcome.raw
    )
    headline = HEADLINE[system.stage]
    for split, metrics in results.scores[system.stage].items():
        value = metrics.get(headline)
        shown = "undefined (no labels)" if value is None else f"{value:.3f}"
        print(f"{system.stage}/{split}: {headline} {shown}")
    if system.kind == LLM_JUDGE:
        record = outcome.record
        print(
            f"{record['requests']:,} requests, {record['unparsed']:,} unparsed, "
            f"{record['prompt_tokens']:,} prompt + {record['completion_tokens']:,} "
            "completion tokens"
        )
        print(printable(provenance_line(record)))
    print(printable(f"wrote {out}"))


def _open_weights(stated: bool | None, system_default: Any) -> dict[str, bool]:
    """metadata.yaml's open_weights: the flag, else the system file's value, else left out."""
    value = stated if stated is not None else system_default
    return {"open_weights": value} if isinstance(value, bool) else {}


def build_metadata(
    system: System, outcome: Outcome, org: str, model: str, args: argparse.Namespace, revision: str
) -> dict[str, Any]:
    """metadata.yaml of a run: the row's identity, the system's facts and the run record."""
    from importlib.metadata import version

    record = dict(outcome.record)
    record["recenter_bench"] = version("recenter-bench")
    description = system.description
    if system.kind == LLM_JUDGE:
        description += (
            f" Model {record['model']}; {record['requests']:,} requests, "
            f"{record['unparsed']:,} answer(s) without a readable decision, counted as "
            f"{UNPARSED_DEFAULT[system.stage]}. Every answer is in raw_answers.jsonl."
        )
    else:
        description += f" Chosen: {record['rule']}."
    description += f" Made by `recenter run {system.stage} --system {system.name}`."
    return {
        "model": model,
        "org": org,
        "link": args.link if args.link is not None else system.get("link", ""),
        "type": system.metadata_type,
        # Not stated anywhere: left out, shown as "unknown" (a false "no" would be a claim).
        **_open_weights(args.open_weights, system.get("open_weights")),
        "trained_on": system.trained_on,
        "stages": [system.stage],
        "benchmark_version": BENCHMARK_VERSION,
        "dataset_revision": revision,
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "contact": args.contact,
        "description": description,
        "provenance": "rescored",
        "run": record,
    }


def provenance_line(record: dict[str, Any]) -> str:
    """One line saying which endpoint the run contacted and where its answers came from."""
    first = "; ".join(f"{url}: {count:,}" for url, count in record["first_answered_by"].items())
    cached, total = record["answers_from_cache"], record["requests"]
    if record["endpoint_contacted"] == NONE_CONTACTED:
        return (
            f"no endpoint contacted: all {cached:,} answers came from the cache "
            f"(first answered by {first})"
        )
    return (
        f"contacted {record['endpoint_contacted']}; {cached:,} of {total:,} answers from the "
        f"cache; first answered by {first}"
    )
