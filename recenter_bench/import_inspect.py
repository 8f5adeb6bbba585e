"""`recenter import-inspect LOG --out submissions/<org>__<model>/<run>`: an Inspect AI log of a
`recenter_bench/<stage>` task -> a submission folder.

Each sample's answer is decided again by `recenter_bench.run.judge.decide` (the parsers
`recenter run` uses), so the predictions do not depend on what the log's scorer recorded; the
folder (predictions, every answer in raw_answers.jsonl, metadata with a `run:` record naming
Inspect's version, the model and the task's arguments) is written by the same
`write_submission` as `recenter run`'s, so it validates and scores like any other.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from recenter_bench import BENCHMARK_VERSION
from recenter_bench.errors import UserError, first_line
from recenter_bench.review import (
    RAW_ANSWERS_FILE,
    STAGES,
    Results,
    load_reference,
    metric_module,
)
from recenter_bench.run.destination import check_out_writable, out_identity
from recenter_bench.run.judge import BOTH_ORDERS_NOTE, judge_stage
from recenter_bench.run.output import write_submission
from recenter_bench.run.runner import UNPARSED_DEFAULT

TASK_PACKAGE = "recenter_bench"
# An Inspect log of the largest stage (a few thousand samples, each with its answer) is tens of
# MB; a file far past that is not one of ours and is refused before it is parsed.
MAX_LOG_BYTES = 1024 * 1024 * 1024


def read_log(path: Path) -> Any:
    """The Inspect log at `path` (`.eval` or `.json`), checked to be a finished run of one of
    the benchmark's tasks."""
    from inspect_ai.log import read_eval_log

    try:
        size = path.stat().st_size
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror})") from None
    if not path.is_file():
        raise UserError(f"{path}: not a file (expected an Inspect log, .eval or .json)")
    if size > MAX_LOG_BYTES:
        raise UserError(f"{path}: larger than {MAX_LOG_BYTES // 2**20} MiB; not an Inspect log")
    try:
        log = read_eval_log(str(path))
    except Exception as error:  # any parse failure of a file that is not an Inspect log
        raise UserError(f"{path}: not a readable Inspect log ({first_line(error)[:200]})") from None
    if log.status != "success":
        why = f": {first_line(Exception(log.error.message))[:200]}" if log.error else ""
        raise UserError(f"{path}: the Inspect run did not finish (status {log.status}{why})")
    if task_stage(log) not in STAGES:
        raise UserError(
            f"{path}: task {log.eval.task!r} is not one of "
            + ", ".join(f"{TASK_PACKAGE}/{s}" for s in STAGES)
        )
    if not log.samples:
        raise UserError(f"{path}: the log holds no samples")
    return log


def task_stage(log: Any) -> str | None:
    """The stage of a log of one of the benchmark's tasks: `recenter_bench/<stage>` (or the bare
    name, for a task object run in-process), confirmed by the task's own metadata."""
    name = log.eval.task.removeprefix(f"{TASK_PACKAGE}/")
    return name if (log.eval.metadata or {}).get("stage") == name else None


def answers_of(path: Path, log: Any) -> tuple[list[Any], list[Any], int, int]:
    """(queries, answers, prompt tokens, completion tokens) of every sample of the log."""
    from recenter_bench.run.judge import Query
    from recenter_bench.run.llm import Answer

    queries, answers, prompt_tokens, completion_tokens = [], [], 0, 0
    for sample in log.samples:
        if sample.error is not None:
            raise UserError(
                f"{path}: sample {sample.id}: failed in Inspect ({sample.error.message[:200]})"
            )
        metadata = sample.metadata or {}
        if "row_id" not in metadata:
            raise UserError(f"{path}: sample {sample.id}: metadata: row_id: missing")
        queries.append(Query(str(metadata["row_id"]), metadata.get("order"), ""))
        answers.append(Answer(text=sample.output.completion if sample.output else ""))
        for usage in (sample.model_usage or {}).values():
            prompt_tokens += usage.input_tokens
            completion_tokens += usage.output_tokens
    return queries, answers, prompt_tokens, completion_tokens


def run_record(log: Any, stage: str, requests: int, unparsed: int, tokens: tuple[int, int]) -> dict:
    """The metadata `run:` record of an Inspect run."""
    from importlib.metadata import version

    task = log.eval.metadata or {}
    record: dict[str, Any] = {
        "system": task.get("system") or f"llm-judge-{stage}",
        "kind": "llm-judge",
        "model": log.eval.model,
        "prompt": task.get("prompt"),
        "prompt_version": task.get("prompt_version"),
        "decoding": task.get("decoding"),
        "requests": requests,
        "unparsed": unparsed,
        "prompt_tokens": tokens[0],
        "completion_tokens": tokens[1],
        "raw_answers": RAW_ANSWERS_FILE,
        "recenter_bench": version("recenter-bench"),
        "inspect_ai": (log.eval.packages or {}).get("inspect_ai") or version("inspect-ai"),
        "inspect_task": log.eval.task,
        "task_args": {
            name: value
            for name, value in (log.eval.task_args or {}).items()
            if value is None or isinstance(value, str | int | float | bool)
        },
    }
    if judge_stage(stage).both_orders:
        record["position_bias"] = BOTH_ORDERS_NOTE
    return {k: v for k, v in record.items() if v is not None}


def import_inspect(
    log_path: Path,
    out: Path,
    dataset: str | None = None,
    *,
    org: str | None = None,
    display_name: str | None = None,
    link: str = "",
    open_weights: bool = False,
    contact: str = "",
) -> Results:
    """Write the submission folder of an Inspect log; return its results.json document."""
    from recenter_bench.run.judge import decide

    org, model = out_identity(out, org, display_name)
    check_out_writable(out)
    log = read_log(log_path)
    stage = task_stage(log)
    task = log.eval.metadata or {}
    reference = load_reference(dataset or (log.eval.task_args or {}).get("dataset"))
    ran_on = task.get("dataset_revision")
    if ran_on and ran_on != reference.revision:
        raise UserError(
            f"--dataset: revision {reference.revision}, but the Inspect run used revision "
            f"{ran_on}; pass the dataset the run read"
        )
    queries, answers, *tokens = answers_of(log_path, log)
    decided = decide(stage, queries, answers)
    record = run_record(log, stage, len(queries), decided.unparsed, (tokens[0], tokens[1]))
    description = (
        f"Zero-shot {stage} judge {log.eval.model} run with Inspect AI {record['inspect_ai']} "
        f"(`inspect eval {log.eval.task}`, system {record['system']}, prompt "
        f"{record.get('prompt_version', '?')}); {len(queries):,} answers, "
        f"{decided.unparsed:,} without a readable decision, counted as "
        f"{UNPARSED_DEFAULT[stage]}. Every answer is in raw_answers.jsonl. Imported with "
        "`recenter import-inspect`."
    )
    metadata = {
        "model": model,
        "org": org,
        "link": link,
        "type": "zero-shot LLM",
        "open_weights": open_weights,
        "trained_on": [],
        "stages": [stage],
        "benchmark_version": BENCHMARK_VERSION,
        "dataset_revision": reference.revision,
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "contact": contact,
        "description": description,
        "provenance": "rescored",
        "run": record,
    }
    return write_submission(out, metadata, {stage: decided.predictions}, reference, decided.raw)


def import_inspect_command(args: argparse.Namespace) -> int:
    """`recenter import-inspect LOG --out DIR [--dataset D] [--org O] [--display-name M]`."""
    try:
        import inspect_ai  # noqa: F401
    except ModuleNotFoundError:
        raise UserError(
            "`recenter import-inspect` needs inspect_ai, which is not installed: "
            "pip install 'recenter-bench[inspect]'"
        ) from None
    out = Path(args.out)
    results = import_inspect(
        Path(args.log),
        out,
        args.dataset,
        org=args.org,
        display_name=args.display_name,
        link=args.link,
        open_weights=args.open_weights,
        contact=args.contact,
    )
    headline = metric_module().HEADLINE
    for stage, splits in results.scores.items():
        for split, metrics in splits.items():
            value = metrics.get(headline[stage])
            shown = "undefined (no labels)" if value is None else f"{value:.3f}"
            print(f"{stage}/{split}: {headline[stage]} {shown}")
    print(f"wrote {out}")
    return 0
