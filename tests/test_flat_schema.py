"""The flat-schema fast path (recenter_bench.review.flat_schema) against jsonschema itself: a
row it calls valid, jsonschema calls valid, and the other way round for the prediction
schemas (so the fast path answers every valid row of a stage file)."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recenter_bench.paths import SCHEMA_DIR, load_schema
from recenter_bench.review.check_schema import schema_errors
from recenter_bench.review.flat_schema import flat_rule

SCHEMAS = sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json"))
PREDICTION_SCHEMAS = [f"{s}_predictions" for s in ("extraction", "pairing", "response_quality")]
IDS = ["pair-0123456789abcdef", "attr-0123456789abcdef", "rating-0123456789abcdef"]
NEAR_IDS = [
    variant
    for i in IDS
    for variant in (i.upper(), i + "\n", "x" + i, i[:-1], i + "0", i.replace("0", "g"))
]
FIELDS = ["pair_id", "attribute_id", "rating_id", "relevant", "problematic", "rating", "score"]

# Values near every rule's edges: IDs right and nearly right (a pattern is matched with
# re.search, as jsonschema does), booleans and the numbers 0 and 1 (equal to them in Python),
# ratings on and past the bounds, non-finite floats, strings, nulls, lists and objects.
values = st.one_of(
    st.sampled_from(IDS + NEAR_IDS),
    st.booleans(),
    st.integers(-3, 8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.999, 1, 1.0, 5, 5.0, 5.0001, 0, None, "", "true", [], {}]),
    st.text(max_size=30),
)
EXAMPLES = {
    "pairing_predictions": {"pair_id": IDS[0], "relevant": True, "score": -0.5},
    "extraction_predictions": {"attribute_id": IDS[1], "problematic": False},
    "response_quality_predictions": {"rating_id": IDS[2], "rating": 4.5},
}


def changed(row: dict, field: str, value: object, drop: bool) -> dict:
    """`row` with one field set to `value`, or removed."""
    out = dict(row)
    if drop:
        out.pop(field, None)
    else:
        out[field] = value
    return out


def rows(name: str) -> st.SearchStrategy:
    """A valid row of `name` with at most one field changed or removed (so many are valid),
    or anything else."""
    return st.one_of(
        st.builds(
            changed,
            st.just(EXAMPLES[name]),
            st.sampled_from([*FIELDS, "order", "x"]),
            values,
            st.booleans(),
        ),
        st.fixed_dictionaries({}, optional={f: values for f in [*FIELDS, "order", "x"]}),
        st.lists(values, max_size=2),
        values,
    )


def jsonschema_valid(name: str, row: object) -> bool:
    validator = jsonschema.Draft202012Validator(
        load_schema(name), format_checker=jsonschema.FormatChecker()
    )
    return validator.is_valid(row)


def test_only_the_prediction_schemas_take_the_fast_path():
    """A schema with keywords the fast path does not know (the raw answers' oneOf and enum,
    results, metadata, the dataset's own configs) gets no rule: jsonschema checks it."""
    ruled = {name for name in SCHEMAS if flat_rule(load_schema(name)) is not None}
    assert ruled == set(PREDICTION_SCHEMAS)


@pytest.mark.parametrize("name", PREDICTION_SCHEMAS)
@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_the_fast_path_agrees_with_jsonschema(name, data):
    row = data.draw(rows(name))
    assert flat_rule(load_schema(name))(row) == jsonschema_valid(name, row)


@pytest.mark.parametrize("name", PREDICTION_SCHEMAS)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_schema_errors_are_empty_exactly_when_jsonschema_finds_nothing(name, data):
    row = data.draw(rows(name))
    assert (schema_errors(name, row) == []) == jsonschema_valid(name, row)


def test_a_row_of_each_stage_passes_the_fast_path():
    for name, row in EXAMPLES.items():
        assert flat_rule(load_schema(name))(row), name
        assert jsonschema_valid(name, row), name
