"""One page of the wide status read from the status read model (issue 15).

The counts are sums over `statuscount` and `statusunbriefed`, coloured in SQL by comparing the
moment asked about with each row's stored instants; the page is found by walking the at-risk
groups in the full status's order (red, then amber; briefings by due time and decision date,
then the items no briefing covers by decision date and reference) only as far as it goes, and
only its rows are built, by `build_status`, so they read exactly as the full status's rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import cache, partial
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, tuple_, union_all
from sqlmodel import Session

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.directory import Directory
from bot.store.models import BriefingState, StatusCount, StatusUnbriefed, table_of
from bot.views.coloured_counts import CountsFrom
from bot.views.question import Question
from bot.views.shared_rows import shared_part
from bot.views.status import LOOKBACK_DAYS, Rag, StatusReport
from bot.views.status_paging import StatusPage, group_keys, rows_for

COLOURS = (Rag.RED, Rag.AMBER, Rag.GREY, Rag.GREEN)  # by RAG_ORDER
RED, AMBER, GREY, GREEN = range(4)
BRIEFINGS, UNBRIEFED, UNDECIDED = range(3)
S = BriefingState


def briefing_colour(now: Any) -> Any:
    """A `statuscount` row's RAG order at `now` (rag_for, with the instants stored)."""
    counts = table_of(StatusCount)
    return case(
        (counts.c.state.in_([S.ACKNOWLEDGED, S.NOT_NEEDED]), literal(GREEN)),
        (counts.c.state.in_([S.BRIEFED, S.NOT_NEEDED_PENDING]), literal(AMBER)),
        (counts.c.red_at <= now, literal(RED)),
        (or_(counts.c.amber_at <= now, counts.c.state == S.DISPUTED), literal(AMBER)),
        else_=literal(GREY),
    )


def unbriefed_colour(now: Any) -> Any:
    """An unbriefed item's RAG order at `now` (no_briefing_rag: red once its decision is close)."""
    unbriefed = table_of(StatusUnbriefed)
    return case((unbriefed.c.red_at <= now, literal(RED)), else_=literal(AMBER))


class _Statements(NamedTuple):
    tallies: Any
    unbriefed_refs: Any


def _counts_from() -> Any:
    counts = table_of(StatusCount)
    return (
        select(
            counts.c.decision_due,
            counts.c.due_at,
            counts.c.state,
            counts.c.portfolio,
            counts.c.portfolio_holder,
            counts.c.count,
            counts.c.amber_at,
            counts.c.red_at,
        )
        .where(counts.c.decision_due >= bindparam("first"))
        .order_by(counts.c.due_at, counts.c.decision_due)
    )


# Every question's window starts LOOKBACK_DAYS ago: the counts from then on, in the page's
# order, are read once per version of the data and shared (`shared_part`); each question
# then colours and sums them at its own moment in Python, with no statement of its own.
COUNTS_FROM = _counts_from()
SHADES = {S.ACKNOWLEDGED: GREEN, S.NOT_NEEDED: GREEN, S.BRIEFED: AMBER, S.NOT_NEEDED_PENDING: AMBER}


def colour_at(state: str, amber_at: datetime | None, red_at: datetime | None, now: datetime) -> int:
    """`briefing_colour` in Python, for one row of `statuscount`."""
    shade = SHADES.get(state)  # type: ignore[call-overload]
    if shade is not None:
        return shade
    if red_at is not None and red_at <= now:
        return RED
    if (amber_at is not None and amber_at <= now) or state == S.DISPUTED:
        return AMBER
    return GREY


@cache
def _statements(by_portfolio: bool) -> _Statements:
    """The statements every question runs, built once with the moment, the window and the
    colour as parameters: building a statement costs more than running it (issue 15)."""
    unbriefed = table_of(StatusUnbriefed)
    now: Any = bindparam("now")
    first: Any = bindparam("first")
    last: Any = bindparam("last")
    plain = unbriefed_colour(now)
    # Unbriefed items are listed when flagged, or once their date has passed.
    shown = or_(
        and_(unbriefed.c.flagged, unbriefed.c.decision_due.between(first, last)),
        and_(~unbriefed.c.flagged, unbriefed.c.decision_due.between(first, bindparam("past"))),
    )
    # Exempt items with no flag yet, ahead: masking alone decides whether they are listed.
    undecided = and_(
        unbriefed.c.exempt,
        ~unbriefed.c.flagged,
        unbriefed.c.decision_due.between(bindparam("ahead"), last),
    )
    plain_grouped: tuple[Any, ...] = ()
    unbriefed_filter: tuple[Any, ...] = ()
    if by_portfolio:
        plain_grouped = (unbriefed.c.portfolio, unbriefed.c.portfolio_holder)
        pairs: Any = bindparam("pairs", expanding=True)
        unbriefed_filter = (tuple_(*plain_grouped).in_(pairs),)
    # One statement: (what, rag, [portfolio, holder,] how many), what being the unbriefed
    # items listed, or the undecided ones.
    tallies = union_all(
        select(literal(UNBRIEFED), plain, *plain_grouped, func.count())
        .where(shown)
        .group_by(plain, *plain_grouped),
        select(literal(UNDECIDED), literal(RED), *plain_grouped, func.count())
        .where(undecided)
        .group_by(*plain_grouped),
    )
    rag: Any = bindparam("rag")
    # A colour's items no briefing covers, by decision date and reference.
    unbriefed_refs = (
        select(unbriefed.c.ref)
        .where(shown, plain == rag, *unbriefed_filter)
        .order_by(unbriefed.c.decision_due, unbriefed.c.ref)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return _Statements(tallies, unbriefed_refs)


def page_from_model(
    *,
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    viewer_email: str,
    days: int,
    portfolio: str = "",
    page: int = 1,
    per_page: int = 15,
) -> StatusPage | None:
    """The page, or None when the model cannot say (an exempt item not flagged yet, whose
    masking decides whether it is listed at all): then the caller reads the tables."""
    wanted = directory.portfolio(portfolio) if portfolio else None
    if portfolio and wanted is None:
        raise ValueError(f"no portfolio called {portfolio!r}")
    today = calendar.local_date(now)
    first, last = today - timedelta(days=LOOKBACK_DAYS), today + timedelta(days=days)
    connection = session.connection()

    @cache
    def in_portfolio(name: str, holder: str) -> bool:
        found = directory.portfolio(name) or directory.portfolio_of_holder(holder)
        return found == wanted

    statements = _statements(wanted is not None)
    params: dict[str, Any] = {
        "now": now,
        "first": first,
        "last": last,
        "past": min(last, today - timedelta(days=1)),
        "ahead": max(first, today),
    }
    report = StatusReport(viewer=viewer_email, now=now, days=days, portfolio=portfolio)
    pairs: set[tuple[str, str]] = set()
    # Parts no window changes, shared while the data's version holds (`shared_part`).
    forever = datetime.max.replace(tzinfo=now.tzinfo)
    shared = partial(
        shared_part,
        session=session,
        settings=settings,
        calendar=calendar,
        directory=directory,
        now=now,
        viewer_email=viewer_email,
    )
    # The window's briefings, coloured at `now`; the at-risk ones by colour, in page order.
    counts_from: CountsFrom = shared(
        ("status counts from", first),
        build=lambda: (
            CountsFrom(connection.execute(COUNTS_FROM, {"first": first}).all(), colour_at),
            forever,
        ),
    )

    def shared_group_keys(
        due_at: datetime, decision_due: date, states: set[str]
    ) -> list[tuple[str, int]]:
        # A group's keys depend on the data alone: the windows whose pages start with the
        # same groups (most of them) share them.
        keys: list[tuple[str, int]] = shared(
            ("group keys", due_at, decision_due, frozenset(states)),
            build=lambda: (
                group_keys(
                    session,
                    due_at=due_at,
                    decision_due=decision_due,
                    states=states,
                    need=sys.maxsize,
                    keep=None,
                ),
                forever,
            ),
        )
        return keys

    groups: tuple[Iterable[Any], Iterable[Any]]
    if wanted is None:
        coloured = counts_from.at(now)
        for rag, n in enumerate(coloured.counts_through(last)):
            report.counts[COLOURS[rag].value] += n
        groups = (coloured.at_risk_through(RED, last), coloured.at_risk_through(AMBER, last))
    else:
        listed: tuple[list[Any], list[Any]] = ([], [])
        for decision_due, due_at, state, name, holder, n, amber_at, red_at in counts_from.rows:
            if decision_due > last or not in_portfolio(name, holder):
                continue
            rag = colour_at(state, amber_at, red_at, now)
            report.counts[COLOURS[rag].value] += n
            pairs.add((name, holder))
            if rag <= AMBER and n > 0:
                listed[rag].append((due_at, decision_due, state, n))
        groups = listed
    unbriefed_sizes = [0, 0]
    for what, rag, *item_portfolio, n in connection.execute(statements.tallies, params):
        if wanted is not None and not in_portfolio(*item_portfolio):
            continue
        if what == UNDECIDED:
            if n:
                return None
            continue
        report.counts[COLOURS[rag].value] += int(n)
        if wanted is not None:
            pairs.add((item_portfolio[0], item_portfolio[1]))
        if what == UNBRIEFED:
            unbriefed_sizes[rag] += int(n)

    if wanted is not None:
        params["pairs"] = sorted(pairs)

    total = report.counts[Rag.RED.value] + report.counts[Rag.AMBER.value]
    start = (page - 1) * per_page
    keys: list[tuple[str, int]] = []
    skip = start
    for rag in (RED, AMBER):
        if len(keys) >= per_page or (wanted is not None and not pairs):
            break
        # This colour's briefings, group by group (due time, decision date), in order.
        walked = _walk_groups(
            groups[rag],
            skip=skip,
            room=per_page - len(keys),
            fetch=lambda due_at, decision_due, states, need: (
                group_keys(
                    session,
                    due_at=due_at,
                    decision_due=decision_due,
                    states=states,
                    need=need,
                    keep=in_portfolio,
                )
                if wanted is not None
                else shared_group_keys(due_at, decision_due, states)[:need]
            ),
        )
        keys += walked.keys
        skip = walked.skip
        if len(keys) >= per_page:
            break
        # Then this colour's items no briefing covers, by decision date and reference.
        size = unbriefed_sizes[rag]
        if skip >= size:
            skip -= size
            continue
        keys += [
            (ref, 0)
            for (ref,) in connection.execute(
                statements.unbriefed_refs,
                {**params, "rag": rag, "limit": per_page - len(keys), "offset": skip},
            )
        ]
        skip = 0
    built = {
        (row.ref, row.briefing_id or 0): row
        for row in (
            rows_for(
                {ref for ref, _ in keys},
                Question(
                    session=session,
                    settings=settings,
                    calendar=calendar,
                    directory=directory,
                    now=now,
                    viewer_email=viewer_email,
                    days=days,
                    portfolio=portfolio,
                ),
            )
            if keys
            else []
        )
    }
    report.rows = [built[key] for key in keys]
    return StatusPage(report=report, at_risk_total=total, start=start, rows=report.rows)


class _Walked:
    __slots__ = ("keys", "skip")

    def __init__(self, keys: list[tuple[str, int]], skip: int) -> None:
        self.keys, self.skip = keys, skip


def _walk_groups(
    groups: Any,
    *,
    skip: int,
    room: int,
    fetch: Callable[[datetime, date, set[str], int], list[tuple[str, int]]],
) -> _Walked:
    """Skip `skip` briefings, then take up to `room` keys, merging a group's states."""
    keys: list[tuple[str, int]] = []
    pending: tuple[datetime, date] | None = None
    states: set[str] = set()
    size = 0

    def flush() -> None:
        nonlocal skip
        if pending is None or len(keys) >= room:
            return
        if skip >= size:
            skip -= size
            return
        need = skip + room - len(keys)
        keys.extend(fetch(pending[0], pending[1], states, need)[skip:need])
        skip = 0

    for due_at, decision_due, state, count in groups:
        if (due_at, decision_due) != pending:
            flush()
            if len(keys) >= room:
                break
            pending, states, size = (due_at, decision_due), set(), 0
        states.add(state)
        size += count
    else:
        flush()
    return _Walked(keys, skip)
