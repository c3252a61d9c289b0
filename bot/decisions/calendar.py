"""Working days, clear days, bank holidays by nation, and working hours.

Pure: every function takes the dates it needs. Bank holidays follow the rules the UK
government publishes (substitute days when a holiday falls at a weekend), plus the one-off
changes of recent years; councils add their own closure days in the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.config import CouncilSettings


class Nation(StrEnum):
    ENGLAND_AND_WALES = "england-and-wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"


ALL_NATIONS = frozenset(Nation)


def bank_holiday_division(nation: str) -> Nation:
    """England and Wales share one list of bank holidays (gov.uk's divisions)."""
    if nation in ("england", "wales"):
        return Nation.ENGLAND_AND_WALES
    return Nation(nation)


# Proclaimed one-off holidays and moved holidays, by year: (date, name, nations, replaces).
_ONE_OFF: tuple[tuple[date, str, frozenset[Nation], str | None], ...] = (
    (date(2011, 4, 29), "Royal wedding", ALL_NATIONS, None),
    (date(2012, 6, 4), "Spring bank holiday", ALL_NATIONS, "Spring bank holiday"),
    (date(2012, 6, 5), "Queen's Diamond Jubilee", ALL_NATIONS, None),
    (date(2020, 5, 8), "Early May bank holiday (VE day)", ALL_NATIONS, "Early May bank holiday"),
    (date(2022, 6, 2), "Spring bank holiday", ALL_NATIONS, "Spring bank holiday"),
    (date(2022, 6, 3), "Platinum Jubilee bank holiday", ALL_NATIONS, None),
    (
        date(2022, 9, 19),
        "Bank Holiday for the State Funeral of Queen Elizabeth II",
        ALL_NATIONS,
        None,
    ),
    (date(2023, 5, 8), "Bank holiday for the coronation of King Charles III", ALL_NATIONS, None),
)


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


# Beyond this span, working days are counted by arithmetic rather than day by day.
LONG_SPAN_DAYS = 400


@lru_cache(maxsize=512)
def bank_holidays(nation: Nation | str, year: int) -> dict[date, str]:
    """Every bank holiday in `year` for `nation`, with substitute days, as {date: name}."""
    nation = Nation(nation)
    easter = easter_sunday(year)
    # Fixed-date holidays that move to the next free weekday when they fall at a weekend,
    # in the order the substitutes are assigned (Christmas before Boxing Day).
    fixed: list[tuple[date, str]] = [(date(year, 1, 1), "New Year's Day")]
    if nation is Nation.SCOTLAND:
        fixed.append((date(year, 1, 2), "2nd January"))
    if nation is Nation.NORTHERN_IRELAND:
        fixed.append((date(year, 3, 17), "St Patrick's Day"))
        fixed.append((date(year, 7, 12), "Battle of the Boyne (Orangemen's Day)"))
    if nation is Nation.SCOTLAND:
        fixed.append((date(year, 11, 30), "St Andrew's Day"))
    fixed += [(date(year, 12, 25), "Christmas Day"), (date(year, 12, 26), "Boxing Day")]

    days: dict[date, str] = {easter - timedelta(days=2): "Good Friday"}
    if nation is not Nation.SCOTLAND:
        days[easter + timedelta(days=1)] = "Easter Monday"
    days[_first_monday(year, 5)] = "Early May bank holiday"
    days[_last_monday(year, 5)] = "Spring bank holiday"
    if nation is Nation.SCOTLAND:
        days[_first_monday(year, 8)] = "Summer bank holiday"
    else:
        days[_last_monday(year, 8)] = "Summer bank holiday"

    for day, name, nations, replaces in _ONE_OFF:
        if day.year != year or nation not in nations:
            continue
        if replaces:
            days = {d: n for d, n in days.items() if n != replaces}
        days[day] = name

    # Weekday holidays keep their dates; only then are substitutes found for the rest, so
    # Boxing Day on a Monday stays put and Christmas on the Sunday moves to the Tuesday.
    days.update((day, name) for day, name in fixed if day.weekday() < 5)
    for day, name in fixed:
        if day.weekday() < 5:
            continue
        substitute = day + timedelta(days=7 - day.weekday())  # the Monday after
        while substitute in days or substitute.weekday() >= 5:
            substitute += timedelta(days=1)
        days[substitute] = f"{name} (substitute day)"
    return dict(sorted(days.items()))


@lru_cache(maxsize=256)
def _running_totals(nation: Nation, closure_days: frozenset[date], year: int) -> tuple[int, ...]:
    """For each day of `year`, the working days from 1 January up to and including it."""
    holidays = bank_holidays(nation, year)
    totals: list[int] = []
    count = 0
    day = date(year, 1, 1)
    while day.year == year:
        count += day.weekday() < 5 and day not in holidays and day not in closure_days
        totals.append(count)
        day += timedelta(days=1)
    return tuple(totals)


@dataclass(frozen=True)
class CouncilCalendar:
    """The council's calendar: time zone, nation, closure days and working hours."""

    timezone: str = "Europe/London"
    nation: Nation = Nation.ENGLAND_AND_WALES
    closure_days: frozenset[date] = frozenset()
    working_hours_start: time = time(9, 0)
    working_hours_end: time = time(17, 0)
    clear_days_skip_non_working: bool = False
    # Worked out once: a sweep hashes the calendar as a cache key hundreds of thousands of times.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_hash",
            hash(
                (
                    self.timezone,
                    self.nation,
                    self.closure_days,
                    self.working_hours_start,
                    self.working_hours_end,
                    self.clear_days_skip_non_working,
                )
            ),
        )

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def from_settings(cls, council: CouncilSettings) -> CouncilCalendar:
        return cls(
            timezone=council.timezone,
            nation=bank_holiday_division(council.nation),
            closure_days=frozenset(council.closure_days),
            working_hours_start=council.working_hours_start,
            working_hours_end=council.working_hours_end,
            clear_days_skip_non_working=council.clear_days_skip_non_working,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # --- days -------------------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """The bank holiday or closure on `day`, if any."""
        if day in self.closure_days:
            return "Council closure day"
        return bank_holidays(self.nation, day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_working_days(self, day: date, count: int) -> date:
        """The working day `count` working days after (or, if negative, before) `day`.

        With count 0, `day` itself if it is a working day, else the working day before it.
        """
        step = 1 if count > 0 else -1
        remaining = abs(count)
        current = day
        if remaining == 0:
            while not self.is_working_day(current) and current > date.min:
                current -= timedelta(days=1)
            return current
        # At the ends of the calendar (a year-1 or year-9999 date typed by mistake) the answer
        # stops at the first or last representable day instead of raising.
        end = date.max if step > 0 else date.min
        while remaining and current != end:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative if end is earlier)."""
        if end == start:
            return 0
        sign = 1 if end > start else -1
        low, high = (start, end) if sign > 0 else (end, start)
        return sign * self._working_days_after(low, high)

    def _working_days_after(self, low: date, high: date) -> int:
        """Working days in (low, high]: counted day by day over a year or so, and by arithmetic
        over longer spans (a date mistyped as year 9999 must not cost millions of steps)."""
        if (high - low).days > LONG_SPAN_DAYS:
            return self._working_days_by_arithmetic(low, high)
        # Cards and status rows ask this thousands of times a second: read it off per-year
        # running totals (worked out once per year) instead of stepping day by day.
        if low.year < 2 or high.year > 9998:
            return self._working_days_by_arithmetic(low, high)
        count = -self._working_days_through(low)
        for year in range(low.year, high.year):
            count += self._year_running_totals(year)[-1]
        return count + self._working_days_through(high)

    def _working_days_through(self, day: date) -> int:
        """Working days from 1 January of `day`'s year up to and including `day`."""
        return self._year_running_totals(day.year)[day.timetuple().tm_yday - 1]

    def _year_running_totals(self, year: int) -> tuple[int, ...]:
        return _running_totals(self.nation, self.closure_days, year)

    def _working_days_by_arithmetic(self, low: date, high: date) -> int:
        days = (high - low).days
        weeks, rest = divmod(days, 7)
        weekdays = 5 * weeks + sum(
            (low + timedelta(days=offset)).weekday() < 5 for offset in range(1, rest + 1)
        )
        closed = {d for d in self.closure_days if low < d <= high and d.weekday() < 5}
        for year in range(low.year, high.year + 1):
            closed.update(
                d for d in bank_holidays(self.nation, year) if low < d <= high and d.weekday() < 5
            )
        return weekdays - len(closed)

    def clear_days_between(self, first: date, last: date) -> int:
        """Clear days between two dates: excluding both, and (by setting) non-working days."""
        if last <= first + timedelta(days=1):
            return 0
        if not self.clear_days_skip_non_working:
            return (last - first).days - 1
        return self._working_days_after(first, last - timedelta(days=1))

    # --- moments ----------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def local_date(self, moment: datetime) -> date:
        return self.local(moment).date()

    def at(self, day: date, when: time) -> datetime:
        """`when` on `day` in the council's time zone, as aware UTC (DST-correct)."""
        return datetime.combine(day, when, tzinfo=self.zone).astimezone(UTC)

    def start_of_day(self, day: date) -> datetime:
        return self.at(day, self.working_hours_start)

    def close_of_business(self, day: date) -> datetime:
        return self.at(day, self.working_hours_end)

    def is_working_time(self, moment: datetime) -> bool:
        local = self.local(moment)
        return self.is_working_day(local.date()) and (
            self.working_hours_start <= local.time() < self.working_hours_end
        )

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` if it is in working hours, else the start of the next working period."""
        if self.is_working_time(moment):
            return moment.astimezone(UTC)
        local = self.local(moment)
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self.working_hours_start):
            day = self.add_working_days(day, 1)
        return self.start_of_day(day)
