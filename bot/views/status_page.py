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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision, DecisionStatus
from bot.views.access import is_exempt, sees_everything
from bot.views.question import Question
from bot.views.status import (
    LOOKBACK_DAYS,
    RAG_ORDER,
    StatusReport,
    StatusRow,
    has_live_flags,
    no_briefing_rag,
    rag_at,
)
from bot.views.status_model import model_is_current
from bot.views.status_model_page import page_from_model
from bot.views.status_paging import AT_RISK, StatusPage, group_keys, rows_for


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
    if model_is_current(session=session, settings=settings, today=calendar.local_date(now)):
        from_model = page_from_model(
            session=session,
            settings=settings,
            calendar=calendar,
            directory=directory,
            now=now,
            viewer_email=viewer.email,
            days=days,
            portfolio=portfolio,
            page=page,
            per_page=per_page,
        )
        if from_model is not None:
            return from_model
    today = calendar.local_date(now)
    report = StatusReport(viewer=viewer.email, now=now, days=days, portfolio=portfolio)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    question = Question(
        session=session,
        settings=settings,
        calendar=calendar,
        directory=directory,
        now=now,
        viewer_email=viewer_email,
        days=days,
        portfolio=portfolio,
    )

    rag_of = rag_at(now=now, calendar=calendar, settings=settings)
    working_days = cache(calendar.working_days_between)

    @cache
    def in_portfolio(name: str, holder: str) -> bool:
        found = directory.portfolio(name) or directory.portfolio_of_holder(holder)
        return found == wanted

    first, last = today - timedelta(days=LOOKBACK_DAYS), today + timedelta(days=days)
    window = (col(Decision.decision_due) >= first, col(Decision.decision_due) <= last)
    live = col(Briefing.state) != BriefingState.WITHDRAWN
    # The window's live briefings grouped by what their RAG and order depend on: a few hundred
    # groups however many briefings, counted by the database (from its covering indexes).
    # Grouped by portfolio too only when asked for one: several times the groups otherwise.
    by_portfolio = (
        (col(Decision.portfolio), col(Decision.portfolio_holder)) if wanted is not None else ()
    )
    grouped = (*by_portfolio, col(Briefing.state), col(Briefing.due_at), col(Decision.decision_due))
    groups: dict[tuple[int, datetime, date], _Group] = {}
    for *item_portfolio, state, due_at, decision_due, count in session.execute(
        select(*grouped, func.count())
        .select_from(Briefing)
        .join(Decision, col(Decision.id) == col(Briefing.decision_id))
        .where(*window, live)
        .group_by(*grouped)
    ):
        if wanted is not None and not in_portfolio(*item_portfolio):
            continue
        rag = rag_of(state, due_at, decision_due)
        report.counts[rag.value] += count
        if rag in AT_RISK:
            group = groups.setdefault((RAG_ORDER[rag], due_at, decision_due), _Group())
            group.count += count
            group.states.add(state)

    # Items no live briefing covers: a row only if their flags say why (as build_status has
    # it). Worked out here from four columns; exempt ones (whose masking adds a flag for some
    # viewers) are built by build_status itself.
    unbriefed_refs: dict[tuple[int, date], list[str]] = defaultdict(list)
    ready: dict[tuple[str, int], StatusRow] = {}
    exempt_refs: list[str] = []
    for ref, decision_due, stored_flags, restriction, item_portfolio, holder in session.execute(
        select(
            col(Decision.ref),
            col(Decision.decision_due),
            col(Decision.flags),
            col(Decision.restriction),
            col(Decision.portfolio),
            col(Decision.portfolio_holder),
        ).where(
            *window,
            col(Decision.status) == DecisionStatus.FOR_DETERMINATION,
            ~select(col(Briefing.id))
            .where(col(Briefing.decision_id) == col(Decision.id), live)
            .exists(),
        )
    ):
        if is_exempt(restriction):
            exempt_refs.append(ref)
            continue
        if wanted is not None and not in_portfolio(item_portfolio, holder):
            continue
        if not has_live_flags(stored_flags or [], decision_due, today):
            continue
        rag = no_briefing_rag(working_days(today, decision_due), settings)
        report.counts[rag.value] += 1
        if rag in AT_RISK:
            unbriefed_refs[(RAG_ORDER[rag], decision_due)].append(ref)
    if exempt_refs:
        for status_row in rows_for(exempt_refs, question):
            report.counts[status_row.rag.value] += 1
            if status_row.rag in AT_RISK:
                unbriefed_refs[(RAG_ORDER[status_row.rag], status_row.decision_due)].append(
                    status_row.ref
                )
                ready[(status_row.ref, 0)] = status_row

    # build_status's order: (rag, due, decision date, ref, briefing id); items no briefing
    # covers have no due time and come after every briefing of their colour.
    ordered: list[tuple[tuple[int, datetime, date], _Group | list[str]]] = [
        *groups.items(),
        *(
            ((order, far, decision_due), sorted(refs))
            for (order, decision_due), refs in unbriefed_refs.items()
        ),
    ]
    ordered.sort(key=lambda entry: entry[0])
    total = sum(len(v) if isinstance(v, list) else v.count for _, v in ordered)
    start = (page - 1) * per_page
    wanted_keys: list[tuple[str, int]] = []
    skip = start
    for (_, due_at, decision_due), members in ordered:
        if len(wanted_keys) >= per_page:
            break
        size = len(members) if isinstance(members, list) else members.count
        if skip >= size:
            skip -= size
            continue
        if isinstance(members, list):
            wanted_keys += [(ref, 0) for ref in members[skip : skip + per_page - len(wanted_keys)]]
        else:
            need = skip + per_page - len(wanted_keys)
            keys = group_keys(
                session,
                due_at=due_at,
                decision_due=decision_due,
                states=members.states,
                need=need,
                keep=None if wanted is None else in_portfolio,
            )
            wanted_keys += keys[skip:need]
        skip = 0
    refs = {ref for ref, briefing_id in wanted_keys if (ref, briefing_id) not in ready}
    if refs:
        for status_row in rows_for(refs, question):
            ready[(status_row.ref, status_row.briefing_id or 0)] = status_row
    rows = [ready[key] for key in wanted_keys]
    report.rows = rows
    return StatusPage(report=report, at_risk_total=total, start=start, rows=rows)


@dataclass
class _Group:
    """At-risk briefings sharing a colour, a due time and a decision date."""

    count: int = 0
    states: set[str] = field(default_factory=set)
