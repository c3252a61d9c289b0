"""One page of the at-risk list for someone who sees every item (issue 15).

The chief executive's `/surprises` shows the RAG counts and fifteen rows. Building every row of
the window (titles, flags, names, masking) to show fifteen cost tens of milliseconds at 10,000
decisions and most of a second at 100,000. Here the window is read as a few narrow columns,
the counts and the order of the at-risk rows come from those, and only the rows on the page
(and the rare items no briefing can be set up for) are built, by `build_status` itself, so
they read exactly as the full status would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import select
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
    rag_for,
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

    @cache
    def rag_of(state: str, due_at: datetime, decision_due: date) -> Rag:
        return rag_for(
            state=state,
            due_at=due_at,
            decision_due=decision_due,
            now=now,
            calendar=calendar,
            settings=settings,
        )

    @cache
    def in_portfolio(name: str, holder: str) -> bool:
        found = directory.portfolio(name) or directory.portfolio_of_holder(holder)
        return found == wanted

    # (rag order, due, decision date, ref, briefing id): build_status's order, made total.
    at_risk: list[tuple[int, datetime, date, str, int]] = []
    unbriefed: list[str] = []  # For Determination, no live briefing: perhaps a row, by ref
    live: dict[int, int] = defaultdict(int)
    items: dict[int, tuple[str, date, str]] = {}
    for row in session.execute(
        select(
            col(Decision.id),
            col(Decision.ref),
            col(Decision.decision_due),
            col(Decision.status),
            col(Decision.portfolio),
            col(Decision.portfolio_holder),
            col(Briefing.id),
            col(Briefing.state),
            col(Briefing.due_at),
        )
        .select_from(Decision)
        .outerjoin(Briefing, col(Briefing.decision_id) == col(Decision.id))
        .where(
            col(Decision.decision_due) >= today - timedelta(days=LOOKBACK_DAYS),
            col(Decision.decision_due) <= today + timedelta(days=days),
        )
    ):
        (decision_id, ref, decision_due, status, item_portfolio, holder) = row[:6]
        briefing_id, state, due_at = row[6:]
        if wanted is not None and not in_portfolio(item_portfolio, holder):
            continue
        items[decision_id] = (ref, decision_due, status)
        if briefing_id is None or state == BriefingState.WITHDRAWN:
            continue
        live[decision_id] += 1
        rag = rag_of(state, due_at, decision_due)
        report.counts[rag.value] += 1
        if rag in AT_RISK:
            at_risk.append((RAG_ORDER[rag], due_at, decision_due, ref, briefing_id))
    for decision_id, (ref, _, status) in items.items():
        if not live[decision_id] and status == DecisionStatus.FOR_DETERMINATION:
            unbriefed.append(ref)

    built: dict[tuple[str, int], StatusRow] = {}
    if unbriefed:
        for status_row in _rows_for(
            unbriefed, session, settings, calendar, directory, now, viewer_email, days, portfolio
        ):
            report.counts[status_row.rag.value] += 1
            key = (status_row.ref, 0)
            built[key] = status_row
            if status_row.rag in AT_RISK:
                at_risk.append(
                    (RAG_ORDER[status_row.rag], far, status_row.decision_due, status_row.ref, 0)
                )
    at_risk.sort()
    start = (page - 1) * per_page
    shown = at_risk[start : start + per_page]
    wanted_refs = {ref for *_, ref, briefing_id in shown if (ref, briefing_id) not in built}
    if wanted_refs:
        for status_row in _rows_for(
            wanted_refs, session, settings, calendar, directory, now, viewer_email, days, portfolio
        ):
            built[(status_row.ref, status_row.briefing_id or 0)] = status_row
    rows = [built[(ref, briefing_id)] for *_, ref, briefing_id in shown]
    report.rows = rows
    return StatusPage(report=report, at_risk_total=len(at_risk), start=start, rows=rows)


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
