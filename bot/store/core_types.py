"""Column types for the Core tables (bot/store/tables_core.py), which must not import SQLModel.

SQLModel's own types live in a package whose import brings in pydantic and the ORM, a third of
`nosurprises status` (issue 15), so the one type whose behaviour matters to a reader, the aware
UTC timestamp, is restated here; tests/test_tables_core.py checks it against SQLModel's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import types
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.operators import OperatorType


class UTCDateTime(types.TypeDecorator[datetime]):
    """An aware timestamp, stored in UTC and read back aware in UTC (naive values are refused)."""

    impl = types.DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def coerce_compared_value(self, op: OperatorType | None, value: Any) -> types.TypeEngine[Any]:
        return types.Interval() if isinstance(value, timedelta) else self

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("a timestamp for the database must say its time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # Databases without time zones (SQLite) hold UTC without an offset.
        return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
