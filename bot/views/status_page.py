"""One page of the at-risk list for someone who sees every item (issue 15).

The chief executive's `/surprises` shows the RAG counts and fifteen rows. Building every row of
the window (titles, flags, names, masking) to show fifteen cost tens of milliseconds at 10,000
decisions and most of a second at 100,000. Here the database counts the window's briefings
grouped by what their colour and order depend on (state, due time, decision date, portfolio),
the page is found by walking those groups in order, and only its rows (and the rare items no
briefing covers) are built, by `build_status` itself, so they read exactly as the full status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision, DecisionStatus
from bot.views.access import sees_everything
from bot.views.status import (
    LOOKBACK_DAYS,
    RAG_ORDER,
    Rag,
    StatusReport,
    StatusRow,
    build_status,
    rag_at,
)

AT_RISK = (Rag.RED, Rag.AMBER)


@dataclass
class StatusPage:
    """The counts of the whole window, and one page of its at-risk rows."""

    report: StatusReport  # counts for the window; rows: this page's at-risk rows only
    at_risk_total: int
    start: int
    rows: list[StatusRow] = field(default_factory=list)


def wide_status_page(
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
    """The page, or None when the viewer does not see every item (build the full status)."""
    viewer = directory.person(viewer_email)
    if viewer is None or not sees_everything(viewer):
        return None
    wanted = directory.portfolio(portfolio) if portfolio else None
    if portfolio and wanted is None:
        raise ValueError(f"no portfolio called {portfolio!r}")
    today = calendar.local_date(now)
    report = StatusReport(viewer=viewer.email, now=now, days=days, portfolio=portfolio)
    far = datetime.max.replace(tzinfo=now.tzinfo)

    rag_of = rag_at(now=now, calendar=calendar, settings=settings)

    @cache
    def in_portfolio(name: str, holder: str) -> bool:
        found = directory.portfolio(name) or directory.portfolio_of_holder(holder)
        return found == wanted

    first, last = today - timedelta(days=LOOKBACK_DAYS), today + timedelta(days=days)
    window = (col(Decision.decision_due) >= first, col(Decision.decision_due) <= last)
    live = col(Briefing.state) != BriefingState.WITHDRAWN
    # The window's live briefings grouped by what their RAG and order depend on: a few hundred
    # groups however many briefings, counted by the database.
    groups: dict[tuple[int, datetime, date], _Group] = {}
    for item_portfolio, holder, state, due_at, decision_due, count in session.execute(
        select(
            col(Decision.portfolio),
            col(Decision.portfolio_holder),
            col(Briefing.state),
            col(Briefing.due_at),
            col(Decision.decision_due),
            func.count(),
        )
        .select_from(Briefing)
        .join(Decision, col(Decision.id) == col(Briefing.decision_id))
        .where(*window, live)
        .group_by(
            col(Decision.portfolio),
            col(Decision.portfolio_holder),
            col(Briefing.state),
            col(Briefing.due_at),
            col(Decision.decision_due),
        )
    ):
        if wanted is not None and not in_portfolio(item_portfolio, holder):
            continue
        rag = rag_of(state, due_at, decision_due)
        report.counts[rag.value] += count
        if rag in AT_RISK:
            group = groups.setdefault((RAG_ORDER[rag], due_at, decision_due), _Group())
            group.count += count
            group.states.add(state)

    # Items no live briefing covers: a row only if their flags say why (as build_status has it).
    unbriefed = list(
        session.scalars(
            select(col(Decision.ref)).where(
                *window,
                col(Decision.status) == DecisionStatus.FOR_DETERMINATION,
                ~select(col(Briefing.id))
                .where(col(Briefing.decision_id) == col(Decision.id), live)
                .exists(),
            )
        )
    )
    unbriefed_rows: dict[tuple[int, date], list[StatusRow]] = defaultdict(list)
    if unbriefed:
        for status_row in _rows_for(
            unbriefed, session, settings, calendar, directory, now, viewer_email, days, portfolio
        ):
            report.counts[status_row.rag.value] += 1
            if status_row.rag in AT_RISK:
                unbriefed_rows[(RAG_ORDER[status_row.rag], status_row.decision_due)].append(
                    status_row
                )

    # build_status's order: (rag, due, decision date, ref, briefing id); items no briefing
    # covers have no due time and come after every briefing of their colour.
    ordered: list[tuple[tuple[int, datetime, date], _Group | list[StatusRow]]] = [
        *groups.items(),
        *(
            ((order, far, decision_due), sorted(rows, key=lambda r: r.ref))
            for (order, decision_due), rows in unbriefed_rows.items()
        ),
    ]
    ordered.sort(key=lambda entry: entry[0])
    total = sum(len(v) if isinstance(v, list) else v.count for _, v in ordered)
    start = (page - 1) * per_page
    wanted_keys: list[tuple[str, int]] = []
    ready: dict[tuple[str, int], StatusRow] = {}
    skip = start
    for (_, due_at, decision_due), members in ordered:
        if len(wanted_keys) >= per_page:
            break
        size = len(members) if isinstance(members, list) else members.count
        if skip >= size:
            skip -= size
            continue
        if isinstance(members, list):
            chosen = members[skip : skip + per_page - len(wanted_keys)]
            for status_row in chosen:
                ready[(status_row.ref, 0)] = status_row
            wanted_keys += [(r.ref, 0) for r in chosen]
        else:
            need = skip + per_page - len(wanted_keys)
            query = (
                select(
                    col(Decision.ref),
                    col(Briefing.id),
                    col(Decision.portfolio),
                    col(Decision.portfolio_holder),
                )
                .select_from(Briefing)
                .join(Decision, col(Decision.id) == col(Briefing.decision_id))
                .where(
                    col(Briefing.due_at) == due_at,
                    col(Decision.decision_due) == decision_due,
                    col(Briefing.state).in_(sorted(members.states)),
                )
                .order_by(col(Decision.ref), col(Briefing.id))
            )
            if wanted is None:
                # Nothing to filter out afterwards: read only as far as the page goes.
                query = query.limit(need)
            keys = [
                (ref, briefing_id)
                for ref, briefing_id, item_portfolio, holder in session.execute(query)
                if wanted is None or in_portfolio(item_portfolio, holder)
            ]
            wanted_keys += keys[skip:need]
        skip = 0
    refs = {ref for ref, briefing_id in wanted_keys if (ref, briefing_id) not in ready}
    if refs:
        for status_row in _rows_for(
            refs, session, settings, calendar, directory, now, viewer_email, days, portfolio
        ):
            ready[(status_row.ref, status_row.briefing_id or 0)] = status_row
    rows = [ready[key] for key in wanted_keys]
    report.rows = rows
    return StatusPage(report=report, at_risk_total=total, start=start, rows=rows)


@dataclass
class _Group:
    """At-risk briefings sharing a colour, a due time and a decision date."""

    count: int = 0
    states: set[str] = field(default_factory=set)


def _rows_for(
    refs: Collection[str],
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    viewer_email: str,
    days: int,
    portfolio: str,
) -> list[StatusRow]:
    """These items' rows exactly as the full status builds them."""
    return build_status(
        session=session,
        settings=settings,
        calendar=calendar,
        directory=directory,
        now=now,
        viewer_email=viewer_email,
        days=days,
        portfolio=portfolio,
        refs=frozenset(refs),
    ).rows
