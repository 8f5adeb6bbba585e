"""`recenter analyze`: the split facts a Stage-2 score should be read with, measured from data.

Prints (1) the share of validation and test pairs whose attribute, and whose user, occur in
train (`loaders.overlap`), and (2) the F1 of the prompt-blind systems (`attribute-prior`,
`attribute-only`: they never read the prompt) on each split, run by the same code as
`recenter run`. Nothing here is typed by hand; the dataset card's overlap section is rendered
by the same function at build time.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from recenter_bench.loaders.overlap import overlap_lines, split_overlap

PROMPT_BLIND_SYSTEMS = ("attribute-prior", "attribute-only")
SPLITS = ("train", "validation", "test")


def prompt_blind_scores(reference: Any) -> dict[str, dict[str, float]]:
    """{system: {split: F1}} of each prompt-blind system's decisions (scikit-learn's F1)."""
    from recenter_bench.run.rules import f1
    from recenter_bench.run.runner import run_system
    from recenter_bench.run.systems import load_system

    truth = {r["pair_id"]: (s, r["relevant"]) for s in SPLITS for r in reference.rows["pairing"][s]}
    scores: dict[str, dict[str, float]] = {}
    for name in PROMPT_BLIND_SYSTEMS:
        outcome = run_system(load_system(name), reference, list(SPLITS))
        for split in ("validation", "test"):
            pairs = [p for p in outcome.predictions if truth[p["pair_id"]][0] == split]
            labels = [truth[p["pair_id"]][1] for p in pairs]
            scores.setdefault(name, {})[split] = f1(labels, [p["relevant"] for p in pairs])
    return scores


def analyze_command(args: argparse.Namespace) -> int:
    from recenter_bench.review import load_reference

    reference = load_reference(args.dataset)
    print(f"split overlap ({reference.source}, revision {reference.revision}):")
    for line in overlap_lines(split_overlap(reference.rows["pairing"])):
        print(f"  {line}")
    print("prompt-blind F1 (never reads the prompt; trained on train + validation by grouped CV,")
    print("so validation is in-sample and test is the held-out figure):")
    for name, by_split in prompt_blind_scores(reference).items():
        cells = ", ".join(f"{split} {value:.3f}" for split, value in by_split.items())
        print(f"  {name}: {cells}")
    print_leads(reference)
    return 0


def print_leads(reference: Any) -> None:
    """Each committed trained row's test F1 lead over the best prompt-blind row, with its 95%
    paired cluster-bootstrap interval (leaderboard.prompt_blind)."""
    from recenter_bench.leaderboard.prompt_blind import leads
    from recenter_bench.paths import SUBMISSIONS_DIR

    folders = sorted(p for p in Path(SUBMISSIONS_DIR).glob("*/*") if p.is_dir())
    try:
        name, f1, table = leads(folders, reference.rows["pairing"]["test"])
    except (ValueError, KeyError) as error:
        print(f"no lead over the prompt-blind reference: {error}")
        return
    print(f"lead over the prompt-blind reference {name} (test F1 {f1:.3f}), 95% paired bootstrap:")
    for row in table:
        print(
            f"  {row['submission']}: F1 {row['f1']:.3f}, lead {row['lead']:+.3f} "
            f"[{row['low']:+.3f}, {row['high']:+.3f}]"
        )
