"""`eval.yaml` against the Hub's published specification (tests/hub_eval_spec.py): the file
the build writes, the configs, splits and columns of the card it sits beside, and the Inspect AI
components it names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from huggingface_hub import DatasetCard

from recenter_bench.loaders.card import render_eval_yaml
from tests.hub_eval_spec import eval_yaml_problems, field_spec_columns

# dataset_card/eval.yaml as it was on main at 9a7c993, before it followed the Hub's spec.
EVAL_YAML_9A7C993 = """\
name: Re-Centering Humans in LLM Personalization
description: >-
  Human-judged LLM personalization benchmark in three stages.
evaluation_framework: recenter-bench
tasks:
  - id: extraction
    config: extraction
    split: test
  - id: pairing
    config: pairing
    split: test
  - id: response_quality
    config: response_quality
    split: test
"""


@pytest.fixture(scope="module")
def spec(preview_dataset: Path) -> dict:
    return yaml.safe_load((preview_dataset / "eval.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def card(preview_dataset: Path) -> DatasetCard:
    return DatasetCard.load(preview_dataset / "README.md")


def test_built_eval_yaml_meets_the_hub_spec(spec: dict) -> None:
    assert eval_yaml_problems(spec) == []
    assert spec == yaml.safe_load(render_eval_yaml())


def test_the_file_before_this_change_breaks_the_spec() -> None:
    problems = eval_yaml_problems(yaml.safe_load(EVAL_YAML_9A7C993))
    assert len(problems) == 1
    assert problems[0].startswith("evaluation_framework: 'recenter-bench' is not one of")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.pop("name"), "name: required"),
        (lambda d: d["tasks"].append(dict(d["tasks"][0])), "is not unique"),
        (lambda d: d["tasks"][0].pop("solvers"), "tasks[0].solvers: required"),
        (lambda d: d["tasks"][1]["field_spec"].pop("input"), "field_spec.input: required"),
        (lambda d: d["tasks"][2]["scorers"].append({"args": {}}), "must be a mapping with"),
        (lambda d: d.update(evaluation_framework="inspect"), "is not one of the Hub's"),
    ],
)
def test_spec_check_catches_each_breach(spec: dict, edit, expected: str) -> None:
    doc = yaml.safe_load(yaml.safe_dump(spec))
    edit(doc)
    assert any(expected in p for p in eval_yaml_problems(doc))


def test_tasks_name_configs_splits_and_columns_of_the_card(spec: dict, card: DatasetCard) -> None:
    configs = {c["config_name"]: {f["split"] for f in c["data_files"]} for c in card.data.configs}
    features = {
        info["config_name"]: {f["name"] for f in info["features"]}
        for info in card.data.dataset_info
    }
    for task in spec["tasks"]:
        config = task.get("config", "default")
        assert task.get("split", "test") in configs[config], task["id"]
        assert set(field_spec_columns(task["field_spec"])) <= features[config], task["id"]
    # one leaderboard per scored stage, each on the held-out split
    assert [(t["id"], t["split"]) for t in spec["tasks"]] == [
        ("extraction", "test"),
        ("pairing", "test"),
        ("response_quality", "test"),
    ]


def test_card_carries_the_benchmark_conventions(card: DatasetCard, spec: dict) -> None:
    assert "benchmark" in card.data.tags
    text = card.text
    assert "eval.yaml" in text and ".eval_results/" in text
    for task in spec["tasks"]:
        assert f"inspect eval recenter_bench/{task['id']}" in text
