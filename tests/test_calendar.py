"""Working days, clear days, bank holidays by nation and working hours (bot/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.decisions.calendar import CouncilCalendar, Nation, bank_holidays, easter_sunday

EW, SCO, NI = Nation.ENGLAND_AND_WALES, Nation.SCOTLAND, Nation.NORTHERN_IRELAND


def days(nation: Nation, year: int) -> set[date]:
    return set(bank_holidays(nation, year))


@pytest.mark.parametrize(
    ("nation", "year", "expected"),
    [
        # Christmas on a Sunday: Boxing Day Monday, Christmas substitute Tuesday.
        (EW, 2022, {date(2022, 12, 26), date(2022, 12, 27)}),
        # Christmas on a Saturday: both substitutes the following Monday and Tuesday.
        (EW, 2021, {date(2021, 12, 27), date(2021, 12, 28)}),
        # Christmas on a Friday: Boxing Day (Saturday) moves to Monday 28th.
        (EW, 2026, {date(2026, 12, 25), date(2026, 12, 28)}),
        (EW, 2027, {date(2027, 12, 27), date(2027, 12, 28)}),
        (SCO, 2027, {date(2027, 12, 27), date(2027, 12, 28)}),
    ],
)
def test_christmas_and_boxing_day_substitutes(nation, year, expected):
    december = {d for d in days(nation, year) if d.month == 12 and d.day >= 24}
    assert december == expected


def test_new_year_substitutes_and_scotlands_second_of_january():
    assert date(2022, 1, 3) in days(EW, 2022)  # 1 Jan 2022 was a Saturday
    assert date(2022, 1, 4) not in days(EW, 2022)
    # Scotland: 1 Jan (Sat) → Mon 3rd, 2 Jan (Sun) → Tue 4th.
    assert {date(2022, 1, 3), date(2022, 1, 4)} <= days(SCO, 2022)
    # 2027: 1 Jan is a Friday, 2 Jan a Saturday, substituted on Monday 4th in Scotland only.
    assert date(2027, 1, 4) in days(SCO, 2027)
    assert date(2027, 1, 4) not in days(EW, 2027)
    assert bank_holidays(SCO, 2027)[date(2027, 1, 4)] == "2nd January (substitute day)"


def test_easter():
    assert easter_sunday(2027) == date(2027, 3, 28)
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert {date(2027, 3, 26), date(2027, 3, 29)} <= days(EW, 2027)
    assert date(2027, 3, 26) in days(SCO, 2027)
    assert date(2027, 3, 29) not in days(SCO, 2027)  # no Easter Monday in Scotland
    assert date(2027, 3, 29) in days(NI, 2027)


def test_st_andrews_day_and_its_substitute():
    assert date(2027, 11, 30) in days(SCO, 2027)
    assert date(2027, 11, 30) not in days(EW, 2027)
    assert date(2025, 12, 1) in days(SCO, 2025)  # 30 Nov 2025 was a Sunday
    assert date(2025, 11, 30) not in days(SCO, 2025)


def test_summer_bank_holiday_differs_between_scotland_and_england():
    assert date(2027, 8, 2) in days(SCO, 2027) and date(2027, 8, 2) not in days(EW, 2027)
    assert date(2027, 8, 30) in days(EW, 2027) and date(2027, 8, 30) not in days(SCO, 2027)


def test_northern_ireland_days():
    assert date(2027, 3, 17) in days(NI, 2027)
    assert date(2026, 7, 13) in days(NI, 2026)  # the Boyne (12 Jul, a Sunday) substituted
    assert date(2027, 3, 17) not in days(EW, 2027)


def test_one_off_days_and_moved_holidays():
    assert {date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)} <= days(EW, 2022)
    assert date(2022, 5, 30) not in days(EW, 2022)  # the spring holiday moved to 2 June
    assert date(2023, 5, 8) in days(SCO, 2023)
    assert date(2020, 5, 8) in days(NI, 2020) and date(2020, 5, 4) not in days(NI, 2020)


def test_every_nation_has_the_right_number_of_days():
    assert len(days(EW, 2027)) == 8
    assert len(days(SCO, 2027)) == 9
    assert len(days(NI, 2027)) == 10


def test_working_days_skip_weekends_bank_holidays_and_closure_days():
    calendar = CouncilCalendar(
        closure_days=frozenset({date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)})
    )
    # Thu 14 Jan 2027 minus 10 working days crosses New Year and the Christmas shutdown.
    assert calendar.add_working_days(date(2027, 1, 14), -10) == date(2026, 12, 23)
    plain = CouncilCalendar()
    assert plain.add_working_days(date(2027, 1, 14), -10) == date(2026, 12, 30)
    assert plain.add_working_days(date(2027, 2, 11), -10) == date(2027, 1, 28)
    assert plain.add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)  # over Easter
    assert plain.add_working_days(date(2027, 3, 27), 0) == date(2027, 3, 25)  # Sat → Thu
    assert plain.working_days_between(date(2027, 3, 25), date(2027, 3, 30)) == 1
    assert plain.working_days_between(date(2027, 3, 30), date(2027, 3, 25)) == -1
    assert calendar.holiday_name(date(2026, 12, 30)) == "Council closure day"


def test_clear_days_exclude_both_ends_and_optionally_non_working_days():
    calendar = CouncilCalendar()
    # HBC-2027-004: first published 20 Dec 2026 for 14 Jan 2027.
    assert calendar.clear_days_between(date(2026, 12, 20), date(2027, 1, 14)) == 24
    assert calendar.clear_days_between(date(2027, 1, 13), date(2027, 1, 14)) == 0
    strict = CouncilCalendar(clear_days_skip_non_working=True)
    # The reference's worked example: 5 clear working days between Wed 8 and Thu 16 Jul 2026.
    assert strict.clear_days_between(date(2026, 7, 8), date(2026, 7, 16)) == 5
    assert strict.clear_days_between(date(2026, 12, 20), date(2027, 1, 14)) == 15


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2027, 3, 26), 9),  # before the clocks go forward (GMT)
        (date(2027, 3, 29), 8),  # the Monday after (BST): 09:00 London is 08:00 UTC
        (date(2027, 10, 29), 8),  # last Friday of BST
        (date(2027, 11, 1), 9),  # the Monday after the clocks go back
    ],
)
def test_working_hours_are_london_time_across_both_dst_changes(day, utc_hour):
    start = CouncilCalendar().start_of_day(day)
    assert start.tzinfo is not None and start.utcoffset().total_seconds() == 0
    assert start.hour == utc_hour


def test_next_working_moment_waits_for_the_next_working_morning():
    calendar = CouncilCalendar()
    friday_evening = datetime(2027, 3, 26, 18, 0, tzinfo=UTC)  # Good Friday, in fact
    # Good Friday, the weekend and Easter Monday pass; Tuesday 09:00 BST = 08:00 UTC.
    assert calendar.next_working_moment(friday_evening) == datetime(2027, 3, 30, 8, 0, tzinfo=UTC)
    early = datetime(2027, 1, 12, 7, 0, tzinfo=UTC)
    assert calendar.next_working_moment(early) == datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    inside = datetime(2027, 1, 12, 11, 15, tzinfo=UTC)
    assert calendar.next_working_moment(inside) == inside
    assert calendar.is_working_time(inside)
    assert not calendar.is_working_time(datetime(2027, 1, 12, 17, 0, tzinfo=UTC))
    assert not calendar.is_working_time(datetime(2027, 1, 16, 11, 0, tzinfo=UTC))  # Saturday


def test_scottish_council_works_on_easter_monday():
    scottish = CouncilCalendar(nation=Nation.SCOTLAND)
    assert scottish.is_working_day(date(2027, 3, 29))
    assert not CouncilCalendar().is_working_day(date(2027, 3, 29))
    assert scottish.at(date(2027, 3, 29), time(9, 0)) == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)


def test_the_calendar_hashes_as_its_fields_and_is_worked_out_anew_by_replace():
    from dataclasses import replace

    first = CouncilCalendar(closure_days=frozenset({date(2027, 12, 29)}))
    same = CouncilCalendar(closure_days=frozenset({date(2027, 12, 29)}))
    other = replace(first, closure_days=frozenset())
    assert first == same and hash(first) == hash(same)
    assert other != first and hash(other) == hash(CouncilCalendar()) != hash(first)
    # As a cache key: the two equal calendars are one entry, the other a second.
    assert len({first: 1, same: 2, other: 3}) == 2
