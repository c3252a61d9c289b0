"""What both ways of paging the wide status share: the page, a group's briefings in order, and
the page's rows built exactly as the full status builds them (issue 15)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.directory import Directory
from bot.store.models import Briefing, Decision, table_of
from bot.views.status import Rag, StatusReport, StatusRow, build_status

AT_RISK = (Rag.RED, Rag.AMBER)


@dataclass
class StatusPage:
    """The counts of the whole window, and one page of its at-risk rows."""

    report: StatusReport  # counts for the window; rows: this page's at-risk rows only
    at_risk_total: int
    start: int
    rows: list[StatusRow] = field(default_factory=list)


def group_keys(
    session: Session,
    *,
    due_at: datetime,
    decision_due: date,
    states: Collection[str],
    need: int,
    keep: Callable[[str, str], bool] | None,
) -> list[tuple[str, int]]:
    """The first `need` (ref, briefing id) of the briefings due then on decisions of that date
    in these states, in the full status's order; `keep` filters by (portfolio, holder)."""
    # The day's decisions first, then their briefings by the (decision, state, due) index:
    # joined in one statement, SQLite tends to walk every briefing in the state instead.
    # Plain statements on the connection: the ORM's handling of each costs more than the query.
    connection = session.connection()
    items = {
        decision_id: ref
        for decision_id, ref, portfolio, holder in connection.execute(
            select(
                col(Decision.id),
                col(Decision.ref),
                col(Decision.portfolio),
                col(Decision.portfolio_holder),
            ).where(col(Decision.decision_due) == decision_due)
        )
        if keep is None or keep(portfolio, holder)
    }
    if not items:
        return []
    briefings = table_of(Briefing)
    found = connection.execute(
        select(briefings.c.id, briefings.c.decision_id).where(
            briefings.c.decision_id.in_(sorted(items)),
            briefings.c.due_at == due_at,
            briefings.c.state.in_(sorted(states)),
        )
    )
    keys: list[tuple[str, int]] = sorted(
        (items[decision_id], briefing_id) for briefing_id, decision_id in found
    )
    return keys[:need]


def rows_for(
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
