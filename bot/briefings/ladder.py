"""The escalation ladder as data: steps relative to the due date, run one at a time.

A briefing freezes its own copy of the ladder when it is created, so editing the config never
changes items in flight. Each step fires at most once per cycle; a late tick sends only the
latest step that is due, and records the ones it skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from bot.config import EscalationSettings
from bot.decisions.calendar import CouncilCalendar


def frozen_ladder(settings: EscalationSettings) -> list[dict[str, Any]]:
    """The copy of the ladder a new briefing keeps."""
    return [step.as_dict() for step in settings.steps]


def step_time(step: dict[str, Any], due_date: date, calendar: CouncilCalendar) -> datetime:
    """When a step fires: the start of the working day `offset` working days from the due date."""
    return _start_of_working_day(calendar, due_date, int(step["offset_working_days"]))


# A sweep asks this for every ladder step of thousands of briefings sharing a few hundred dates.
@lru_cache(maxsize=8192)
def _start_of_working_day(calendar: CouncilCalendar, due_date: date, offset: int) -> datetime:
    return calendar.start_of_day(calendar.add_working_days(due_date, offset))


def next_step_at(
    ladder: list[dict[str, Any]], index: int, due_date: date, calendar: CouncilCalendar
) -> datetime | None:
    if index >= len(ladder):
        return None
    return step_time(ladder[index], due_date, calendar)


def is_escalation(step: dict[str, Any]) -> bool:
    """A step that goes over the briefer's head (to a director or the chief executive)."""
    return step["recipient"] != "briefer"


@dataclass(frozen=True)
class StepDecision:
    """Which steps to send now, whether the briefer needs a catch-up prompt, which earlier
    steps are stale and skipped, and when to look again."""

    send: tuple[int, ...]
    prompt_briefer: bool
    skipped: tuple[int, ...]
    next_index: int
    next_at: datetime | None

    @property
    def acted(self) -> bool:
        return bool(self.send) or self.prompt_briefer


def due_steps(
    ladder: list[dict[str, Any]],
    start_index: int,
    due_date: date,
    now: datetime,
    calendar: CouncilCalendar,
    *,
    reset_at: datetime | None = None,
    last_step_at: datetime | None = None,
    held: frozenset[str] = frozenset(),
) -> StepDecision:
    """The steps whose time has come, climbed fairly.

    After a change set the ladder going with several steps already due (created late, date
    brought forward, re-opened), the briefer is prompted first and each escalation rung waits
    for a later working day than the last. A late tick after an outage may jump to the latest
    step, but then prompts the briefer too. Steps for `held` recipients wait (re-checked each
    working day).
    """
    index = start_index
    fired: list[int] = []
    holding = False
    while index < len(ladder) and step_time(ladder[index], due_date, calendar) <= now:
        if ladder[index]["recipient"] in held:
            holding = True
            break
        fired.append(index)
        index += 1
    today = _delivery_day(now, calendar)
    tomorrow = _start_of_working_day(calendar, today, 1)
    if not fired:
        return StepDecision(
            (),
            False,
            (),
            index,
            tomorrow if holding else next_step_at(ladder, index, due_date, calendar),
        )
    send: list[int] = []
    skipped: list[int] = []
    prompt = False
    first_time = step_time(ladder[fired[0]], due_date, calendar)
    briefer_run = _leading_briefer_steps(ladder, fired)
    if reset_at is not None and reset_at >= first_time:
        # Catching up after a change: one rung at a time, the briefer first.
        prompted = last_step_at is not None and last_step_at >= reset_at
        if briefer_run:
            send, skipped = [briefer_run[-1]], briefer_run[:-1]
        elif not prompted:
            prompt = True
        elif last_step_at is not None and _delivery_day(last_step_at, calendar) < today:
            send = [fired[0]]
    else:
        last = fired[-1]
        send = [last]
        if len(fired) > 1 and is_escalation(ladder[last]):
            # A late tick jumping over the briefer's head: they are prompted with buttons too.
            briefer_steps = [i for i in fired if not is_escalation(ladder[i])]
            if briefer_steps:
                send = [briefer_steps[-1], last]
            else:
                prompt = True
        skipped = [i for i in fired if i not in send]
    next_index = send[-1] + 1 if send else fired[0]
    next_at = next_step_at(ladder, next_index, due_date, calendar)
    waiting = next_index < len(ladder) and (
        is_escalation(ladder[next_index]) or ladder[next_index]["recipient"] in held
    )
    if next_at is not None and waiting:
        next_at = max(next_at, tomorrow)
    return StepDecision(tuple(send), prompt, tuple(skipped), next_index, next_at)


def _leading_briefer_steps(ladder: list[dict[str, Any]], fired: list[int]) -> list[int]:
    run: list[int] = []
    for i in fired:
        if is_escalation(ladder[i]):
            break
        run.append(i)
    return run


# A tick asks this for each of thousands of due briefings at one moment.
@lru_cache(maxsize=256)
def _delivery_day(moment: datetime, calendar: CouncilCalendar) -> date:
    """The working day a message queued at `moment` goes out."""
    return calendar.local_date(calendar.next_working_moment(moment))
