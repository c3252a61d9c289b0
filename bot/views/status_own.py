"""One page of a person's own briefings: `/surprises mine`, and `/surprises` for someone who
sees only their own items (issue 15).

In a large council a ward councillor is owed dozens of briefings in a window, and building
every row (names, flags, masking) to show fifteen was most of the answer's cost. Here one
statement through the member/briefer indexes reads seven small columns of each of the person's
briefings in the window; each is coloured (as the read model colours, by the instants it turns
amber and red: `rag_for` at every moment) for the counts and the order; and only the page's
rows are built, by `build_status` itself, so they read exactly as the full status's rows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlmodel import Session

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision, table_of
from bot.views.question import Question
from bot.views.rag_thresholds import thresholds
from bot.views.shared_rows import shared_part, shared_rows
from bot.views.status import (
    LOOKBACK_DAYS,
    RAG_ORDER,
    StatusReport,
    StatusRow,
    sees_only_their_own,
)
from bot.views.status_model_page import COLOURS, colour_at
from bot.views.status_paging import AT_RISK, StatusPage
from bot.views.status_queries import connection


def _their_briefings() -> Any:
    briefings, decisions = table_of(Briefing), table_of(Decision)
    person: Any = bindparam("person")
    return (
        select(
            briefings.c.id,
            decisions.c.ref,
            briefings.c.state,
            briefings.c.due_at,
            decisions.c.decision_due,
            decisions.c.portfolio,
            decisions.c.portfolio_holder,
        )
        .join(decisions, decisions.c.id == briefings.c.decision_id)
        .where(
            # Two indexed equalities joined by OR: both databases answer it from the indexes.
            or_(briefings.c.member_email == person, briefings.c.briefer_email == person),
            briefings.c.state != BriefingState.WITHDRAWN,
            decisions.c.decision_due >= bindparam("first"),
            decisions.c.decision_due <= bindparam("last"),
        )
    )


# Built once, with parameters: building a statement costs more than running it.
_THEIR_BRIEFINGS = _their_briefings()
# Each colour's name and whether it is at risk, by its place in the order (`colour_at`).
_NAMES = tuple(rag.value for rag in COLOURS)
_AT_RISK = frozenset(RAG_ORDER[rag] for rag in AT_RISK)


def own_status_page(
    *,
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    viewer_email: str,
    days: int,
    portfolio: str = "",
    only_mine: bool,
    page: int = 1,
    per_page: int = 15,
) -> StatusPage | None:
    """The counts of all the person's own briefings in the window and one page of them (every
    colour for `only_mine`, the at-risk ones otherwise), or None when the question lists more
    than their own briefings (build the full status)."""
    viewer = directory.person(viewer_email)
    if viewer is None or not (only_mine or sees_only_their_own(viewer)):
        return None
    wanted = directory.portfolio(portfolio) if portfolio else None
    if portfolio and wanted is None:
        raise ValueError(f"no portfolio called {portfolio!r}")
    shared: dict[str, Any] = {
        "session": session,
        "settings": settings,
        "calendar": calendar,
        "directory": directory,
        "now": now,
        "viewer_email": viewer.email,
    }
    today = calendar.local_date(now)
    first, last = today - timedelta(days=LOOKBACK_DAYS), today + timedelta(days=days)

    def read() -> tuple[tuple[_Own, ...], datetime]:
        # Fetched at once (`all`): row by row costs a call through the driver for each.
        found = (
            connection(session)
            .execute(_THEIR_BRIEFINGS, {"person": viewer.email, "first": first, "last": last})
            .all()
        )
        # Nothing here reads the clock: it holds while the data does (and until midnight).
        return tuple(_Own._make(row) for row in found), datetime.max.replace(tzinfo=now.tzinfo)

    # Read once per version of the data and shared by this person's questions (`shared_part`).
    theirs: tuple[_Own, ...] = shared_part(("own briefings", first, last), **shared, build=read)

    @cache
    def in_portfolio(name: str, holder: str) -> bool:
        return (directory.portfolio(name) or directory.portfolio_of_holder(holder)) == wanted

    @cache
    def colour(state: str, due_at: datetime, decision_due: date) -> int:
        # As the read model colours (rag_for at every moment, tests/test_rag_thresholds.py):
        # by the instants a briefing turns amber and red, remembered between answers.
        instants = thresholds(
            due_at=due_at, decision_due=decision_due, calendar=calendar, settings=settings
        )
        return colour_at(state, instants.amber_at, instants.red_at, now)

    report = StatusReport(viewer=viewer.email, now=now, days=days, portfolio=portfolio)
    listed: list[tuple[int, datetime, date, str, int]] = []
    for own in theirs:
        if wanted is not None and not in_portfolio(own.portfolio, own.portfolio_holder):
            continue
        order = colour(own.state, own.due_at, own.decision_due)
        report.counts[_NAMES[order]] += 1
        if only_mine or order in _AT_RISK:
            # build_status's order: colour, due time, decision date, reference, briefing.
            listed.append((order, own.due_at, own.decision_due, own.ref, own.id))
    listed.sort()
    start = (page - 1) * per_page
    keys = [(ref, briefing_id) for *_, ref, briefing_id in listed[start : start + per_page]]

    question = Question(**shared, days=days, portfolio=portfolio)

    def build(refs: Collection[str]) -> list[StatusRow]:
        # Every one of the person's briefings on these items, not only the page's: rows are
        # shared by item, and the next page may hold the item's others.
        wanted_refs = set(refs)
        return question.full_status(
            only_mine=only_mine,
            briefing_ids=frozenset(own.id for own in theirs if own.ref in wanted_refs),
        ).rows

    rows = shared_rows(
        list(dict.fromkeys(ref for ref, _ in keys)),
        question,
        build=build,
        # Someone who sees items whole gets other rows for them in their wide answers.
        own=not sees_only_their_own(viewer),
    )
    by_key = {(row.ref, row.briefing_id): row for row in rows}
    # A briefing changed by someone else between the two reads (PostgreSQL reads each
    # statement afresh) is left off this page rather than shown as it no longer is.
    report.rows = [by_key[key] for key in keys if key in by_key]
    return StatusPage(report=report, at_risk_total=len(listed), start=start, rows=report.rows)


class _Own(NamedTuple):
    """One of the person's briefings in the window, as much as its colour and order need."""

    id: int
    ref: str
    state: str
    due_at: datetime
    decision_due: date
    portfolio: str
    portfolio_holder: str
