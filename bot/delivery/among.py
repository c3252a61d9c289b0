"""`column IN (values)` as a batch of deliveries reads it: on PostgreSQL one array parameter.

An expanding IN is rendered again for every execution (a placeholder and a cast per value),
and each count of values is a new statement to the driver, never prepared. `= ANY(array)` has
one text whatever the count, compiled once and prepared by the driver (issue 15: the draw's
look-ups were a third of a claimed batch's cost). SQLite keeps the plain IN. The clause is
built with a named parameter, so a statement using it can be built once and reused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(column: Any, name: str, *, dialect: str) -> ColumnElement[bool]:
    """`column IN :name`, bound as one array on PostgreSQL; execute it with a list as `name`."""
    if dialect != "postgresql":
        return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]
    return column == any_(bindparam(name, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
