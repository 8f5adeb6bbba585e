"""The dataset built from the authors' real preview release (read in place, never copied)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from contextlib import closing
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import DatasetCard

from recenter_bench.cli import main
from recenter_bench.loaders import ids
from recenter_bench.loaders.card import static_card_text
from recenter_bench.loaders.load import dataset_revision, load, load_rows
from recenter_bench.loaders.schemas import CONFIGS, features
from recenter_bench.paths import SUBMISSIONS_DIR
from tests.fixture_release import read_only_index

EXPECTED_COUNTS = {
    # 185 synthetic conversations + 286 WildChat hashes of the 34 indexed Stage-1 users.
    "conversations": {"train": 471},
    "extraction": {"train": 1882, "validation": 198, "test": 185},
    # 3,973 pairs minus the 4 without a published label.
    "pairing": {"train": 3019, "validation": 483, "test": 467},
    # one row per (item, is_relevant attribute): 1,416.
    "response_quality": {"train": 1108, "validation": 172, "test": 136},
}


@pytest.fixture(scope="module")
def rows(preview_dataset: Path) -> dict[str, dict[str, list[dict]]]:
    return {config: load_rows(config, preview_dataset) for config in CONFIGS}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_folder_layout(preview_dataset: Path) -> None:
    files = sorted(p.relative_to(preview_dataset).as_posix() for p in preview_dataset.rglob("*"))
    expected = [".recenter-build.json", "README.md", "data", "eval.yaml"]
    for config, splits in EXPECTED_COUNTS.items():
        expected += [f"data/{config}"] + [f"data/{config}/{s}.parquet" for s in splits]
    assert files == sorted(expected)


def test_counts_per_config_and_split(rows) -> None:
    counts = {c: {s: len(r) for s, r in rows[c].items()} for c in CONFIGS}
    assert counts == EXPECTED_COUNTS


@pytest.mark.parametrize("config", CONFIGS)
def test_load_dataset_gives_declared_features(preview_dataset: Path, config: str) -> None:
    loaded = datasets.load_dataset(str(preview_dataset), config)
    assert set(loaded) == set(EXPECTED_COUNTS[config])
    for split in loaded.values():
        assert split.features == features(config)
    # The helper gives the same thing, split by split.
    assert load(config, "train", source=preview_dataset).num_rows == loaded["train"].num_rows


def test_pairing_labels_equal_authors_majority(preview_release: Path, rows) -> None:
    published = {}
    for path in sorted((preview_release / "data" / "task6").glob("eval_results_*.jsonl")):
        for record in _jsonl(path):
            index = int(record["prompt_id"].rsplit("_", 1)[1])
            for attribute in record["profile_attributes"]:
                key = ids.pair_id(record["user_id"], index, attribute["attribute"])
                published.setdefault(key, set()).add(attribute["ground_truth"])
    assert all(len(v) == 1 for v in published.values()), "the two files disagree"
    labelled = {k: v.pop() for k, v in published.items() if None not in v}
    built = {r["pair_id"]: r for split in rows["pairing"].values() for r in split}
    assert len(published) == 3973 and len(labelled) == 3969
    assert {k: r["relevant"] for k, r in built.items()} == labelled
    assert Counter(labelled.values()) == {False: 3261, True: 708}
    assert all(r["judgments"] == [] and r["yes_votes"] is None for r in built.values())


def test_splits_follow_prompt_and_user(rows) -> None:
    for config in ("pairing", "response_quality"):
        for split, split_rows in rows[config].items():
            prompts = {int(r["prompt_id"].split("-")[1]) for r in split_rows}
            assert {ids.split_of_prompt(p) for p in prompts} == {split}
    test_prompts = {r["prompt_id"] for r in rows["pairing"]["test"]}
    assert test_prompts == {f"lima-{i}" for i in range(33, 38)}
    users_by_split = {s: {r["user_id"] for r in rs} for s, rs in rows["extraction"].items()}
    assert not users_by_split["train"] & users_by_split["test"]
    assert not users_by_split["train"] & users_by_split["validation"]


def test_preview_has_no_stage1_or_stage3_labels(rows) -> None:
    extraction = [r for split in rows["extraction"].values() for r in split]
    assert len(extraction) == 2265
    assert all(r["label"] is None and r["judgments"] == [] for r in extraction)
    assert all(r["accept_votes"] is None for r in extraction)
    responses = [r for split in rows["response_quality"].values() for r in split]
    assert all(r["mean_rating"] is None and r["ratings"] == [] for r in responses)
    assert Counter(r["generator"] for r in responses).keys() == {"gpt-5.4", "claude-sonnet-4-6"}


def test_ids_are_unique_and_content_derived(rows) -> None:
    for config, key in (
        ("conversations", "conversation_id"),
        ("extraction", "attribute_id"),
        ("pairing", "pair_id"),
        ("response_quality", "rating_id"),
    ):
        all_ids = [r[key] for split in rows[config].values() for r in split]
        assert len(all_ids) == len(set(all_ids)), config
    for row in rows["extraction"]["test"]:
        assert row["attribute_id"] == ids.attribute_id(row["user_id"], row["attribute"])
    for row in rows["pairing"]["test"]:
        assert row["attribute_id"] == ids.attribute_id(row["user_id"], row["attribute"])


def test_conversations_reference_wildchat_by_hash(preview_release: Path, rows) -> None:
    conversations = rows["conversations"]["train"]
    wildchat = [r for r in conversations if r["source"] == "wildchat"]
    assert len(wildchat) == 286
    assert all(not r["text_included"] and r["turns"] == [] for r in wildchat)
    synthetic = [r for r in conversations if r["source"] != "wildchat"]
    assert len(synthetic) == 185 and all(r["text_included"] and r["turns"] for r in synthetic)
    with closing(read_only_index(preview_release / "data" / "indexes" / "convs_index.db")) as db:
        indexed = {
            h
            for ip, hashes in db.execute("SELECT hashed_ip, conversation_hash FROM convs_index")
            for h in json.loads(hashes)
            if ip in {r["user_id"] for r in wildchat}
        }
    assert {r["conversation_id"] for r in wildchat} == indexed


def test_evidence_points_at_existing_turns(rows) -> None:
    conversations = {r["conversation_id"]: r for r in rows["conversations"]["train"]}
    evidence = [e for split in rows["extraction"].values() for r in split for e in r["evidence"]]
    assert len(evidence) > 100
    for pointer in evidence:
        conversation = conversations[pointer["conversation_id"]]
        if conversation["text_included"]:
            assert all(t < len(conversation["turns"]) for t in pointer["turn_idxs"])


def test_card_metadata_and_sections(preview_dataset: Path) -> None:
    card = DatasetCard.load(preview_dataset / "README.md")
    assert card.data.license == "cc-by-sa-4.0" and len(card.data.configs) == 4
    text = (preview_dataset / "README.md").read_text(encoding="utf-8")
    _, header, body = text.split("---\n", 2)
    metadata = yaml.safe_load(header)
    assert metadata["license"] == "cc-by-sa-4.0"
    for key in ("pretty_name", "language", "task_categories", "size_categories"):
        assert metadata[key]
    assert metadata["source_datasets"] and metadata["annotations_creators"]
    assert [c["config_name"] for c in metadata["configs"]] == list(CONFIGS)
    info = {c["config_name"]: c for c in metadata["dataset_info"]}
    for config, splits in EXPECTED_COUNTS.items():
        # The card's features, read back by `datasets` itself, are the declared ones.
        builder = datasets.load_dataset_builder(str(preview_dataset), config)
        assert builder.info.features == features(config)
        assert {s["name"]: s["num_examples"] for s in info[config]["splits"]} == splits
        assert all(s["num_bytes"] > 0 for s in info[config]["splits"])
    for section in (
        "## Dataset Details",
        "### Dataset Sources",
        "## Uses",
        "## Dataset Structure",
        "## Dataset Creation",
        "### Annotations",
        "### Personal and Sensitive Information",
        "## Bias, Risks, and Limitations",
        "## Citation",
    ):
        assert section in body
    assert "| `pairing` | 3,019 | 483 | 467 | 3,969 |" in body
    # No per-annotator labels in the preview: agreement is stated as not available.
    assert body.count("| not available |") == 7
    assert "<!-- data:" not in body


def test_static_card_text_has_no_build_figures() -> None:
    text = static_card_text()
    assert "## Dataset Structure" in text and "<!-- data:" not in text
    assert "3,969" not in text and "not available |" not in text


def test_eval_yaml_declares_the_three_stages(preview_dataset: Path) -> None:
    spec = yaml.safe_load((preview_dataset / "eval.yaml").read_text())
    assert [(t["id"], t["config"], t["split"]) for t in spec["tasks"]] == [
        ("extraction", "extraction", "test"),
        ("pairing", "pairing", "test"),
        ("response_quality", "response_quality", "test"),
    ]


def test_pilot_annotations_are_not_read(preview_release: Path, preview_dataset, rows) -> None:
    # data/annotations_v0 holds real pilot judgments; they are not part of the dataset.
    names = {
        p.name.rsplit("_task", 1)[0] for p in (preview_release / "data").rglob("*_task[0-9].jsonl")
    }
    assert "Xiuzhu" in names
    judged = [
        r
        for config in ("extraction", "pairing", "response_quality")
        for split in rows[config].values()
        for r in split
        if r.get("judgments") or r.get("ratings")
    ]
    assert judged == []
    card = (preview_dataset / "README.md").read_text(encoding="utf-8")
    # The paper's authors are named in the citation; no other pilot annotator may appear.
    for name in names - {"Jiarui", "Lechen", "Lechen2", "Tal"}:
        assert name not in card


def test_dataset_revision_is_a_stable_digest(preview_dataset: Path) -> None:
    revision = dataset_revision(preview_dataset)
    assert len(revision) == 12 and int(revision, 16) >= 0
    assert dataset_revision(str(preview_dataset)) == revision


def test_load_rows_reads_what_datasets_loads(preview_dataset: Path) -> None:
    # load_rows reads the Parquet files with pyarrow (the command line never imports datasets);
    # the rows must be exactly what `datasets` gives users for the same folder.
    for config in CONFIGS:
        rows = load_rows(config, preview_dataset)
        loaded = load(config, source=preview_dataset)
        assert list(rows) == [split for split in ids.SPLITS if split in loaded]
        for split, split_rows in rows.items():
            assert split_rows == loaded[split].to_list(), (config, split)


# A dataset folder damaged after the build: what `validate` / `score --dataset` read must end in
# one line naming the file, not a pyarrow or OS traceback.
DAMAGE = {
    "not Parquet": lambda path: path.write_bytes(b"junk"),
    "another table": lambda path: pq.write_table(pa.table({"x": [1]}), path),
    "a folder": lambda path: (path.unlink(), path.mkdir()),
}


@pytest.mark.parametrize("command", ["validate", "score"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_dataset_file_is_one_line(
    preview_dataset: Path, tmp_path: Path, capsys, damage: str, command: str
) -> None:
    dataset = tmp_path / "dataset"
    shutil.copytree(preview_dataset, dataset)
    target = dataset / "data" / "pairing" / "test.parquet"
    DAMAGE[damage](target)
    submission = SUBMISSIONS_DIR / "recenter-bench__BM25" / "v2"
    assert main([command, str(submission), "--dataset", str(dataset)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}: ") and err.count("\n") == 1, err
