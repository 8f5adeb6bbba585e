"""Command-line speed: `recenter validate` and `recenter score` of a full-size pairing submission
against a local built dataset, next to `python -c "import pandas, pyarrow.parquet"` (the peer:
any tool that reads the dataset's Parquet files pays at least that), measured in the same run.

The submission is the committed BM25 baseline (`submissions/recenter-bench__BM25/v2`: one
prediction for each of the 3,969 pairing rows of the preview build). The dataset is built once
from the authors' preview release beside the checkout (or pass `--dataset FOLDER`). Each
command runs `--repeat` times in a fresh interpreter, alternating, so machine load hits all
alike; the script prints the median and the fastest wall time of each and the ratios of the
medians to the peer's. Also printed: the modules a command imports, to show which libraries
(`datasets`, `evaluate`, `transformers`, `scipy`, `pandas`) it never loads.

Target (from the issue): validate and score within 2x the peer.
Not a test: run `python benchmarks/bench_cli.py [--repeat N] [--dataset FOLDER]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 2.0
HEAVY = ("datasets", "evaluate", "transformers", "torch", "gradio", "scipy", "pandas")


def wall_time(command: list[str]) -> float:
    """Seconds from start to exit of one run (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def imported_top_level(command: list[str]) -> set[str]:
    """Top-level names of every module a Python command imports (`-X importtime`)."""
    run = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True, check=True
    )
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--dataset", help="a built dataset folder (default: build the preview)")
    args = parser.parse_args()

    from recenter_bench.paths import PREVIEW_RELEASE_DIR, SUBMISSIONS_DIR

    submission = SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2"
    with tempfile.TemporaryDirectory() as tmp:
        dataset = args.dataset
        if dataset is None:
            from recenter_bench.loaders.build import build_dataset

            dataset = str(Path(tmp) / "dataset")
            build_dataset(PREVIEW_RELEASE_DIR, Path(dataset))
        cli = [sys.executable, "-m", "recenter_bench.cli"]
        commands = {
            "peer: python -c 'import pandas, pyarrow.parquet'": [
                sys.executable,
                "-c",
                "import pandas, pyarrow.parquet",
            ],
            "recenter validate BM25 --dataset D": [
                *cli,
                "validate",
                str(submission),
                "--dataset",
                dataset,
            ],
            "recenter score BM25 --dataset D": [
                *cli,
                "score",
                str(submission),
                "--dataset",
                dataset,
            ],
        }
        for command in commands.values():  # warm the file cache; not timed
            wall_time(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name].append(wall_time(command))
        imports = {name: imported_top_level(command) for name, command in commands.items()}

    peer = statistics.median(next(iter(times.values())))
    print(
        f"{args.repeat} runs each, {submission.name} of {submission.parent.name}, dataset {dataset}"
    )
    print(f"{'command':<52} {'median s':>9} {'fastest s':>9} {'x peer':>7}  heavy imports")
    for name, values in times.items():
        median = statistics.median(values)
        heavy = ", ".join(sorted(set(HEAVY) & imports[name])) or "none"
        print(f"{name:<52} {median:>9.3f} {min(values):>9.3f} {median / peer:>7.2f}  {heavy}")
    worst = max(statistics.median(v) for v in list(times.values())[1:]) / peer
    verdict = "met" if worst <= TARGET_RATIO else "NOT met"
    print(f"target: within {TARGET_RATIO:.0f}x the peer: {verdict} (slowest command {worst:.2f}x)")


if __name__ == "__main__":
    main()
