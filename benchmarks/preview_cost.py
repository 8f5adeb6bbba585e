"""CPU cost of one Submit-tab preview, as a preview worker computes it (issue 15).

Runs `leaderboard.preview_worker.preview_job` in this process on a committed stage file
(default: the BM25 run's pairing.jsonl, the file the load benchmark's visitors preview) after
one warm-up call, and prints the CPU seconds (user + system, `time.process_time`) and wall
seconds per preview. CPU time is the figure to compare: on a shared machine the wall time is noisy.

Not a test: `python benchmarks/preview_cost.py [--file PATH] [--repeat 10] [--dataset D]`.
For a before/after, run it with another interpreter (a virtual environment with an older
checkout installed): `/work/venv/bin/python benchmarks/preview_cost.py`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DEFAULT_FILE = (
    Path(__file__).resolve().parent.parent / "submissions/recenter-bench__BM25/v2/pairing.jsonl"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--dataset", default=None, help="as `recenter leaderboard --dataset`")
    args = parser.parse_args()
    import recenter_bench
    from recenter_bench.leaderboard.preview_worker import preview_job, warm_worker

    warm_worker(args.dataset)
    contents = {args.file.name: args.file.read_bytes()}
    messages, scores, _ = preview_job(contents, args.dataset)  # warm-up, and a sanity check
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.repeat):
        preview_job(contents, args.dataset)
    cpu = (time.process_time() - cpu) / args.repeat
    wall = (time.perf_counter() - wall) / args.repeat
    print(
        f"{args.file.name} ({len(contents[args.file.name]) / 1024:.0f} KiB, "
        f"{'scored' if scores else f'{len(messages)} problem lines'}): "
        f"{cpu:.3f} CPU s, {wall:.3f} s wall per preview over {args.repeat} "
        f"(package at {Path(recenter_bench.__file__).parent})"
    )
    print(json.dumps({"cpu_s": cpu, "wall_s": wall}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
