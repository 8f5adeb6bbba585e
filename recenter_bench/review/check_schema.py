"""JSON Schema violations (dataset_card/schemas/) -> one readable problem line each: the
wording every file check reports a schema problem in."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema

from recenter_bench.paths import load_schema
from recenter_bench.review.files import problem, show, show_name
from recenter_bench.review.flat_schema import flat_rule
from recenter_bench.review.parsed import NonFinite


@cache
def _certainly_valid(name: str) -> Callable[[Any], bool]:
    return flat_rule(load_schema(name)) or (lambda _: False)


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = load_schema(name)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "integer": "an integer",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | NonFinite):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _describe(error: jsonschema.ValidationError) -> list[tuple[list, str]]:
    """(field path, message) of each field one schema error is about, worded for a person."""
    path = list(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in expected if name not in (value or {})]
        return [([*path, name], "missing required field") for name in missing]
    if kind == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return [([*path, show_name(str(name))], f"unknown field{hint}") for name in extra]
    return [_describe_one(error, path, kind, expected, value)]


def _describe_one(
    error: jsonschema.ValidationError, path: list, kind: str, expected: Any, value: Any
) -> tuple[list, str]:
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
        return path, f"must be {wanted}, got {kind_of(value)} {show(value)}"
    if kind in ("enum", "const"):
        options = expected if kind == "enum" else [expected]
        shown = ", ".join(show(o) for o in options)
        return path, f"must be one of {shown}; got {show(value)}"
    if kind in ("minimum", "maximum"):
        bounds = error.schema
        low, high = bounds.get("minimum"), bounds.get("maximum")
        if low is not None and high is not None:
            return path, f"must be between {low} and {high}, got {show(value)}"
        return path, f"must be {'at least' if kind == 'minimum' else 'at most'} {expected}"
    if kind == "pattern":
        return path, f"{show(value)} is not allowed here ({_pattern_hint(path)})"
    if kind == "format":
        return path, f"{show(value)} is not a valid {expected} (YYYY-MM-DD)"
    if kind in ("minLength", "maxLength"):
        words = "at least" if kind == "minLength" else "at most"
        return path, f"must have {words} {expected} character(s)"
    if kind in ("minItems", "maxItems"):
        words = "at least" if kind == "minItems" else "at most"
        return path, f"must list {words} {expected} item(s)"
    if kind == "uniqueItems":
        return path, "lists the same item twice"
    if kind == "not" and "else" in error.schema_path:
        return [*path, "source"], "only reported submissions (provenance: reported) name a source"
    if kind == "oneOf" and all(set(option) == {"required"} for option in expected):
        names = ", ".join(name for option in expected for name in option["required"])
        return path, f"needs exactly one of {names}"
    if kind == "propertyNames":
        return path, f"unexpected key {show(error.instance)}"
    return path, " ".join(error.message.split())[:120]


# "..., got a string" of a type problem: what is wrong whatever the value quoted after it.
_GOT_KIND = re.compile(r"^(.*, got (?:null|a boolean|a number|a string|a list|a mapping))(?: |$)")


def problem_kind(message: str) -> str:
    """A problem message without the value it quotes, when it ends in one (type problems):
    the key under which repeated problems are counted instead of listed.

    >>> problem_kind('must be true or false, got a string "yes"')
    'must be true or false, got a string'
    """
    match = _GOT_KIND.match(message)
    return match[1] if match else message


def _pattern_hint(path: list) -> str:
    last = path[-1] if path else ""
    return {
        "link": "an http:// or https:// URL without spaces or quotes, or empty",
        "model": "plain text with a letter or digit, no '<', '>' or control characters",
        "org": "plain text with a letter or digit, no '<', '>' or control characters",
        "contact": "no '<', '>' or control characters",
        "source": "no '<', '>' or control characters",
        "description": "no control characters",
        "date": "YYYY-MM-DD",
        "dataset_revision": "letters, digits and . _ : / -",
        "submission": "<org>__<model>/<run>",
    }.get(str(last), "see the schema in dataset_card/schemas/")


def schema_errors(schema: str, instance: Any) -> list[tuple[list, str]]:
    """Every violation of `dataset_card/schemas/<schema>.schema.json` as (field path, message),
    in field order."""
    if _certainly_valid(schema)(instance):
        return []  # a flat schema's row checked in a few microseconds (flat_schema)
    # jsonschema raises one `required` error per missing field, each describing them all: a
    # field is reported once however many errors name it.
    described = {
        (tuple(path), message): None
        for error in _validator(schema).iter_errors(instance)
        for path, message in _describe(error)
    }
    return sorted(
        ((list(path), message) for path, message in described), key=lambda i: [str(p) for p in i[0]]
    )


def field_label(path: list) -> str | None:
    """A field path as a problem line names it: `scores.pairing.test.f1`."""
    return ".".join(show_name(str(p)) for p in path) or None


def schema_problems(
    schema: str, instance: Any, label: str, line_of: Callable[[list], int | None]
) -> list[str]:
    """Every violation of a schema, one problem line each."""
    return [
        problem(label, line_of(path), field_label(path), message)
        for path, message in schema_errors(schema, instance)
    ]


def field_is_valid(schema: str, name: str, value: Any) -> bool:
    """Whether one top-level field alone satisfies its schema."""
    return jsonschema.Draft202012Validator(load_schema(schema)["properties"][name]).is_valid(value)
