"""The escalation ladder as data: steps relative to the due date, run one at a time.

A briefing freezes its own copy of the ladder when it is created, so editing the config never
changes items in flight. Each step fires at most once per cycle; a late tick sends only the
latest step that is due, and records the ones it skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.config import EscalationSettings
from bot.decisions.calendar import CouncilCalendar


def frozen_ladder(settings: EscalationSettings) -> list[dict[str, Any]]:
    """The copy of the ladder a new briefing keeps."""
    return [step.as_dict() for step in settings.steps]


def step_time(step: dict[str, Any], due_date: date, calendar: CouncilCalendar) -> datetime:
    """When a step fires: the start of the working day `offset` working days from the due date."""
    day = calendar.add_working_days(due_date, int(step["offset_working_days"]))
    return calendar.start_of_day(day)


def next_step_at(
    ladder: list[dict[str, Any]], index: int, due_date: date, calendar: CouncilCalendar
) -> datetime | None:
    if index >= len(ladder):
        return None
    return step_time(ladder[index], due_date, calendar)


@dataclass(frozen=True)
class StepDecision:
    """Which step to send now, and which earlier ones are stale and skipped."""

    send_index: int | None
    skipped: tuple[int, ...]
    next_index: int
    next_at: datetime | None


def due_steps(
    ladder: list[dict[str, Any]],
    start_index: int,
    due_date: date,
    now: datetime,
    calendar: CouncilCalendar,
) -> StepDecision:
    """Pick the latest step whose time has come; earlier unfired ones are skipped."""
    index = start_index
    fired: list[int] = []
    while index < len(ladder) and step_time(ladder[index], due_date, calendar) <= now:
        fired.append(index)
        index += 1
    send = fired[-1] if fired else None
    return StepDecision(
        send_index=send,
        skipped=tuple(fired[:-1]),
        next_index=index,
        next_at=next_step_at(ladder, index, due_date, calendar),
    )
