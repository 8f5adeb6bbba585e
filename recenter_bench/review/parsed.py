"""The parsed forms read hands check, below every step: a `Document` (data and the line of each
key path) and JSON decoded strictly (`json_loads`: duplicate keys refused, NaN/Infinity kept as
`NonFinite` for the caller to report).

`read` parses whole documents with these; `check_predictions` parses each line of a JSON Lines
file with `json_loads` as it checks it, so a 64 MB file is never held parsed in memory. Nothing
here calls back into a step.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recenter_bench.review.files import show


@dataclass
class Document:
    """A parsed YAML/JSON document and the line of each key path (for messages)."""

    data: Any
    lines: dict[tuple, int]

    def line(self, path: tuple | list) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


class NonFinite:
    """NaN / Infinity in JSON (Python's json accepts them; the contract does not)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:  # messages quote the value as the file wrote it
        return self.text


def is_non_finite(value: Any) -> bool:
    """NaN, ±Infinity, 1e999, or an integer too large for a float (a 400-digit literal)."""
    return isinstance(value, NonFinite) or (
        isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max
    )


def _parse_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.msg = f"the key {show(key)} appears twice in one object"
        super().__init__(self.msg)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: a repeated key is an error, not a silent "last one wins"."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def json_loads(text: str) -> Any:
    return json.loads(
        text, parse_constant=NonFinite, parse_float=_parse_float, object_pairs_hook=_unique_keys
    )


def non_finite_fields(row: Mapping[str, Any]) -> list[str]:
    return [name for name, value in row.items() if is_non_finite(value)]
