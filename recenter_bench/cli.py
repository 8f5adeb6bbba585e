"""`recenter`: one entry point; each sub-command hands its arguments to the room that owns the job.

Every command handler has the signature `handler(args: argparse.Namespace) -> int` and raises
`recenter_bench.errors.UserError` for bad input; this module turns that into one line on stderr and
exit code 1, so a user never sees a traceback for their own mistake.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from recenter_bench.errors import UserError, ValidationFailed, printable
from recenter_bench.paths import HUB_LEADERBOARD_ID
from recenter_bench.run.arguments import add_run_parser

# command -> "module:function"; imported only when the command runs, so `recenter --help`
# stays fast and a room's heavy imports (gradio, datasets) load only when needed.
HANDLERS = {
    "build": "recenter_bench.loaders.cli:build",
    "push": "recenter_bench.loaders.cli:push",
    "validate": "recenter_bench.review:validate_command",
    "score": "recenter_bench.review:score_command",
    "submit": "recenter_bench.review:submit_command",
    "eval-results": "recenter_bench.review.eval_results:eval_results_command",
    "check-pr": "recenter_bench.review.pr_check:check_pr_command",
    "baseline": "recenter_bench.baselines:baseline_command",
    "run": "recenter_bench.run.command:run_command",
    "reproduce": "recenter_bench.reproduce:reproduce_command",
    "analyze": "recenter_bench.analyze:analyze_command",
    "import-votes": "recenter_bench.import_votes:import_votes_command",
    "import-inspect": "recenter_bench.import_inspect:import_inspect_command",
    "leaderboard": "recenter_bench.leaderboard.app:leaderboard_command",
    "space": "recenter_bench.space:space_command",
}
# Commands whose libraries are not in the core install: the extra that adds them.
EXTRAS = {"leaderboard": "space"}


class _Parser(argparse.ArgumentParser):
    """A usage mistake is a user mistake like any other: one line on stderr, exit code 1
    (argparse would print the whole usage and exit with 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def _port(text: str) -> int:
    """A TCP port number, checked before the app is built (Gradio would fail late, with a
    traceback, on a number past 65535)."""
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text[:12]!r} is not a TCP port (1-65535)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="recenter",
        description="Build, score and rank the Re-Centering Humans personalization benchmark.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="authors' export files -> Hub-ready dataset folder")
    p.add_argument("--release", required=True, help="folder in the annotation-tool export layout")
    p.add_argument("--out", required=True, help="dataset folder to create")
    p.add_argument("--wildchat", help="WildChat Parquet/JSONL file or folder, or a Hub dataset ID")
    p.add_argument(
        "--expect-paper-counts",
        action="store_true",
        help="fail unless the release has the paper's counts",
    )

    p = sub.add_parser("push", help="upload a built dataset folder to the Hub")
    p.add_argument("folder")
    p.add_argument("--repo", required=True, help="Hub dataset repository ID")

    p = sub.add_parser("validate", help="check a submission folder; writes nothing")
    p.add_argument("submission")
    p.add_argument("--dataset", help="built dataset folder or Hub dataset ID")
    p.add_argument(
        "--require-results",
        action="store_true",
        help="also fail when results.json is missing (CI and the repository tests)",
    )

    p = sub.add_parser("score", help="validate, then score a submission with the metric")
    p.add_argument("submission")
    p.add_argument("--dataset", help="built dataset folder or Hub dataset ID")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--write", action="store_true", help="write results.json atomically")

    p = sub.add_parser("submit", help="validate, then open a pull request on the Hub")
    p.add_argument("submission")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--repo",
        default=HUB_LEADERBOARD_ID,
        help=f"leaderboard Space on the Hub (default: {HUB_LEADERBOARD_ID})",
    )
    target.add_argument(
        "--model-repo",
        metavar="ORG/MODEL",
        help="instead, open a PR on this model repository adding the run's .eval_results file",
    )
    p.add_argument("--dataset", help="built dataset folder or Hub dataset ID")

    p = sub.add_parser(
        "eval-results", help="a scored run -> the Hub's .eval_results YAML for model repos"
    )
    p.add_argument("submission", help="scored submission folder <org>__<model>/<run>")
    p.add_argument("--out", help="file to write (default: print to stdout)")
    p.add_argument(
        "--source-url",
        help="where the run's predictions live (default: its folder in the leaderboard Space)",
    )

    p = sub.add_parser("check-pr", help="check a Hub pull request's submissions as CI does")
    p.add_argument("pr_number", metavar="PR_NUMBER", type=int, help="pull request number")
    p.add_argument(
        "--repo",
        default=HUB_LEADERBOARD_ID,
        help=f"leaderboard Space on the Hub (default: {HUB_LEADERBOARD_ID})",
    )
    p.add_argument("--dataset", help="built dataset folder or Hub dataset ID")
    p.add_argument("--comment", action="store_true", help="post the outcome on the pull request")

    p = sub.add_parser("baseline", help="run a no-skill baseline into a submission")
    p.add_argument("name", help="baseline name (see `recenter baseline --help`)")
    p.add_argument("--dataset", help="built dataset folder or Hub dataset ID")
    p.add_argument("--out", required=True, help="submission folder to write")

    add_run_parser(sub)

    p = sub.add_parser("reproduce", help="recompute the paper's numbers from a release")
    p.add_argument("--release", required=True)

    p = sub.add_parser(
        "analyze", help="split overlap with train and prompt-blind F1, measured from the data"
    )
    p.add_argument("--dataset", help="built dataset folder or Hub dataset ID")

    p = sub.add_parser("import-votes", help="authors' LLM vote file -> submission folder")
    p.add_argument("votes", help="vote file in the layout of data/relevance_task5/*.jsonl")
    p.add_argument("--stage", required=True, choices=["pairing"])
    p.add_argument("--release", required=True)
    p.add_argument("--model", required=True, help="display name of the judge, e.g. GPT-5.4")
    p.add_argument("--out", required=True, help="submission folder to create: <org>__<model>/<run>")
    p.add_argument("--org", help="organisation (default: the <org> of the --out folder name)")
    p.add_argument("--link", default="", help="http(s) URL of the model (default: none)")
    p.add_argument(
        "--open-weights",
        action=argparse.BooleanOptionalAction,
        help="the model's weights are public (or not); left out of metadata.yaml when not given",
    )

    p = sub.add_parser(
        "import-inspect", help="Inspect AI log of a recenter_bench task -> submission"
    )
    p.add_argument("log", help="log of `inspect eval recenter_bench/<stage>` (.eval or .json)")
    p.add_argument("--out", required=True, help="submission folder to create: <org>__<model>/<run>")
    p.add_argument(
        "--dataset", help="built dataset folder or Hub dataset ID (default: the run's own)"
    )
    p.add_argument("--org", help="organisation (default: the <org> of the --out folder name)")
    p.add_argument("--display-name", help="model name shown on the leaderboard")
    p.add_argument("--link", default="", help="http(s) URL of the model (default: none)")
    p.add_argument("--open-weights", action="store_true", help="the model's weights are public")
    p.add_argument("--contact", default="", help="e-mail address or handle")

    p = sub.add_parser("leaderboard", help="serve the leaderboard Space locally")
    p.add_argument("--submissions", help="submissions folder (default: the repository's own)")
    p.add_argument(
        "--dataset",
        help="dataset folder (from `recenter build`) or Hub dataset ID whose human labels give "
        "the rank intervals and tie groups, and the Submit tab's score preview (default: the "
        "preview release beside a checkout, else the published Hub dataset; without labels the "
        "board shows scores only)",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=7860)

    p = sub.add_parser("space", help="the leaderboard as a Hub Space folder: build it, push it")
    space = p.add_subparsers(dest="space_command", required=True, metavar="ACTION")
    q = space.add_parser("build", help="write the Space folder (README, app.py, submissions)")
    q.add_argument("out", metavar="OUT", help="folder to create (or a previous build to replace)")
    q.add_argument("--submissions", help="submissions folder (default: the repository's own)")
    q = space.add_parser("push", help="upload a built Space folder to a Hub Space")
    q.add_argument("out", metavar="OUT", help="folder made by `recenter space build`")
    q.add_argument("--repo", required=True, help="Hub Space repository ID (ORG/NAME)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, import the command's handler and run it.

    The handler is imported here, not by a helper of this module, so a command's flow enters
    this module once and never comes back to it (tests/test_run_flow.py). A library of a
    missing extra is a one-line UserError."""
    args = build_parser().parse_args(argv)
    module_name, function_name = HANDLERS[args.command].split(":")
    try:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if args.command not in EXTRAS or (error.name or "").startswith("recenter_bench"):
                raise
            raise UserError(
                f"`recenter {args.command}` needs {error.name}, which is not installed: "
                f"pip install 'recenter-bench[{EXTRAS[args.command]}]'"
            ) from None
        handler: Callable[[argparse.Namespace], int] = getattr(module, function_name)
        return int(handler(args) or 0)
    except ValidationFailed as failure:
        for problem in failure.problems:
            print(f"error: {printable(problem)}", file=sys.stderr)
        return 1
    except UserError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:  # a command may say how to resume (`recenter run`)
        print(f"interrupted: {interrupt}" if str(interrupt) else "interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
