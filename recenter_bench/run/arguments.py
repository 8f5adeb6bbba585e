"""The arguments of `recenter run` (kept light: `recenter --help` imports this module)."""

from __future__ import annotations

import argparse
from typing import Any

# The benchmark's configs (recenter_bench.review.STAGES, which a test compares with this);
# spelled out here so that building the parser imports nothing heavy.
STAGE_CHOICES = ("extraction", "pairing", "response_quality")

SYSTEMS_PLACEHOLDER = "{shipped systems}"
EPILOG = """\
{shipped systems}

examples:
  # any OpenAI-compatible endpoint (vLLM, SGLang, TGI, llama.cpp, Ollama, hosted APIs)
  export OPENAI_API_KEY=...          # a keyless local server takes any value, e.g. EMPTY
  recenter run pairing --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen3-4B \\
      --out submissions/Qwen__Qwen3-4B/my-run
  recenter run pairing --system minilm-similarity \\
      --out submissions/recenter-bench__all-MiniLM-L6-v2-similarity/my-run

then: recenter validate DIR --require-results   (what CI checks)
      recenter leaderboard                      (the row on the local board)
      recenter submit DIR                       (a pull request on the Hub)
"""


class RunHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Fills the epilog's list of shipped systems and kinds from the systems folder and the
    kind registry when help is printed (so building the parser stays light)."""

    def _format_text(self, text: str) -> str:
        if SYSTEMS_PLACEHOLDER in text:
            from recenter_bench.run.kinds import systems_help

            text = text.replace(SYSTEMS_PLACEHOLDER, systems_help())
        return super()._format_text(text)


def add_run_parser(sub: Any) -> None:
    """The `run` sub-command's arguments (called by `recenter_bench.cli`)."""
    p = sub.add_parser(
        "run",
        help="run a system (LLM judge, BM25, embeddings) into a submission folder",
        description="Run a system over one stage of the benchmark and write a complete "
        "submission folder (metadata.yaml, <stage>.jsonl, raw_answers.jsonl for LLM judges, "
        "results.json), ready for `recenter validate`, `score` and `submit`.",
        epilog=EPILOG,
        formatter_class=RunHelpFormatter,
    )
    p.add_argument("stage", choices=STAGE_CHOICES, help="the config to run on")
    p.add_argument(
        "--out",
        required=True,
        help="submission folder to write: <org>__<model>/<run>; for every kind of system its "
        "<org> and <model> name the row (a system's own display name, e.g. BM25, is used when "
        "it makes <model>)",
    )
    p.add_argument(
        "--system", help="a shipped system's name or a system YAML file (default: the LLM judge)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a field of the system file (YAML value), e.g. --set prompt_max_chars=null"
        " or --set decoding.top_p=0.9; repeatable",
    )
    p.add_argument("--dataset", help="built dataset folder or Hub dataset ID")
    p.add_argument(
        "--splits",
        nargs="+",
        choices=("train", "validation", "test"),
        default=["train", "validation", "test"],
        help="splits to predict (default: all; test is required for a submission)",
    )
    llm = p.add_argument_group("LLM judge (any OpenAI-compatible endpoint)")
    llm.add_argument("--base-url", help="endpoint, e.g. http://127.0.0.1:8000/v1")
    llm.add_argument("--model", help="model name as the endpoint serves it (or embedding model)")
    llm.add_argument(
        "--api-key-env",
        default="OPENAI_API_KEY",
        help="environment variable holding the API key (default: OPENAI_API_KEY)",
    )
    llm.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    llm.add_argument(
        "--max-retries", type=int, default=6, help="retries on 429/5xx/timeouts (default 6)"
    )
    llm.add_argument("--timeout", type=float, default=600.0, help="seconds per request")
    llm.add_argument("--temperature", type=float, help="override the system's temperature")
    llm.add_argument("--max-tokens", type=int, help="override the system's max_tokens")
    llm.add_argument("--prompt", help="a prompt template file instead of the system's")
    llm.add_argument(
        "--cache-dir",
        help="answer cache (default: $RECENTER_CACHE or ~/.cache, recenter-bench/answers)",
    )
    llm.add_argument("--no-progress", action="store_true", help="no progress bar")
    meta = p.add_argument_group("submission metadata")
    meta.add_argument(
        "--display-name",
        help="model name shown on the leaderboard (default: <model> of the --out folder); "
        "must make that folder name",
    )
    meta.add_argument(
        "--org", help="organisation (default: <org> of the --out folder); must make its name"
    )
    meta.add_argument("--link", help="http(s) URL of the model")
    meta.add_argument(
        "--open-weights",
        action=argparse.BooleanOptionalAction,
        help="the weights are public (or not; default: the system's, else unknown)",
    )
    meta.add_argument("--contact", default="", help="e-mail address or handle")
