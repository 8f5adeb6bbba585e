"""`recenter validate / score / submit` (the handlers named in recenter/cli.py HANDLERS)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recenter_bench.errors import UserError, ValidationFailed, printable, printable_lines
from recenter_bench.paths import HUB_LEADERBOARD_ID
from recenter_bench.review.dataset import HUB_ID, load_reference
from recenter_bench.review.files import RESULTS_FILE, identity_of
from recenter_bench.review.hub import open_pull_request, open_results_pull_request
from recenter_bench.review.pipeline import check_folder, score_folder, validate_submission
from recenter_bench.review.write import headline_lines


def existing_folder(text: str) -> Path:
    """The submission folder a command was given, checked before any dataset is loaded (a
    mistyped folder is the problem to report, not a dataset that could not be fetched)."""
    folder = Path(text)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such submission folder")
    return folder


def validate_command(args: argparse.Namespace) -> int:
    """`recenter validate SUBMISSION [--dataset D] [--require-results]`."""
    folder = existing_folder(args.submission)
    reference = load_reference(args.dataset)
    problems = validate_submission(
        folder, require_results=args.require_results, reference=reference
    )
    if problems:
        raise ValidationFailed(problems)
    print(printable(f"{folder}: valid (dataset revision {reference.revision})"))
    return 0


def score_command(args: argparse.Namespace) -> int:
    """`recenter score SUBMISSION [--dataset D] [--json] [--write]`."""
    folder = existing_folder(args.submission)
    results = score_folder(folder, reference=load_reference(args.dataset), write=args.write)
    if args.json:
        print(results.to_json(), end="")
    else:
        heading = (
            f"{results.submission}: {results.provenance}, dataset revision "
            f"{results.dataset_revision}"
        )
        print(printable_lines("\n".join([heading, *headline_lines(results)])))
    if args.write:
        print(printable(f"wrote {folder / RESULTS_FILE}"), file=sys.stderr)
    return 0


def submit_command(args: argparse.Namespace) -> int:
    """`recenter submit SUBMISSION [--repo ID | --model-repo ORG/MODEL] [--dataset D]`:
    validate, then open a Hub PR: the submission on the leaderboard Space, or (--model-repo)
    its `.eval_results/` file on the model's repository."""
    folder = existing_folder(args.submission)
    model_repo = getattr(args, "model_repo", None)
    if model_repo is not None and not HUB_ID.match(model_repo):
        raise UserError(f"--model-repo: {model_repo[:80]!r} is not a Hub model ID (ORG/MODEL)")
    checked = check_folder(folder, load_reference(args.dataset), require_results=True)
    if checked.problems:
        raise ValidationFailed(checked.problems)
    if model_repo is not None:
        from recenter_bench.review.eval_results import (
            RESULTS_FOLDER,
            eval_results,
            eval_results_name,
            eval_results_text,
        )

        text = eval_results_text(eval_results(folder))
        path = f"{RESULTS_FOLDER}/{eval_results_name(folder)}"
        description = (
            f"Adds `{path}`: the held-out scores of the recenter-bench submission "
            f"`{'/'.join(identity_of(folder))}`, validated and re-scored with `recenter "
            "validate` (format: https://huggingface.co/docs/hub/eval-results)."
        )
        url = open_results_pull_request(model_repo, path, text.encode("utf-8"), description)
        print(f"opened {url}")
        return 0
    print(f"opened {open_pull_request(folder, checked.files, args.repo or HUB_LEADERBOARD_ID)}")
    return 0
