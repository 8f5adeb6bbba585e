"""`recenter build` and `recenter push`: argument handling and the printed summary only."""

from __future__ import annotations

import argparse
from pathlib import Path

from recenter_bench.errors import printable


def build(args: argparse.Namespace) -> int:
    """Build the dataset folder and print the counts of every config and split."""
    from recenter_bench.loaders.build import build_dataset

    summary = build_dataset(
        Path(args.release),
        Path(args.out),
        wildchat=args.wildchat,
        expect_paper_counts=args.expect_paper_counts,
    )
    print("\n".join(printable(line) for line in summary.lines()))
    return 0


def push(args: argparse.Namespace) -> int:
    """Upload a built dataset folder to a Hub dataset repository."""
    from recenter_bench.loaders.push import push_dataset

    url = push_dataset(Path(args.folder), args.repo)
    print(printable(f"pushed {args.folder} to {url}"))
    return 0
