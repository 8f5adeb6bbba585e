"""`recenter analyze` and the dataset card's overlap section: the split facts, checked against
an independent pandas computation, and the prompt-blind F1 against the committed rows' scores
(computed by the metric)."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recenter_bench.cli import main
from recenter_bench.loaders.card import _overlap_section
from recenter_bench.loaders.overlap import split_overlap
from recenter_bench.review import Reference
from tests.cross_cpu import F1_TOLERANCE

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
PROMPT_BLIND_ROWS = {
    "attribute-prior": "recenter-bench__attribute-prior-prompt-blind/v1",
    "attribute-only": "recenter-bench__attribute-only-logistic-regression-prompt-blind/v1",
}


def _pandas_overlap(reference: Reference) -> dict:
    frame = pd.concat(
        pd.DataFrame(rows).assign(split=split) for split, rows in reference.rows["pairing"].items()
    )
    train = frame[frame.split == "train"]
    out = {}
    for split in ("validation", "test"):
        held = frame[frame.split == split]
        out[split] = (
            len(held),
            held.attribute.isin(train.attribute).mean(),
            held.user_id.isin(train.user_id).mean(),
        )
    return out


def test_overlap_matches_pandas(reference: Reference) -> None:
    facts = split_overlap(reference.rows["pairing"])
    for split, (pairs, attribute, user) in _pandas_overlap(reference).items():
        assert facts[split]["pairs"] == pairs
        assert facts[split]["attribute_in_train"] == pytest.approx(attribute)
        assert facts[split]["user_in_train"] == pytest.approx(user)
    assert facts["validation"]["attribute_in_train"] == 1.0  # the finding


def test_card_section_prints_the_facts(reference: Reference) -> None:
    summary = types.SimpleNamespace(split_overlap=split_overlap(reference.rows["pairing"]))
    text = _overlap_section(summary)
    for split, (pairs, attribute, user) in _pandas_overlap(reference).items():
        assert (
            f"- {split}: {attribute:.1%} of its {pairs:,} pairs have an attribute that occurs "
            f"in train, {user:.1%} a user that occurs in train." in text
        )


def test_analyze_prints_overlap_and_prompt_blind_scores(
    reference: Reference, preview_dataset: Path, capsys
) -> None:
    assert main(["analyze", "--dataset", str(preview_dataset)]) == 0
    printed = capsys.readouterr().out
    for split, (pairs, attribute, _) in _pandas_overlap(reference).items():
        assert f"  {split}: {attribute:.1%} of its {pairs:,} pairs" in printed
    for name, folder in PROMPT_BLIND_ROWS.items():
        results = json.loads((SUBMISSIONS / folder / "results.json").read_text())
        line = next(x for x in printed.splitlines() if x.startswith(f"  {name}: "))
        test_f1 = float(line.rsplit("test ", 1)[1])
        # recomputed on this CPU (a near-threshold decision may flip), printed to 3 decimals
        tolerance = F1_TOLERANCE["abs"] + 0.0005
        assert test_f1 == pytest.approx(results["scores"]["pairing"]["test"]["f1"], abs=tolerance)


def test_built_card_carries_the_overlap_section(reference: Reference, preview_dataset: Path):
    card = (preview_dataset / "README.md").read_text()
    assert "**What train already shows.**" in card
    for split, (pairs, attribute, _) in _pandas_overlap(reference).items():
        assert f"- {split}: {attribute:.1%} of its {pairs:,} pairs" in card


def test_leads_over_the_prompt_blind_reference(reference: Reference) -> None:
    """Leads and their intervals, recomputed with scikit-learn's weighted F1 on the same
    cluster resamples (the metric's bootstrap weights)."""
    from sklearn.metrics import f1_score

    from recenter_bench.leaderboard.prompt_blind import leads
    from recenter_bench.metric.recenter_personalization import recenter_personalization as m

    folders = sorted(p for p in SUBMISSIONS.glob("*/*") if p.is_dir())
    test = sorted(reference.rows["pairing"]["test"], key=lambda r: r["pair_id"])
    name, f1, table = leads(folders, test)
    assert name == PROMPT_BLIND_ROWS["attribute-only"]  # the better prompt-blind row on test
    y = [r["relevant"] for r in test]
    prompts, cluster = np.unique([r["prompt_id"] for r in test], return_inverse=True)
    weights = m.bootstrap_weights(cluster, prompts.size, 1000, 0)

    def decisions(folder: str) -> list[bool]:
        lines = (SUBMISSIONS / folder / "pairing.jsonl").read_text().splitlines()
        made = {p["pair_id"]: p["relevant"] for p in map(json.loads, lines)}
        return [made[r["pair_id"]] for r in test]

    base = decisions(name)
    assert f1 == pytest.approx(f1_score(y, base))
    assert "recenter-bench__random-at-human-rate/v1" not in {row["submission"] for row in table}
    row = next(r for r in table if "gradient-boosting" in r["submission"])
    mine = decisions(row["submission"])
    assert row["lead"] == pytest.approx(f1_score(y, mine) - f1_score(y, base))
    diffs = [
        f1_score(y, mine, sample_weight=w[cluster]) - f1_score(y, base, sample_weight=w[cluster])
        for w in weights
    ]
    low, high = np.percentile(diffs, [2.5, 97.5])
    assert (row["low"], row["high"]) == pytest.approx((low, high), abs=1e-9)


def test_stage2_board_draws_the_prompt_blind_line() -> None:
    """The Stage-2 test table's reference marks include the best prompt-blind row's F1."""
    from recenter_bench.leaderboard.plots import PROMPT_BLIND_MARK, leaders_plot, reference_marks
    from recenter_bench.leaderboard.table import load_submissions, stage_table

    submissions, _ = load_submissions(SUBMISSIONS)
    table = stage_table(submissions, "pairing", "test")
    best = max(
        json.loads((SUBMISSIONS / f / "results.json").read_text())["scores"]["pairing"]["test"][
            "f1"
        ]
        for f in PROMPT_BLIND_ROWS.values()
    )
    marks = reference_marks(table, "pairing")
    assert marks[PROMPT_BLIND_MARK] == pytest.approx(best)
    assert f"{PROMPT_BLIND_MARK} {best:.3f}" in json.dumps(
        leaders_plot(table, "pairing", "test", "t")
    )
