"""Builds from the project's fixture release, which has per-annotator exports of all stages."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from itertools import combinations
from pathlib import Path

import datasets
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from recenter_bench.loaders import ids
from recenter_bench.loaders.build import MANIFEST, BuildSummary, build_dataset, manifest_text
from recenter_bench.loaders.load import dataset_revision, load_rows
from recenter_bench.loaders.schemas import CONFIGS, features
from recenter_bench.metric.recenter_personalization import human_reference
from tests.fixture_release import (
    ANNOTATOR_NAMES,
    UNJUDGED_ITEM,
    expected_votes,
    make_fixture_release,
)


@pytest.fixture(scope="module")
def fixture_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fixture_release(tmp_path_factory.mktemp("fixture") / "release")


@pytest.fixture(scope="module")
def built(fixture_release: Path, tmp_path_factory) -> tuple[Path, BuildSummary]:
    out = tmp_path_factory.mktemp("fixture-build") / "dataset"
    return out, build_dataset(fixture_release, out)


@pytest.fixture(scope="module")
def rows(built) -> dict[str, list[dict]]:
    """config -> all rows (splits concatenated)."""
    out, _ = built
    return {c: [r for s in load_rows(c, out).values() for r in s] for c in CONFIGS}


@pytest.fixture(scope="module")
def votes(fixture_release: Path) -> dict[str, dict[tuple, list]]:
    return expected_votes(fixture_release)


def _unit(config: str, row: dict) -> tuple:
    index = int(row["prompt_id"].split("-")[1]) if "prompt_id" in row else None
    if config == "extraction":
        return (row["user_id"], row["attribute"])
    if config == "pairing":
        return (row["user_id"], index, row["attribute"])
    return (row["user_id"], index, row["generator"], row["attribute"])


def _values(config: str, row: dict) -> list[tuple[str, object]]:
    key = {"extraction": "judgments", "pairing": "judgments", "response_quality": "ratings"}[config]
    value = {"extraction": "label", "pairing": "relevant", "response_quality": "rating"}[config]
    return [(j["annotator"], j[value]) for j in row[key]]


def test_every_split_of_every_config_has_rows(built) -> None:
    _, summary = built
    assert summary.counts["conversations"] == {"train": 18}
    for config in CONFIGS[1:]:
        assert set(summary.counts[config]) == {"train", "validation", "test"}
        assert all(n > 0 for n in summary.counts[config].values()), config
    assert summary.unlabelled == {"extraction": 0, "pairing": 0, "response_quality": 0}
    assert summary.annotators == {"extraction": 3, "pairing": 3, "response_quality": 3}


def test_extraction_majority_labels(rows, votes) -> None:
    assert len(rows["extraction"]) == len(votes["extraction"]) == 25
    sizes = Counter()
    for row in rows["extraction"]:
        expected = [label for _, label in votes["extraction"][_unit("extraction", row)]]
        assert sorted(label for _, label in _values("extraction", row)) == sorted(expected)
        accepted = expected.count("accepted")
        assert row["accept_votes"] == accepted
        assert row["label"] == ("accepted" if accepted > len(expected) / 2 else "problematic")
        sizes[len(expected)] += 1
    # One annotator skipped one user's item: those attributes have two judgments.
    assert sizes[2] > 0 and sizes[3] > 0
    assert Counter(r["label"] for r in rows["extraction"]).keys() == {"accepted", "problematic"}


def test_pairing_majority_and_published_only_rows(rows, votes, built) -> None:
    _, summary = built
    unjudged = {r["pair_id"]: r for r in rows["pairing"] if r["judgments"] == []}
    for row in rows["pairing"]:
        unit = _unit("pairing", row)
        if row["pair_id"] in unjudged:
            assert (unit[1], unit[0]) == UNJUDGED_ITEM and row["yes_votes"] is None
            continue
        expected = [v for _, v in votes["pairing"][unit]]
        assert sorted(v for _, v in _values("pairing", row)) == sorted(expected)
        assert row["yes_votes"] == sum(expected)
        assert row["relevant"] == (sum(expected) >= 2)
    # The unjudged item: published majority for all but one pair, which is left out.
    assert len(unjudged) == 2 and len(summary.pairs_left_out) == 1
    assert f"lima-{UNJUDGED_ITEM[0]:02d}" in summary.pairs_left_out[0]
    assert summary.majority_only == 2 and summary.majority_disagreements == 0
    assert 0 < sum(r["relevant"] for r in rows["pairing"]) < len(rows["pairing"])


def test_response_ratings_and_recoding(rows, votes) -> None:
    assert len(rows["response_quality"]) == len(votes["response_quality"])
    for row in rows["response_quality"]:
        expected = [v for _, v in votes["response_quality"][_unit("response_quality", row)]]
        assert sorted(v for _, v in _values("response_quality", row)) == sorted(expected)
        assert row["mean_rating"] == pytest.approx(np.mean(expected))
        assert row["item_id"] == ids.item_id(
            row["user_id"], int(row["prompt_id"][5:]), row["generator"]
        )


def test_personalized_as_a_line_is_mirrored(fixture_release: Path, rows) -> None:
    path = fixture_release / "data" / "annotations" / f"{ANNOTATOR_NAMES[2]}_task6.jsonl"
    line = next(
        json.loads(x) for x in path.read_text().splitlines() if "personalized_position" in x
    )
    items = [json.loads(x) for x in (fixture_release / "data/extracted/task6_items.jsonl").open()]
    item = next(i for i in items if i["item_index"] == line["item_index"])
    built_rows = [
        r
        for r in rows["response_quality"]
        if r["user_id"] == item["user_id"]
        and r["generator"] == item["model_tag"]
        and r["prompt_id"] == ids.prompt_id(int(item["prompt_id"].rsplit("_", 1)[1]))
    ]
    for attribute, exported in line["ratings"].items():
        row = next(r for r in built_rows if r["attribute"] == attribute)
        assert 6 - exported in [x["rating"] for x in row["ratings"]]


def test_pseudonyms_are_stable_and_names_never_leak(built, rows, votes) -> None:
    out, _ = built
    # Which pseudonym is which file? The only mapping consistent with every judged unit.
    candidates = {name: {"annotator_1", "annotator_2", "annotator_3"} for name in ANNOTATOR_NAMES}
    for config in ("extraction", "pairing", "response_quality"):
        for row in rows[config]:
            got = dict(_values(config, row))
            for name, value in votes[config].get(_unit(config, row), []):
                candidates[name] &= {a for a, v in got.items() if v == value}
    mapping = {name: next(iter(c)) for name, c in candidates.items() if len(c) == 1}
    assert len(mapping) == 3 and len(set(mapping.values())) == 3
    # Every pseudonym appears in all three stages.
    for config in ("extraction", "pairing", "response_quality"):
        used = {a for row in rows[config] for a, _ in _values(config, row)}
        assert used == {"annotator_1", "annotator_2", "annotator_3"}
    text = json.dumps(rows) + "".join(p.read_text() for p in out.glob("*.*"))
    for name in ANNOTATOR_NAMES + ("Pilotname",):
        assert name not in text


def test_load_dataset_offline_with_declared_types(built) -> None:
    out, summary = built
    for config in CONFIGS:
        loaded = datasets.load_dataset(str(out), config)
        assert {s: d.num_rows for s, d in loaded.items()} == summary.counts[config]
        assert all(d.features == features(config) for d in loaded.values())


def test_agreement_matches_sklearn_and_scipy(built, votes) -> None:
    _, summary = built

    def pairwise(config: str, statistic, label=lambda value: value) -> float:
        by = {}
        for unit, unit_votes in votes[config].items():
            for name, value in unit_votes:
                by.setdefault(name, {})[unit] = label(value)
        values = []
        for a, b in combinations(ANNOTATOR_NAMES, 2):
            shared = sorted(set(by[a]) & set(by[b]), key=repr)
            values.append(statistic([by[a][u] for u in shared], [by[b][u] for u in shared]))
        return float(np.mean(values))

    agreement = summary.agreement
    assert agreement["extraction"]["inter_annotator_kappa"] == pytest.approx(
        pairwise("extraction", cohen_kappa_score, label=lambda value: value != "accepted")
    )
    assert agreement["extraction"]["inter_annotator_kappa_3way"] == pytest.approx(
        pairwise("extraction", cohen_kappa_score)
    )
    labelled_pairs = {k: v for k, v in votes["pairing"].items()}
    assert len(labelled_pairs) == 37
    assert agreement["pairing"]["inter_annotator_kappa"] == pytest.approx(
        pairwise("pairing", cohen_kappa_score)
    )
    assert agreement["response_quality"]["inter_annotator_spearman"] == pytest.approx(
        pairwise("response_quality", lambda a, b: stats.spearmanr(a, b).statistic)
    )
    assert agreement["response_quality"]["inter_annotator_weighted_kappa"] == pytest.approx(
        pairwise(
            "response_quality",
            lambda a, b: cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]),
        )
    )
    for stage in agreement.values():
        assert all(v is None or -1 <= v <= 1 for k, v in stage.items() if k != "units")
    assert 0 < agreement["pairing"]["fleiss_kappa"] < 1


def test_card_agreement_is_the_leaderboards_human_reference(built) -> None:
    # The leaderboard's human row is `human_reference` over the published rows: the card must
    # print the same numbers, read back from the dataset as a user would.
    out, summary = built
    human = human_reference({c: load_rows(c, out) for c in CONFIGS[1:]})
    for config, figures in summary.agreement.items():
        assert figures["units"] == human[config]["all"]["n"]
        for name, value in figures.items():
            if name.startswith("inter_annotator_"):
                assert value == human[config]["all"][name]


def test_card_states_agreement_from_data(built) -> None:
    out, summary = built
    card = (out / "README.md").read_text()
    kappa = summary.agreement["pairing"]["inter_annotator_kappa"]
    assert f"| mean pairwise Cohen's kappa | {kappa:.3f} |" in card
    weighted = summary.agreement["response_quality"]["inter_annotator_weighted_kappa"]
    assert f"| mean pairwise quadratic-weighted Cohen's kappa | {weighted:.3f} |" in card
    assert "| not available |" not in card


def test_summary_lines_state_every_count(built) -> None:
    _, summary = built
    text = "\n".join(summary.lines())
    for config in CONFIGS:
        assert f"{config}: {summary.total(config):,} rows" in text
    assert "1 pair(s) left out for missing labels" in text
    assert "extraction: 0 unlabelled rows, 70 human judgments from 3 annotator file(s)" in text


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}


def test_same_release_gives_identical_bytes(fixture_release, built, tmp_path) -> None:
    out, _ = built
    again = tmp_path / "again"
    build_dataset(fixture_release, again)
    assert _tree(again) == _tree(out)
    assert dataset_revision(again) == dataset_revision(out)


def test_file_order_does_not_change_the_output(fixture_release, built, tmp_path) -> None:
    out, _ = built
    shuffled = tmp_path / "shuffled"
    shutil.copytree(fixture_release, shuffled)
    rng = random.Random(7)
    items = list((shuffled / "data" / "extracted").glob("*.jsonl"))
    items += [shuffled / "data" / "attr_evidence_cache.jsonl"]
    items += list((shuffled / "data" / "task6").glob("*.jsonl"))
    for path in items:
        lines = path.read_text().splitlines()
        rng.shuffle(lines)
        path.write_text("\n".join(lines) + "\n")
    rebuilt = tmp_path / "rebuilt"
    build_dataset(shuffled, rebuilt)
    assert _tree(rebuilt) == _tree(out)


def test_rebuilding_into_a_previous_build_replaces_it_whole(fixture_release, tmp_path) -> None:
    out = tmp_path / "dataset"
    build_dataset(fixture_release, out)
    (out / "data" / "pairing" / "stale.parquet").write_bytes(b"old")
    (out / MANIFEST).write_text(manifest_text(out))  # as if an older build had made it
    build_dataset(fixture_release, out)
    assert not (out / "data" / "pairing" / "stale.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset"]  # no temp folders left
