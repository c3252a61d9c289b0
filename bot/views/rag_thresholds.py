"""The instants at which a live briefing turns amber and red (issue 15).

`rag_for` colours an open, snoozed or disputed briefing from today's date and the moment: red
once it is overdue or its decision is close, amber once its due day is near. Each of those only
ever turns true as time passes (working days between today and a fixed day never grow), so it
turns true at one instant that can be worked out once, when the read model is built; the colour
at any later moment is then a comparison the database can make.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar

# Far enough either side of a date for any working-day threshold a council would configure.
SEARCH_DAYS = 800
JUST_AFTER = timedelta(microseconds=1)


class Thresholds(NamedTuple):
    amber_at: datetime
    red_at: datetime


@lru_cache(maxsize=4096)
def first_day_within(calendar: CouncilCalendar, day: date, working_days: int) -> date:
    """The first day from which at most `working_days` working days remain until `day`
    (remembered: a calendar is a frozen value, and rows share a few hundred days)."""
    low, high = day - timedelta(days=SEARCH_DAYS), day + timedelta(days=SEARCH_DAYS)
    # Working days between a later start and `day` are never more: search for the boundary.
    while low < high:
        middle = low + (high - low) // 2
        if calendar.working_days_between(middle, day) <= working_days:
            high = middle
        else:
            low = middle + timedelta(days=1)
    return low


def day_starts(calendar: CouncilCalendar, day: date) -> datetime:
    """Local midnight of `day`, as aware UTC: when `today` becomes that day."""
    return calendar.at(day, time(0))


def close_at(*, decision_due: date, calendar: CouncilCalendar, settings: Settings) -> datetime:
    """When an item's decision counts as close (red for an unbriefed item or a live briefing)."""
    close_day = first_day_within(calendar, decision_due, settings.rules.decision_close_working_days)
    return day_starts(calendar, close_day)


def thresholds(
    *, due_at: datetime, decision_due: date, calendar: CouncilCalendar, settings: Settings
) -> Thresholds:
    """When a live briefing due at `due_at` on this decision turns amber, and red."""
    rules = settings.rules
    return _thresholds(
        due_at,
        decision_due,
        calendar,
        rules.amber_within_working_days,
        rules.decision_close_working_days,
    )


@lru_cache(maxsize=8192)
def _thresholds(
    due_at: datetime,
    decision_due: date,
    calendar: CouncilCalendar,
    amber_days: int,
    close_days: int,
) -> Thresholds:
    # Remembered by value (a calendar is a frozen value): every row's expiry, on every answer
    # built afresh after a change, asks again for due times and dates it asked for before.
    amber_day = first_day_within(calendar, calendar.local_date(due_at), amber_days)
    # Overdue means strictly after the due time.
    close = day_starts(calendar, first_day_within(calendar, decision_due, close_days))
    return Thresholds(
        amber_at=day_starts(calendar, amber_day), red_at=min(due_at + JUST_AFTER, close)
    )
