"""`recenter reproduce`: end to end on the real preview release (read in place), and the
comparison rules on their own."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from recenter_bench import reproduce as rp
from recenter_bench.cli import main


def test_reproduce_passes_on_the_preview(preview_release, capsys):
    assert main(["reproduce", "--release", str(preview_release)]) == 0
    out = capsys.readouterr().out
    for row in (
        "Stage-2 pairs                                counts                 3,973      3,973  yes",
        "Stage-2 pairs with a label                   counts (text)          3,969      3,969  yes",
        "GPT-5.4 f1                                   Table 3                0.474     0.4744  yes",
        "Gemma-4-31B recall                           Table 3                0.934     0.9336  yes",
        "kappa GPT-5.4 vs Gemma-4-31B                 Figure 3                0.62     0.6197  yes",
    ):
        assert row in out
    assert "16 of 16 computable numbers reproduce; 0 differ" in out
    assert "no Stage-1 human labels" in out


def test_preview_values(preview_release):
    comparisons, _ = rp.reproduce(preview_release)
    by_key = {c.number.key: c for c in comparisons}
    computed = {k: c.computed for k, c in by_key.items() if c.computed is not None}
    expected_keys = {
        "pairing/pairs",
        "pairing/labelled_pairs",
        "pairing/prompts",
        "pairing/user_prompts",
        "pairing/human_yes_rate",
        "pairing/kappa/GPT-5.4/Gemma-4-31B",
    }
    for judge in ("GPT-5.4", "Gemma-4-31B"):
        expected_keys |= {f"pairing/{judge}/{m}" for m in (*rp.METRICS, "yes_rate")}
    assert set(computed) == expected_keys
    assert computed["pairing/human_yes_rate"] == pytest.approx(708 / 3969)
    assert by_key["pairing/Claude-Sonnet-4.6/f1"].status == "not in this release"
    assert by_key["response_quality/human_mean"].status == "not in this release"


def test_fixture_release_computes_the_human_numbers(tmp_path):
    from fixture_release import make_fixture_release

    release = make_fixture_release(tmp_path / "release")
    comparisons, report = rp.reproduce(release)
    by_key = {c.number.key: c for c in comparisons}
    for key in ("pairing/kappa/human-human", "pairing/judgments", "response_quality/human_mean"):
        assert by_key[key].computed is not None and not math.isnan(by_key[key].computed)
    # The fixture is invented: its counts are not the paper's, and the table says so.
    assert by_key["pairing/judgments"].status == "NO"
    assert "differ" in report


@pytest.mark.parametrize(
    ("number", "computed", "agrees"),
    [
        (rp.PaperNumber("k", "x", 0.474, "Table 3"), 0.4744, True),
        (rp.PaperNumber("k", "x", 0.474, "Table 3"), 0.4746, False),
        (rp.PaperNumber("k", "x", 0.62, "Figure 3", decimals=2), 0.6197, True),
        (rp.PaperNumber("k", "x", 3973, "counts", "count"), 3969, False),
        (rp.PaperNumber("k", "x", 0.20, "text", "about"), 0.178, True),
        (rp.PaperNumber("k", "x", 0.20, "text", "about"), 0.26, False),
        (rp.PaperNumber("k", "x", 0.40, "text", "range", 2, 0.60), 0.438, True),
        (rp.PaperNumber("k", "x", 0.40, "text", "range", 2, 0.60), 0.35, False),
        (rp.PaperNumber("k", "x", 0.40, "text"), math.nan, False),
    ],
)
def test_comparison_rules(number, computed, agrees):
    assert number.agrees(computed) is agrees


def test_a_number_that_does_not_reproduce_fails_the_command(preview_release, monkeypatch, capsys):
    real = rp.computed_numbers

    def off_by_one(release: Path):
        values, notes = real(release)
        values["pairing/GPT-5.4/f1"] += 0.01
        return values, notes

    monkeypatch.setattr(rp, "computed_numbers", off_by_one)
    assert main(["reproduce", "--release", str(preview_release)]) == 1
    assert "GPT-5.4 f1" in capsys.readouterr().out


def test_every_paper_number_has_a_reason_when_missing():
    for number in rp.PAPER_NUMBERS:
        assert rp._not_public_reason(number.key)
    assert len({n.key for n in rp.PAPER_NUMBERS}) == len(rp.PAPER_NUMBERS)


def test_missing_release_is_a_user_error(tmp_path, capsys):
    assert main(["reproduce", "--release", str(tmp_path / "nowhere")]) == 1
    assert "not a release folder" in capsys.readouterr().err
