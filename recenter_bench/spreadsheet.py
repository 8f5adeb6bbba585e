"""CSV text safe to open in a spreadsheet: the one writer of every CSV the project makes.

Cells can hold text a submitter or a model wrote (model names, raw answers). Every field is
quoted; CR and LF inside a field are written as the two characters `\\r` / `\\n` (a bare CR is
a row break to some spreadsheet programs even inside quotes); and a text cell starting with
`= + - @`, a tab or a CR is prefixed with a single quote, so it is shown as text and never run
as a formula (OWASP, CSV injection). Numbers stay numbers; NaN and None are empty cells.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """One cell as written: text defused and on one line, NaN/None empty, numbers unchanged.

    >>> safe_cell("=1+1"), safe_cell("Yes.\\r=cmd"), safe_cell(-0.5), safe_cell(float("nan"))
    ("'=1+1", 'Yes.\\\\r=cmd', -0.5, '')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text.replace("\r", "\\r").replace("\n", "\\n")


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """The header and rows as CSV text, every field quoted and made safe by `safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()
