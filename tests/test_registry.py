"""One registry: the metric declares the benchmark's facts (stages, splits, ID fields, labels,
headline metrics and their direction); every other place either imports them or, for data
files that cannot import (the JSON Schemas), is checked against them here."""

from __future__ import annotations

import pytest

from recenter_bench.leaderboard import table
from recenter_bench.loaders import ids, release, schemas
from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.paths import load_schema
from recenter_bench.review import files

STAGES = metric.STAGES
RECORDS = metric.STAGE_RECORDS


def _item(schema: dict, array: str) -> dict:
    return schema["properties"][array]["items"]["properties"]


def test_python_readers_take_the_metrics_facts() -> None:
    assert files.STAGES is metric.STAGES and files.ID_FIELD is metric.ID_FIELD
    # what the review's steps call: the records, read when called
    assert files.stages() == metric.STAGES and files.id_fields() == metric.ID_FIELD
    assert ids.SPLITS is metric.SPLITS
    assert schemas.CONFIGS == ("conversations", *metric.STAGES)
    assert table.STAGES is metric.STAGES and table.HEADLINE is metric.HEADLINE
    assert set(table.SPLITS) == {*metric.SPLITS, metric.ALL}
    # The export format's Stage-1 codes map onto exactly the metric's annotator labels.
    assert sorted(release.STAGE1_LABELS.values()) == sorted(metric.ANNOTATOR_LABELS["extraction"])


@pytest.mark.parametrize("stage", STAGES)
def test_dataset_row_schema_agrees(stage: str) -> None:
    schema = load_schema(stage)
    properties = schema["properties"]
    # The row's ID is its first field (loaders.schemas names rows by it).
    assert next(iter(properties)) == metric.ID_FIELD[stage]
    assert metric.BOOTSTRAP_UNIT[stage] in properties
    assert metric.REFERENCE_FIELD[stage] in properties


@pytest.mark.parametrize("stage", STAGES)
def test_labels_agree_with_the_schemas(stage: str) -> None:
    """Each record's annotator labels, judgment fields and reference are the schema's."""
    record, schema = RECORDS[stage], load_schema(stage)
    assert record.judgments_field in schema["properties"]
    judgment = _item(schema, record.judgments_field)[record.judgment_field]
    reference = schema["properties"][record.reference_field]
    if record.kind == metric.RATING:
        assert judgment["type"] == "integer"
        levels = tuple(range(judgment["minimum"], judgment["maximum"] + 1))
        assert levels == record.annotator_labels
        assert (reference["minimum"], reference["maximum"]) == (levels[0], levels[-1])
    elif record.annotator_negative is None:  # annotators and reference are booleans
        assert record.annotator_labels == (False, True) and record.reference_labels is None
        assert judgment["type"] == reference["type"] == "boolean"
    else:  # annotators give labels; the reference is a (negative, positive) label
        assert tuple(judgment["enum"]) == record.annotator_labels
        assert record.annotator_negative in record.annotator_labels
        labels = tuple(value for value in reference["enum"] if value is not None)
        assert labels == record.reference_labels
        assert labels[0] == record.annotator_negative  # "accepted" on both sides


def test_the_extraction_labels_are_the_records() -> None:
    assert RECORDS["extraction"].reference_labels == metric.EXTRACTION_LABELS
    assert metric.RATING_LABELS == RECORDS["response_quality"].annotator_labels


@pytest.mark.parametrize("stage", STAGES)
def test_prediction_schema_agrees(stage: str) -> None:
    schema = load_schema(f"{stage}_predictions")
    assert schema["required"] == [metric.ID_FIELD[stage], metric.PREDICTION_FIELD[stage]]
    value = schema["properties"][metric.PREDICTION_FIELD[stage]]
    if RECORDS[stage].kind == metric.RATING:
        levels = metric.ANNOTATOR_LABELS[stage]
        assert value["type"] == "number"
        assert (value["minimum"], value["maximum"]) == (min(levels), max(levels))
    else:
        assert value["type"] == "boolean"


def test_submission_schemas_agree() -> None:
    results = load_schema("results")
    assert tuple(results["properties"]["scores"]["properties"]) == metric.STAGES
    assert tuple(results["$defs"]["splits"]["properties"]) == (*metric.SPLITS, metric.ALL)
    metadata = load_schema("submission_metadata")["properties"]
    assert tuple(metadata["stages"]["items"]["enum"]) == metric.STAGES
    # A system may train on any split but the held-out one.
    assert tuple(metadata["trained_on"]["items"]["enum"]) == tuple(
        split for split in metric.SPLITS if split != "test"
    )


def test_headline_metrics_have_a_direction() -> None:
    for stage, name in metric.HEADLINE.items():
        assert name in metric.METRIC_NAMES[stage]
        assert metric.HIGHER_IS_BETTER[name] is True
    # A count, a rate or a signed gap is not better for being larger.
    assert not {"n", "tp", "fn", "yes_rate", "flag_rate", "inflation"} & set(
        metric.HIGHER_IS_BETTER
    )
    assert metric.HIGHER_IS_BETTER["kappa_vs_annotators"] and metric.HIGHER_IS_BETTER["kendall"]
