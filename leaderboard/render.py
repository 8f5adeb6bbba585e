"""Plain table -> what the browser shows, treating everything a submitter wrote as untrusted.

Only the model column is Markdown (so it can be a link); its text is escaped so Markdown and HTML
in a model name show as the characters typed, and only http/https links with a host are made.
Every other text column uses the Dataframe's "str" datatype, which the browser renders as text.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd

from recenter_bench.leaderboard.table import (
    CONFUSION_COUNTS,
    HEADLINE,
    STAGE_TITLES,
    STAGES,
    overview_metric_columns,
)

# Backslash-escape every Markdown-active ASCII punctuation mark; ":" and "@" stop GFM autolinks
# ("http://...", "a@b.c") and "." stops "www." autolinks. "&", "<" and ">" become HTML entities
# instead, because a backslash before them would make the entity's "&" literal.
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:@$=^\"'])")
_URL_SAFE = "/?:@&=+,-_.!~*#%;"


def escape_markdown(text: Any) -> str:
    """`text` as Markdown that renders to exactly these characters, on one line.

    >>> escape_markdown("<img src=x onerror=alert(1)>")
    '&lt;img src\\\\=x onerror\\\\=alert\\\\(1\\\\)&gt;'
    """
    one_line = " ".join(str(text).split())
    escaped = _MARKDOWN_ACTIVE.sub(r"\\\1", one_line)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


# Column -> header shown in the browser. Metric headers follow the metric card's names.
LABELS: dict[str, str] = {
    "rank": "Rank",
    "model": "Model",
    "org": "Org",
    "type": "Type",
    "open_weights": "Open weights",
    "provenance": "Provenance",
    "training": "Training",
    "saw_split": "Trained on this split",
    "f1": "F1",
    "f1_ci_low": "F1 95% CI low",
    "f1_ci_high": "F1 95% CI high",
    "precision": "Precision",
    "recall": "Recall",
    "accuracy": "Accuracy",
    "flag_rate": "Flag rate",
    "yes_rate": "YES-rate",
    "human_yes_rate": "Human YES-rate",
    "kappa_vs_annotators": "κ vs annotators",
    "inter_annotator_kappa": "Inter-annotator κ",
    "inter_annotator_kappa_3way": "Inter-annotator κ (3-way)",
    "inter_annotator_spearman": "Inter-annotator Spearman",
    "inter_annotator_weighted_kappa": "Inter-annotator weighted κ",
    "n": "n",
    "n_annotators": "Annotators",
    "tp": "TP",
    "fp": "FP",
    "fn": "FN",
    "tn": "TN",
    "spearman": "Spearman",
    "spearman_ci_low": "Spearman 95% CI low",
    "spearman_ci_high": "Spearman 95% CI high",
    "kendall": "Kendall τ",
    "pearson": "Pearson",
    "mean_rating": "Mean rating",
    "human_mean_rating": "Human mean rating",
    "inflation": "Rating inflation",
    "date": "Date",
    "source": "Source",
    "dataset_revision": "Dataset revision",
    "metric_version": "Metric version",
    "submission": "Submission",
}
# The overview's headline columns, e.g. "Stage 2 F1": the stage title's number and the header of
# the stage's headline metric.
for _stage, _column in zip(STAGES, overview_metric_columns(), strict=True):
    LABELS[_column] = f"{STAGE_TITLES[_stage].split(' · ')[0]} {LABELS[HEADLINE[_stage]]}"
_INTEGER_COLUMNS = frozenset({"rank", "n", "n_annotators", *CONFUSION_COUNTS})
_HIDDEN = frozenset({"link", "reference"})
REFERENCE_TYPE_LABELS = {"human": "reference: human", "baseline": "reference: no-skill baseline"}
PROVENANCE_LABELS = {"rescored": "re-scored", "reported": "reported by the paper"}


def label(column: str) -> str:
    """The header of `column` in the browser."""
    return LABELS.get(column, column)


def _number(value: Any, integer: bool) -> float | int | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return int(round(number)) if integer else round(number, 3)


def display_table(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A (filtered) plain table as the browser shows it, and the Dataframe datatype of each
    column: numbers rounded to 3 decimals, missing values empty, the model cell Markdown."""
    columns: dict[str, list[Any]] = {}
    datatypes: list[str] = []
    records = table.to_dict(orient="list")
    for name in table.columns:
        if name in _HIDDEN:
            continue
        values = records[name]
        if name == "model":
            cells: list[Any] = [
                model_cell(m, link) for m, link in zip(values, records["link"], strict=True)
            ]
            kind = "markdown"
        elif name == "type":
            cells = [REFERENCE_TYPE_LABELS.get(v, v) for v in values]
            kind = "str"
        elif name == "open_weights":
            cells = ["yes" if v is True else "no" if v is False else "" for v in values]
            kind = "str"
        elif name == "saw_split":
            cells = ["yes (not held out)" if v else "" for v in values]
            kind = "str"
        elif pd.api.types.is_numeric_dtype(table[name]) and table[name].dtype != bool:
            integer = name in _INTEGER_COLUMNS
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
