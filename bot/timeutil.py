"""Time helpers: the database holds aware UTC; people see the council's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def parse_datetime(text: str, timezone: str) -> datetime:
    """Parse ISO text; a time without an offset is read in the council's time zone. Returns UTC."""
    text = text.strip()
    if not text:
        raise ValueError("empty date-time")
    try:
        if len(text) == 10:
            value = datetime.combine(date.fromisoformat(text), time(9, 0))
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"expected an ISO date-time such as 2027-01-12T09:30, got {text!r}"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive value read back from a database as UTC; convert aware values."""
    if value.tzinfo is UTC:
        return value  # already what is wanted: no copy
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def short_date(day: date) -> str:
    """'Thu 28 Jan' — the form used in messages."""
    return f"{day:%a} {day.day} {day:%b}"


def long_date(day: date) -> str:
    """'Thu 28 Jan 2027'."""
    return f"{day:%a} {day.day} {day:%b %Y}"
