"""The one filter of the leaderboard: a table and the filter values in, a smaller table out.

Pure (no Gradio, no I/O), so it is tested without a browser and the Space's filter endpoint is
just this function plus formatting.

Reference rows (the human ceiling, the no-skill baselines) are anchors, not competitors: the
system filters (search, type, open weights, provenance, training) do not remove them, only the
`references` switch does, so a reader always sees where "human" and "nothing" sit.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

OPEN_WEIGHTS_CHOICES: tuple[str, ...] = ("any", "open", "closed")
TRAINING_CHOICES: tuple[str, ...] = ("any", "zero-shot", "trained")
# The display needs these to draw the model cell (a link to its Submission view) and the
# reference marker, whatever is chosen.
REQUIRED_COLUMNS: tuple[str, ...] = ("rank", "model", "reference", "submission")


def filter_table(
    table: pd.DataFrame,
    query: str = "",
    types: Sequence[str] | None = None,
    open_weights: str = "any",
    provenance: Sequence[str] | None = None,
    training: str = "any",
    references: bool = True,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows and columns of `table` that match the filters, in the table's order.

    Args:
        table: a table from `recenter_bench.leaderboard.table.stage_table` or `overview_table`.
        query: case-insensitive substring of the model name, org or submission id ("" = all).
        types: system types to keep (None = all).
        open_weights: "any", "open" or "closed" ("closed" keeps rows with unknown weights out).
        provenance: provenances to keep, "rescored" and/or "reported" (None = both).
        training: "any", "zero-shot" or "trained".
        references: keep the reference rows (type human or baseline).
        columns: columns to show (None = all); REQUIRED_COLUMNS are always kept, order is the
            table's.

    >>> t = pd.DataFrame({"model": ["A", "B", "Human"], "org": ["x", "y", ""],
    ...     "link": ["", "", ""], "reference": [False, False, True], "type": ["retrieval",
    ...     "fine-tuned", "human"], "open_weights": [True, False, None],
    ...     "provenance": ["rescored"] * 3, "training": ["zero-shot", "trained", "zero-shot"],
    ...     "f1": [0.5, 0.4, 0.7]})
    >>> filter_table(t, query="a")["model"].tolist()
    ['A', 'Human']
    >>> filter_table(t, training="trained", references=False)["model"].tolist()
    ['B']
    """
    if open_weights not in OPEN_WEIGHTS_CHOICES:
        raise ValueError(f"open_weights: {open_weights!r} is not one of {OPEN_WEIGHTS_CHOICES}")
    if training not in TRAINING_CHOICES:
        raise ValueError(f"training: {training!r} is not one of {TRAINING_CHOICES}")
    reference = table["reference"].astype(bool)
    keep = pd.Series(True, index=table.index)
    needle = (query or "").strip().casefold()
    if needle:
        haystack = table["model"].fillna("").astype(str).str.casefold()
        for name in ("org", "submission"):
            if name in table:
                haystack = haystack + "\n" + table[name].fillna("").astype(str).str.casefold()
        keep &= haystack.str.contains(needle, regex=False)
    if types is not None:
        keep &= table["type"].isin(list(types))
    if open_weights != "any":
        keep &= table["open_weights"].map(lambda v: v is (open_weights == "open"))
    if provenance is not None:
        keep &= table["provenance"].isin(list(provenance))
    if training != "any":
        keep &= table["training"] == training
    rows = (keep & ~reference) | (reference if references else False)
    result = table[rows.astype(bool)]
    if columns is not None:
        wanted = set(columns) | set(REQUIRED_COLUMNS)
        result = result[[c for c in table.columns if c in wanted]]
    return result.reset_index(drop=True)
