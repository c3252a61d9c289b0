"""Every CSV the product writes goes through here, so none can carry a spreadsheet formula.

A cell beginning with `=`, `+`, `-`, `@`, tab or carriage return is run as a formula by Excel
and its kin (CSV injection); OWASP's guidance is to prefix such a cell with a single quote, which
the spreadsheet shows as text and a careful reader can strip.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with a leading quote if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows (dicts keyed by column) as CSV text with a header, every cell made safe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
        writer.writerow({name: safe_cell(row.get(name)) for name in columns})
    return out.getvalue()
