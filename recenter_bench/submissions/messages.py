"""Problem lines: `file:line: field: what is wrong`, with untrusted text made safe to print."""

from __future__ import annotations

import json
from typing import Any

from recenter_bench.errors import where
from recenter_bench.submissions.names import ALLOWED_FILES, max_bytes


def problem(file: str, line: int | None, field_name: str | None, message: str) -> str:
    """One problem line (the format of `recenter_bench.errors.where`).

    >>> problem("a/pairing.jsonl", 3, "relevant", "must be true or false")
    'a/pairing.jsonl:3: relevant: must be true or false'
    """
    return f"{where(file, line, field_name)}: {message}"


def show(value: Any, limit: int = 60) -> str:
    """Untrusted input quoted on one line of ASCII (control characters and newlines escaped).

    >>> show("a\\nb")
    '"a\\\\nb"'
    """
    try:
        text = json.dumps(value, ensure_ascii=True, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value).encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show_name(name: str) -> str:
    """A file or field name from disk or an upload, safe to print on one line."""
    shown = name.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return shown if len(shown) <= 80 else shown[:77] + "..."


def unexpected_file() -> str:
    return f"unexpected file; a submission holds only {', '.join(ALLOWED_FILES)}"


def too_big(size: int, name: str) -> str:
    return f"file is {size:,} bytes; the limit is {max_bytes(name):,}"
