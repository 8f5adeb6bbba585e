"""The card's agreement figures: Fleiss' kappa against a textbook case; the pairwise figures are
the metric's (cross-checked against scikit-learn and scipy in test_loaders_fixture.py)."""

from __future__ import annotations

import pytest

from recenter_bench.loaders.agreement import fleiss_kappa, stage_agreement
from recenter_bench.loaders.ids import SPLITS


def test_fleiss_kappa_textbook_example() -> None:
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories, kappa 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    units = [[c for c, n in enumerate(row) for _ in range(n)] for row in table]
    assert fleiss_kappa(units, range(5)) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_rejects_ragged_units() -> None:
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 1], [1, 0, 1]], [0, 1])


def test_fleiss_kappa_uses_the_units_with_the_usual_number_of_judgments() -> None:
    def row(*votes: bool) -> dict:
        return {
            "judgments": [
                {"annotator": f"annotator_{i}", "relevant": v} for i, v in enumerate(votes)
            ]
        }

    full = [row(True, True, False), row(False, False, False), row(True, True, True)]
    skipped = [row(True, False), row(False)]  # one annotator skipped these: not a 3-vote unit
    splits = {config: {"train": []} for config in ("extraction", "response_quality")}
    splits["pairing"] = {"train": full + skipped}
    expected = fleiss_kappa([[j["relevant"] for j in r["judgments"]] for r in full], [False, True])
    agreement = stage_agreement(splits)["pairing"]
    assert agreement["fleiss_kappa"] == pytest.approx(expected)
    assert agreement["units"] == 4  # the pairwise figures use every unit with >= 2 judgments


def test_no_per_annotator_labels_means_not_available() -> None:
    unlabelled = {
        "extraction": {"judgments": [], "label": None},
        "pairing": {"judgments": [], "relevant": True},  # published majority only
        "response_quality": {"ratings": [], "mean_rating": None},
    }
    agreement = stage_agreement(
        {config: {split: [row] for split in SPLITS} for config, row in unlabelled.items()}
    )
    for stage in agreement.values():
        assert stage["units"] == 0
        assert all(v is None for k, v in stage.items() if k != "units")
