"""A quick "valid" for rows of a flat JSON Schema, the prediction files' kind of schema.

A stage file holds up to ~100,000 rows, and jsonschema's general validator spends ~0.1 ms on
each, most of a preview's CPU. The prediction schemas are flat: an object with a fixed set of
fields, each a string (matching a pattern), a boolean or a number (within bounds).
`flat_rule` turns such a schema into a plain function that answers only "valid" (True) or
"ask jsonschema" (False): a row it passes, jsonschema passes too (tests/test_flat_schema.py
checks this against jsonschema itself), and every other row goes to jsonschema, which
words its problems. A schema using any other keyword gets no rule (None).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Keywords a flat schema may use; anything else (oneOf, enum, format, a list of types ...) is
# left to jsonschema.
SCHEMA_KEYS = frozenset(
    {"$schema", "$id", "title", "description", "type", "additionalProperties", "required"}
    | {"properties"}
)
FIELD_KEYS = {
    "string": frozenset({"description", "type", "pattern"}),
    "boolean": frozenset({"description", "type"}),
    "number": frozenset({"description", "type", "minimum", "maximum"}),
}


def flat_rule(schema: Any) -> Callable[[Any], bool] | None:
    """A function telling whether a row certainly satisfies `schema`, or None when `schema`
    is not flat (an object of known fields, no others allowed, each field one of FIELD_KEYS'
    types)."""
    if not isinstance(schema, dict) or not set(schema) <= SCHEMA_KEYS:
        return None
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        return None
    properties, required = schema.get("properties", {}), schema.get("required", [])
    if not isinstance(properties, dict) or not isinstance(required, list):
        return None
    if not all(isinstance(name, str) for name in required):
        return None
    fields = {name: _field_rule(rule) for name, rule in properties.items()}
    if any(rule is None for rule in fields.values()):
        return None
    needed = frozenset(required)

    def valid(row: Any) -> bool:
        if type(row) is not dict or not needed <= row.keys():
            return False
        for name, value in row.items():
            rule = fields.get(name)
            if rule is None or not rule(value):
                return False
        return True

    return valid


def _field_rule(rule: Any) -> Callable[[Any], bool] | None:
    """The check of one field's value, or None for a rule this module does not know."""
    if not isinstance(rule, dict):
        return None
    kind = rule.get("type")
    if not isinstance(kind, str) or kind not in FIELD_KEYS or not set(rule) <= FIELD_KEYS[kind]:
        return None
    if kind == "boolean":
        return lambda value: type(value) is bool
    if kind == "string":
        pattern = rule.get("pattern")
        if pattern is None:
            return lambda value: type(value) is str
        if not isinstance(pattern, str):
            return None
        search = re.compile(pattern).search  # jsonschema's `pattern` is re.search too
        return lambda value: type(value) is str and search(value) is not None
    low, high = rule.get("minimum"), rule.get("maximum")
    if any(bound is not None and type(bound) not in (int, float) for bound in (low, high)):
        return None

    def number(value: Any) -> bool:
        # Exact int and float only (not bool, not the reader's NonFinite stand-in); the bounds
        # compared as jsonschema compares them.
        if type(value) not in (int, float):
            return False
        return not (low is not None and value < low) and not (high is not None and value > high)

    return number
