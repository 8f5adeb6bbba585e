"""The row JSON Schemas of `dataset_card/schemas/` as the one definition of every config's fields.

The `datasets` features (Parquet types and the card's `dataset_info`) are derived from the
schemas here, so a field is declared once and the card, the Parquet files and the validation
can never drift apart.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema

from recenter_bench.errors import UserError
from recenter_bench.metric.recenter_personalization.recenter_personalization import STAGES
from recenter_bench.paths import load_schema

if TYPE_CHECKING:
    import datasets

# Order matters: it is the order of the card's `configs:` and of the build summary. The scored
# configs are the metric's stages; `conversations` holds their inputs.
CONFIGS = ("conversations", *STAGES)

_SCALAR_DTYPES = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool"}


@cache
def schema(config: str) -> dict[str, Any]:
    """The JSON Schema of one config's rows."""
    if config not in CONFIGS:
        raise UserError(f"config: unknown config {config!r} (expected one of {', '.join(CONFIGS)})")
    return load_schema(config)


def _feature(node: dict[str, Any]) -> Any:
    import datasets

    kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
    # A nullable field ("integer" | "null") is stored as the non-null type; Arrow keeps nulls.
    kinds = [k for k in kinds if k != "null"]
    if len(kinds) != 1:
        raise ValueError(f"a schema field must have exactly one non-null type, got {kinds}")
    kind = kinds[0]
    if kind == "array":
        return datasets.List(_feature(node["items"]))
    if kind == "object":
        return {name: _feature(sub) for name, sub in node["properties"].items()}
    return datasets.Value(_SCALAR_DTYPES[kind])


@cache
def features(config: str) -> datasets.Features:
    """The `datasets.Features` of one config, in the schema's property order."""
    import datasets

    return datasets.Features(
        {name: _feature(node) for name, node in schema(config)["properties"].items()}
    )


@cache
def _validator(config: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(config))


def validate_rows(config: str, rows: list[dict[str, Any]], origin: str) -> None:
    """Raise `UserError` naming the first row and field that break the config's schema.

    `origin` names where the rows came from (the export file), so the message points the user
    at something they can open.
    """
    validator = _validator(config)
    for number, row in enumerate(rows, start=1):
        error = jsonschema.exceptions.best_match(validator.iter_errors(row))
        if error is not None:
            field = ".".join(str(p) for p in error.absolute_path) or "(row)"
            # The first property of every schema is the row's ID: the handiest name for it.
            key = row.get(next(iter(schema(config)["properties"])), f"#{number}")
            raise UserError(f"{origin}: {field}: {error.message} (in {config} row {key})")
