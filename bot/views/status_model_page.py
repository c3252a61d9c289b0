"""One page of the wide status read from the status read model (issue 15).

The counts are sums over `statuscount` and `statusunbriefed`, coloured in SQL by comparing the
moment asked about with each row's stored instants; the page is found by walking the at-risk
groups in the full status's order (red, then amber; briefings by due time and decision date,
then the items no briefing covers by decision date and reference) only as far as it goes, and
only its rows are built, by `build_status`, so they read exactly as the full status's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, tuple_, union_all
from sqlmodel import Session

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.directory import Directory
from bot.store.models import BriefingState, StatusCount, StatusUnbriefed, table_of
from bot.views.status import LOOKBACK_DAYS, Rag, StatusReport
from bot.views.status_paging import StatusPage, group_keys, rows_for

COLOURS = (Rag.RED, Rag.AMBER, Rag.GREY, Rag.GREEN)  # by RAG_ORDER
RED, AMBER, GREY, GREEN = range(4)
BRIEFINGS, UNBRIEFED, UNDECIDED = range(3)
S = BriefingState


def briefing_colour(now: datetime) -> Any:
    """A `statuscount` row's RAG order at `now` (rag_for, with the instants stored)."""
    counts = table_of(StatusCount)
    return case(
        (counts.c.state.in_([S.ACKNOWLEDGED, S.NOT_NEEDED]), literal(GREEN)),
        (counts.c.state.in_([S.BRIEFED, S.NOT_NEEDED_PENDING]), literal(AMBER)),
        (counts.c.red_at <= now, literal(RED)),
        (or_(counts.c.amber_at <= now, counts.c.state == S.DISPUTED), literal(AMBER)),
        else_=literal(GREY),
    )


def unbriefed_colour(now: datetime) -> Any:
    """An unbriefed item's RAG order at `now` (no_briefing_rag: red once its decision is close)."""
    unbriefed = table_of(StatusUnbriefed)
    return case((unbriefed.c.red_at <= now, literal(RED)), else_=literal(AMBER))


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
    counts, unbriefed = table_of(StatusCount), table_of(StatusUnbriefed)
    connection = session.connection()

    @cache
    def in_portfolio(name: str, holder: str) -> bool:
        found = directory.portfolio(name) or directory.portfolio_of_holder(holder)
        return found == wanted

    colour, plain = briefing_colour(now), unbriefed_colour(now)
    in_window = counts.c.decision_due.between(first, last)
    # Unbriefed items are listed when flagged, or once their date has passed.
    shown = or_(
        and_(unbriefed.c.flagged, unbriefed.c.decision_due.between(first, last)),
        and_(
            ~unbriefed.c.flagged,
            unbriefed.c.decision_due.between(first, min(last, today - timedelta(days=1))),
        ),
    )
    # Exempt items with no flag yet, ahead: masking alone decides whether they are listed.
    undecided = and_(
        unbriefed.c.exempt,
        ~unbriefed.c.flagged,
        unbriefed.c.decision_due.between(max(first, today), last),
    )
    by_portfolio: tuple[Any, ...] = ()
    if wanted is not None:
        by_portfolio = (counts.c.portfolio, counts.c.portfolio_holder)
    plain_by_portfolio = tuple(unbriefed.c[c.name] for c in by_portfolio)
    # One statement: (what, rag, [portfolio, holder,] how many), what being the briefings,
    # the unbriefed items listed, or the undecided ones.
    tallies = union_all(
        select(literal(BRIEFINGS), colour, *by_portfolio, func.sum(counts.c.count))
        .where(in_window)
        .group_by(colour, *by_portfolio),
        select(literal(UNBRIEFED), plain, *plain_by_portfolio, func.count())
        .where(shown)
        .group_by(plain, *plain_by_portfolio),
        select(literal(UNDECIDED), literal(RED), *plain_by_portfolio, func.count())
        .where(undecided)
        .group_by(*plain_by_portfolio),
    )
    report = StatusReport(viewer=viewer_email, now=now, days=days, portfolio=portfolio)
    pairs: set[tuple[str, str]] = set()
    unbriefed_sizes = [0, 0]
    for what, rag, *item_portfolio, n in connection.execute(tallies):
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

    def portfolio_filter(table: Any) -> list[ColumnElement[bool]]:
        if wanted is None:
            return []
        return [tuple_(table.c.portfolio, table.c.portfolio_holder).in_(sorted(pairs))]

    total = report.counts[Rag.RED.value] + report.counts[Rag.AMBER.value]
    start = (page - 1) * per_page
    keys: list[tuple[str, int]] = []
    skip = start
    for rag in (RED, AMBER):
        if len(keys) >= per_page or (wanted is not None and not pairs):
            break
        # This colour's briefings, group by group (due time, decision date), in order.
        groups = connection.execute(
            select(counts.c.due_at, counts.c.decision_due, counts.c.state, counts.c.count)
            .where(in_window, colour == rag, counts.c.count > 0, *portfolio_filter(counts))
            .order_by(counts.c.due_at, counts.c.decision_due)
        )
        walked = _walk_groups(
            groups,
            skip=skip,
            room=per_page - len(keys),
            fetch=lambda due_at, decision_due, states, need: group_keys(
                session,
                due_at=due_at,
                decision_due=decision_due,
                states=states,
                need=need,
                keep=None if wanted is None else in_portfolio,
            ),
        )
        keys += walked.keys
        skip = walked.skip
        if len(keys) >= per_page:
            break
        # Then this colour's items no briefing covers, by decision date and reference.
        where = (shown, plain == rag, *portfolio_filter(unbriefed))
        size = unbriefed_sizes[rag]
        if skip >= size:
            skip -= size
            continue
        keys += [
            (ref, 0)
            for (ref,) in connection.execute(
                select(unbriefed.c.ref)
                .where(*where)
                .order_by(unbriefed.c.decision_due, unbriefed.c.ref)
                .limit(per_page - len(keys))
                .offset(skip)
            )
        ]
        skip = 0
    built = {
        (row.ref, row.briefing_id or 0): row
        for row in (
            rows_for(
                {ref for ref, _ in keys},
                session,
                settings,
                calendar,
                directory,
                now,
                viewer_email,
                days,
                portfolio,
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
