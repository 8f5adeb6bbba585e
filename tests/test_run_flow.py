"""`recenter run pairing` reads as one pass through the modules (issue 14).

A warm run (the second of two, so no module is imported during the trace) is traced with
tests/module_trace.py: the flow enters cli -> arguments -> command -> systems -> kinds (the one
system resolved) -> destination (--out checked) -> dataset -> runner -> the kind's modules ->
output (the folder written), and never comes back to a module it left.

Modules below every step are left out of the order (`BELOW`), each with its reason; no step of
the run is among them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recenter_bench.cli import main
from tests.module_trace import BELOW_EVERY_STEP, module_order, reentered, steps
from tests.openai_standin import StandIn

RUN = "recenter_bench.run."
# Below every step of the run, and why (besides module_trace's errors, paths, atomic, limits):
BELOW = BELOW_EVERY_STEP | {
    # The records the steps hand on (System, Context, Outcome; the dataset's Reference): data
    # every later step reads, made by the step before; reading one is not entering that step.
    f"{RUN}records",
    "recenter_bench.review.reference",
    # The hardened reader and its parsed types (bounded, strict YAML and JSON): a parser, used
    # by systems for the system file and by the write step's check for the files it writes.
    "recenter_bench.review.read",
    "recenter_bench.review.parsed",
    # File names, size limits and problem lines, and the typed Results: below every review step
    # (tests/test_review_flow.py lists them the same way).
    "recenter_bench.review.files",
    "recenter_bench.review.model",
    # The metric module: the stage records every step reads (ID field, headline) and the scorer
    # the write step's pipeline calls.
    "recenter_bench.metric.recenter_personalization.recenter_personalization",
}
# A step may span modules: the dataset step loads its rows through the loaders, and the write
# step (`output`) checks and scores the folder it writes through the review package's own
# read -> check -> score -> write, whose one pass tests/test_review_flow.py traces.
GROUPS = (
    ("recenter_bench.review.dataset", "dataset"),
    ("recenter_bench.loaders.", "dataset"),
    ("recenter_bench.review.", "output"),
)
# The steps every run goes through, in this order.
STEPS = ["cli", "arguments", "command", "systems", "kinds", "destination", "dataset", "runner"]


def traced_warm_run(flags: list[str], root: Path) -> list[str]:
    """The modules a second, warm `recenter run` enters, in order (the first run imports)."""
    assert main([*flags, "--out", str(root / "acme__first" / "v1")]) == 0
    with module_order(BELOW) as order:
        assert main([*flags, "--out", str(root / "acme__second" / "v1")]) == 0
    return order


def test_a_bm25_run_is_one_pass(preview_dataset: Path, tmp_path: Path) -> None:
    flags = ["run", "pairing", "--system", "bm25s", "--dataset", str(preview_dataset)]
    order = steps(traced_warm_run(flags, tmp_path), GROUPS)
    assert reentered(order) == []
    assert order == [*STEPS, "retrieval", "lexical", "rules", "output"]


def _judge(body: dict) -> tuple[int, str]:
    """A stand-in judge: relevant iff the request mentions food."""
    return 200, f"Answer: {'YES' if 'food' in body['messages'][0]['content'] else 'NO'}"


def test_an_llm_judge_run_is_one_pass(
    preview_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm run takes every answer from the cache: requests (judge), the cache, the answers
    (llm), the decisions (parse), each entered once."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    with StandIn(_judge) as server:
        flags = ["run", "pairing", "--base-url", server.url, "--model", "stand-in"]
        flags += ["--dataset", str(preview_dataset), "--cache-dir", str(tmp_path / "cache")]
        flags += ["--splits", "test", "--no-progress"]
        order = steps(traced_warm_run(flags, tmp_path), GROUPS)
        assert server.counts["chat"] > 0  # the first run asked the endpoint; the traced one not
    assert reentered(order) == []
    assert order == [*STEPS, "judge", "cache", "llm", "parse", "output"]


def test_the_trace_sees_a_step_entered_twice() -> None:
    """The measure can fail: a flow that calls back into a module it left is caught."""
    from recenter_bench.run import destination, systems

    with module_order(BELOW) as order:
        systems.default_system("pairing")
        destination.check_out_writable(Path("acme__m") / "v1")
        systems.default_system("pairing")
    assert reentered(order) == [f"{RUN}systems"]
