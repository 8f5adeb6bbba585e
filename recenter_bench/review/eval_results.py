"""A scored submission as the Hub's model-repo results file, `.eval_results/<name>.yaml`.

The Hub's format (hub-docs `eval_results.yaml`): a YAML list, one entry per result, each with
`dataset: {id, task_id, revision}`, `value`, and optionally `date`, `source: {url, name, user}`
and `notes`. Here there is one entry per task of the benchmark's `eval.yaml` (one per stage, on
its held-out split) that the submission has a score for: `value` is the stage's headline metric
on that split as results.json holds it, `revision` the dataset revision it was scored on.
Only a re-scored submission qualifies: the paper's reported rows are not runs of a system on
this dataset.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from recenter_bench.atomic import write_file
from recenter_bench.errors import UserError, ValidationFailed
from recenter_bench.paths import HUB_DATASET_ID, HUB_LEADERBOARD_ID
from recenter_bench.review.check_metadata import check_metadata
from recenter_bench.review.check_results import check_results_file
from recenter_bench.review.files import METADATA_FILE, RESULTS_FILE, folder_label, identity_of
from recenter_bench.review.model import Results
from recenter_bench.review.read import read_submission
from recenter_bench.review.score import metric_module

RESULTS_FOLDER = ".eval_results"


def benchmark_tasks() -> list[dict[str, Any]]:
    """The tasks of the benchmark's eval.yaml: id, config (= stage) and split."""
    from recenter_bench.loaders.card import render_eval_yaml

    return [
        {"id": t["id"], "config": t.get("config", "default"), "split": t.get("split", "test")}
        for t in yaml.safe_load(render_eval_yaml())["tasks"]
    ]


def predictions_url(folder: Path, space: str = HUB_LEADERBOARD_ID) -> str:
    """Where a submission's predictions live once accepted: its folder in the leaderboard
    Space's repository."""
    org_model, run = identity_of(folder)
    return f"https://huggingface.co/spaces/{space}/tree/main/submissions/{org_model}/{run}"


def read_scored(folder: Path) -> tuple[dict[str, Any], Results]:
    """(metadata, results) of a submission folder, each checked against its schema; any
    problem is a ValidationFailed naming file, line and field."""
    label = partial(folder_label, folder)
    read = read_submission(folder, label)
    if read.unreadable or (read.problems and not read.files):
        raise ValidationFailed(read.problems)
    for name in (METADATA_FILE, RESULTS_FILE):
        if name not in read.files:
            # refused by the reader (too large, a link, ...): say why, not that it is missing
            refused = [line for line in read.problems if line.startswith(f"{folder / name}:")]
            if refused:
                raise ValidationFailed(refused)
            hint = " (run `recenter score --write` first)" if name == RESULTS_FILE else ""
            raise UserError(f"{folder / name}: missing{hint}")
    identity = identity_of(folder)
    problems = list(read.parse_problems.get(METADATA_FILE, []))
    metadata_doc = read.documents.get(METADATA_FILE)
    if metadata_doc is not None:
        problems += check_metadata(metadata_doc, label, identity)
    metadata = metadata_doc.data if metadata_doc else {}
    problems += read.parse_problems.get(RESULTS_FILE, [])
    results_doc = None
    if RESULTS_FILE in read.documents:
        results_doc, found = check_results_file(
            read.documents[RESULTS_FILE], label(RESULTS_FILE), metadata, identity
        )
        problems += found
    if problems or results_doc is None:
        raise ValidationFailed(problems or [f"{folder / RESULTS_FILE}: not a results file"])
    return metadata, Results.from_dict(results_doc.data)


def notes_of(metadata: dict[str, Any], folder: Path) -> str:
    """The evaluation setup in one line: the system and prompt version of the `run:` record,
    or where the predictions came from when the submission has none."""
    run = metadata.get("run") or {}
    parts = [
        f"{label} {run[key]}"
        for key, label in (
            ("system", "system"),
            ("model", "model"),
            ("prompt_version", "prompt"),
            ("inspect_ai", "inspect-ai"),
        )
        if run.get(key)
    ]
    if not parts:
        parts = [f"predictions of {metadata.get('model', '?')} ({metadata.get('type', '?')})"]
    org_model, name = identity_of(folder)
    return f"{'; '.join(parts)}; recenter-bench submission {org_model}/{name}"


def eval_results(
    folder: Path, dataset_id: str = HUB_DATASET_ID, source_url: str | None = None
) -> list[dict[str, Any]]:
    """The `.eval_results` entries of a scored, re-scored submission folder."""
    folder = Path(folder)
    metadata, results = read_scored(folder)
    if results.provenance != "rescored":
        raise UserError(
            f"{folder / RESULTS_FILE}: provenance {results.provenance!r}: only a "
            "re-scored submission (predictions scored by the metric) has results for the Hub"
        )
    headline = metric_module().HEADLINE
    org_model, run = identity_of(folder)
    entries = []
    for task in benchmark_tasks():
        stage, split = task["config"], task["split"]
        value = results.scores.get(stage, {}).get(split, {}).get(headline.get(stage))
        if value is None:
            continue
        entry: dict[str, Any] = {
            "dataset": {
                "id": dataset_id,
                "task_id": task["id"],
                "revision": results.dataset_revision,
            },
            "value": float(value),
        }
        if metadata.get("date"):
            entry["date"] = str(metadata["date"])
        entry["source"] = {
            "url": source_url or predictions_url(folder),
            "name": f"recenter-bench submission {org_model}/{run}",
            "user": str(metadata.get("org") or org_model.partition("__")[0]),
        }
        entry["notes"] = notes_of(metadata, folder)
        entries.append(entry)
    if not entries:
        splits = ", ".join(sorted({t["split"] for t in benchmark_tasks()}))
        raise UserError(f"{folder / RESULTS_FILE}: no stage has a {splits} score to report")
    return entries


def eval_results_text(entries: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=100)


def eval_results_name(folder: Path) -> str:
    """The file name in a model repo: one file per submission (one variant per file)."""
    org_model, run = identity_of(Path(folder))
    return f"recenter-personalization__{org_model}__{run}.yaml"


def eval_results_command(args: argparse.Namespace) -> int:
    """`recenter eval-results RUN [--out FILE] [--source-url URL]`."""
    folder = Path(args.submission)
    text = eval_results_text(eval_results(folder, source_url=args.source_url))
    if not args.out:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if out.exists():
        raise UserError(f"--out: {out}: already exists (not replaced; remove it or pick another)")
    if not out.parent.is_dir():
        raise UserError(f"--out: {out.parent}: no such folder")
    try:
        write_file(out, text.encode("utf-8"))
    except OSError as error:
        raise UserError(f"--out: {out}: cannot be written ({error.strerror})") from None
    print(f"wrote {out}", file=sys.stderr)
    return 0
