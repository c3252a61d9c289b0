"""The stored instants colour a live briefing exactly as rag_for does, at every moment.

The status read model keeps, for each due time and decision date, the instants at which an
open, snoozed or disputed briefing turns amber and red, and colours it by comparing the moment
asked about with them. Checked here against rag_for itself every three hours across weekends,
bank holidays, Christmas closure days and the clock change, for due times before and after
their decision's close.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from livebot import example_settings

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.models import BriefingState
from bot.views.rag_thresholds import close_at, first_day_within, thresholds
from bot.views.status import Rag, no_briefing_rag, rag_for

LIVE = (BriefingState.OPEN, BriefingState.SNOOZED, BriefingState.DISPUTED)


def _colour(state: str, now: datetime, amber_at: datetime, red_at: datetime) -> Rag:
    """What the read model's SQL says for a live briefing (bot/views/status_model_page.py)."""
    if now >= red_at:
        return Rag.RED
    if now >= amber_at or state == BriefingState.DISPUTED:
        return Rag.AMBER
    return Rag.GREY


@pytest.mark.parametrize(
    ("decision_due", "rules"),
    [
        (date(2026, 12, 31), {}),  # over Christmas closure days and bank holidays
        (date(2027, 4, 1), {}),  # the Easter weekend, and the clocks going forward
        (date(2027, 10, 29), {"amber_within_working_days": 0}),  # the clocks going back
        (date(2027, 6, 14), {"decision_close_working_days": 8, "amber_within_working_days": 6}),
    ],
)
def test_stored_instants_give_rag_for_at_every_moment(
    decision_due: date, rules: dict[str, int]
) -> None:
    base = example_settings()
    settings: Settings = replace(base, rules=replace(base.rules, **rules))
    calendar = CouncilCalendar.from_settings(settings.council)
    compared = set()
    for days_before in (1, 4, 9, 15):
        due_at = calendar.at(decision_due - timedelta(days=days_before), time(17, 0))
        instants = thresholds(
            due_at=due_at, decision_due=decision_due, calendar=calendar, settings=settings
        )
        now = due_at - timedelta(days=25)
        while now < due_at + timedelta(days=5):
            for state in LIVE:
                expected = rag_for(
                    state=state,
                    due_at=due_at,
                    decision_due=decision_due,
                    now=now,
                    calendar=calendar,
                    settings=settings,
                )
                assert _colour(state, now, *instants) == expected, (state, now, due_at)
                compared.add(expected)
            now += timedelta(hours=3)
        # Overdue means strictly after the due time: grey or amber at it, red just after.
        far_decision = decision_due + timedelta(days=60)
        later = thresholds(
            due_at=due_at, decision_due=far_decision, calendar=calendar, settings=settings
        )
        for moment in (due_at, due_at + timedelta(microseconds=1)):
            assert _colour(BriefingState.OPEN, moment, *later) == rag_for(
                state=BriefingState.OPEN,
                due_at=due_at,
                decision_due=far_decision,
                now=moment,
                calendar=calendar,
                settings=settings,
            )
        assert _colour(BriefingState.OPEN, due_at + timedelta(microseconds=1), *later) == Rag.RED
        assert _colour(BriefingState.OPEN, due_at, *later) != Rag.RED
    assert compared == {Rag.GREY, Rag.AMBER, Rag.RED}


def test_an_unbriefed_item_turns_red_when_its_decision_is_close() -> None:
    settings = example_settings()
    calendar = CouncilCalendar.from_settings(settings.council)
    decision_due = date(2027, 1, 5)  # just after the Christmas closure
    red_at = close_at(decision_due=decision_due, calendar=calendar, settings=settings)
    day = date(2026, 12, 1)
    while day <= decision_due:
        now = calendar.at(day, time(12, 0))
        expected = no_briefing_rag(calendar.working_days_between(day, decision_due), settings)
        assert (Rag.RED if now >= red_at else Rag.AMBER) == expected, day
        day += timedelta(days=1)


def test_the_first_day_within_a_number_of_working_days() -> None:
    calendar = CouncilCalendar.from_settings(example_settings().council)
    friday = date(2027, 3, 12)
    # From Mon 8 Mar, four working days remain until Friday (Tue to Fri); from the weekend
    # before, five, as from Fri 5 Mar.
    assert first_day_within(calendar, friday, 4) == date(2027, 3, 8)
    assert first_day_within(calendar, friday, 5) == date(2027, 3, 5)
    assert first_day_within(calendar, friday, 0) == friday


def test_thresholds_are_remembered_by_value_and_by_the_rules_that_set_them() -> None:
    """Asked again for the same due time and date they are not worked out again; other rules
    (or another calendar) are never answered from what was remembered for these."""
    from bot.views import rag_thresholds

    settings = example_settings()
    calendar = CouncilCalendar.from_settings(settings.council)
    due_at = datetime(2027, 3, 3, 17, 0, tzinfo=calendar.zone)
    asked = {"due_at": due_at, "decision_due": date(2027, 3, 10), "calendar": calendar}
    first = thresholds(**asked, settings=settings)
    before = rag_thresholds._thresholds.cache_info()
    assert thresholds(**asked, settings=settings) == first
    after = rag_thresholds._thresholds.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    stricter = replace(
        settings,
        rules=replace(settings.rules, amber_within_working_days=10, decision_close_working_days=9),
    )
    other = thresholds(**asked, settings=stricter)
    assert other.amber_at < first.amber_at and other.red_at <= first.red_at
