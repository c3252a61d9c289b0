"""`column IN (values)` as a batch of deliveries reads it: on PostgreSQL one array parameter.

An expanding IN is rendered again for every execution (a placeholder and a cast per value),
and each count of values is a new statement to the driver, never prepared. `= ANY(array)` has
one text whatever the count, compiled once and prepared by the driver (issue 15: the draw's
look-ups were a third of a claimed batch's cost). SQLite keeps the plain IN.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(column: Any, values: Collection[Any], *, dialect: str) -> ColumnElement[bool]:
    """`column IN values`, bound as one array on PostgreSQL."""
    ordered = sorted(values)
    if dialect != "postgresql":
        return column.in_(ordered)
    return column == any_(bindparam(None, ordered, type_=ARRAY(column.type)))
