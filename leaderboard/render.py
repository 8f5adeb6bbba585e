"""Plain table -> what the browser shows, treating everything a submitter wrote as untrusted.

Only the model and link columns are Markdown (so they can be links); their text is escaped so
Markdown and HTML in a model name show as the characters typed. The model cell links to the row's
Submission view on this page (`?submission=<id>`, a shareable URL); the link column is the
submitter's link, made only from an http/https URL with a host.
Every other text column uses the Dataframe's "str" datatype, which the browser renders as text.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pandas as pd

from recenter_bench.errors import escape_markdown
from recenter_bench.leaderboard.columns import COLUMNS, label
from recenter_bench.leaderboard.prompt_blind import REFERENCE_TEXT

_URL_SAFE = "/?:@&=+,-_.!~*#%;"


def safe_url(url: Any) -> str | None:
    """`url` if it is an absolute http(s) URL with a host, percent-quoted so it cannot end a
    Markdown link or an HTML attribute early; None otherwise (javascript:, data:, relative...).

    >>> safe_url("https://example.org/a b(c)")
    'https://example.org/a%20b%28c%29'
    >>> safe_url("javascript:alert(1)") is None
    True
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ord(c) < 32 or c.isspace() and c != " " for c in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return quote(text, safe=_URL_SAFE)


def model_cell(model: Any, link: Any) -> str:
    """The Markdown of a model cell: the escaped name, linked when the link is safe."""
    label = escape_markdown(model)
    url = safe_url(link)
    return f"[{label}]({url})" if url else label


SUBMISSION_PARAMETER = "submission"
_SUBMISSION_HREF = re.compile(r"\]\(\?" + SUBMISSION_PARAMETER + r"=([^)\s]+)\)$")


def submission_cell(model: Any, submission_id: Any) -> str:
    """The Markdown of a model cell: the escaped name, linked to its Submission view on this
    page (the id percent-quoted whole, so it cannot end the link early).

    >>> submission_cell("BM25 (paper)", "a__BM25/paper")
    '[BM25 \\\\(paper\\\\)](?submission=a__BM25%2Fpaper)'
    """
    label = escape_markdown(model)
    if not isinstance(submission_id, str) or not submission_id:
        return label
    return f"[{label}](?{SUBMISSION_PARAMETER}={quote(submission_id, safe='')})"


def submission_of_cell(cell: Any) -> str | None:
    """The submission id a model cell links to (what `submission_cell` wrote), else None."""
    found = _SUBMISSION_HREF.search(cell) if isinstance(cell, str) else None
    return unquote(found.group(1)) if found else None


def link_cell(link: Any) -> str:
    """The Markdown of a link cell: the link's host, linked, when the link is safe; else ""."""
    url = safe_url(link)
    if url is None:
        return ""
    host = urlsplit(url).hostname or ""
    return f"[{escape_markdown(host.removeprefix('www.'))}]({url})"


REFERENCE_TYPE_LABELS = {"human": "reference: human", "baseline": "reference: no-skill baseline"}
PROVENANCE_LABELS = {"rescored": "re-scored", "reported": "reported by the paper"}
__all__ = [
    "PROVENANCE_LABELS",
    "REFERENCE_TYPE_LABELS",
    "display_table",
    "label",
    "submission_of_cell",
    "table_value",
]


def _number(value: Any, integer: bool) -> float | int | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return int(round(number)) if integer else round(number, 3)


def display_table(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A (filtered) plain table as the browser shows it, and the Dataframe datatype of each
    column: numbers rounded to 3 decimals, missing values empty, the model cell Markdown.
    Headers, cell kinds and hidden columns are the column registry's (columns.py)."""
    columns: dict[str, list[Any]] = {}
    datatypes: list[str] = []
    records = table.to_dict(orient="list")
    for name in table.columns:
        spec = COLUMNS.get(name)
        if spec is not None and spec.hidden:
            continue
        values = records[name]
        if name == "model":
            ids = records.get("submission") or [None] * len(values)
            cells: list[Any] = [submission_cell(m, i) for m, i in zip(values, ids, strict=True)]
            kind = "markdown"
        elif name == "link":
            cells = [link_cell(v) for v in values]
            kind = "markdown"
        elif name == "type":
            # The prompt-blind reference is ranked like any system but read as a yardstick.
            blind = table.attrs.get("prompt_blind_reference")
            ids = records.get("submission") or [None] * len(values)
            cells = [
                f"{v} · {REFERENCE_TEXT}"
                if blind and i == blind
                else REFERENCE_TYPE_LABELS.get(v, v)
                for v, i in zip(values, ids, strict=True)
            ]
            kind = "str"
        elif name == "open_weights":
            cells = [open_weights_text(v) for v in values]
            kind = "str"
        elif pd.api.types.is_numeric_dtype(table[name]) and table[name].dtype != bool:
            integer = spec.integer if spec is not None else False
            cells = [_number(v, integer) for v in values]
            kind = "number"
        else:
            cells = [
                "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                for v in values
            ]
            kind = "str"
        columns[label(name)] = cells
        datatypes.append(kind)
    return pd.DataFrame(columns), datatypes


def column_widths(table: pd.DataFrame) -> list[str]:
    """The browser width of each shown column of a (filtered) plain table, in display order."""
    return [
        f"{COLUMNS[name].pixels if name in COLUMNS else 110}px"
        for name in table.columns
        if not (name in COLUMNS and COLUMNS[name].hidden)
    ]


def open_weights_text(value: Any) -> str:
    """yes / no for a stated value; "unknown" where the submitter did not say (not a false no)."""
    return "yes" if value is True else "no" if value is False else "unknown"


GREY = "color: var(--body-text-color-subdued); opacity: 0.6"


def table_value(table: pd.DataFrame) -> tuple[dict[str, Any], list[str]]:
    """A (filtered) plain table as the Dataframe's value, ready to send: headers, cells (JSON
    values, None for missing) and, when some rows are not ranked here (trained on the split),
    the styling that greys them. Built directly rather than through a pandas Styler, which
    costs far more per cell on every request."""
    shown, datatypes = display_table(table)
    # pandas turns a column of ints with gaps into floats: integer columns go back to ints.
    specs = [COLUMNS.get(name) for name in table.columns]
    integer = [bool(c and c.integer) for c in specs if not (c and c.hidden)]
    rows = [
        [
            None
            if isinstance(v, float) and math.isnan(v)
            else int(v)
            if whole and isinstance(v, float)
            else v
            for v, whole in zip(row, integer, strict=True)
        ]
        for row in shown.itertuples(index=False, name=None)
    ]
    value: dict[str, Any] = {"headers": list(shown.columns), "data": rows}
    grey = table["unranked"].astype(bool).tolist() if "unranked" in table else []
    if any(grey):
        value["metadata"] = {
            "styling": [[GREY if g else ""] * len(shown.columns) for g in grey],
            "display_value": [["" if v is None else str(v) for v in row] for row in rows],
        }
    return value, datatypes
