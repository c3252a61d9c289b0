"""What both ways of paging the wide status share: the page, a group's briefings in order, and
the page's rows built exactly as the full status builds them (issue 15)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from bot.store.models import Briefing, Decision, table_of
from bot.views.question import Question
from bot.views.shared_rows import shared_rows
from bot.views.status import Rag, StatusReport, StatusRow

AT_RISK = (Rag.RED, Rag.AMBER)


@dataclass
class StatusPage:
    """The counts of the whole window, and one page of its at-risk rows."""

    report: StatusReport  # counts for the window; rows: this page's at-risk rows only
    at_risk_total: int
    start: int
    rows: list[StatusRow] = field(default_factory=list)


def _days_decisions() -> Any:
    decisions = table_of(Decision)
    return select(
        decisions.c.id, decisions.c.ref, decisions.c.portfolio, decisions.c.portfolio_holder
    ).where(decisions.c.decision_due == bindparam("decision_due"))


def _their_briefings() -> Any:
    briefings = table_of(Briefing)
    return select(briefings.c.id, briefings.c.decision_id).where(
        briefings.c.decision_id.in_(bindparam("ids", expanding=True)),
        briefings.c.due_at == bindparam("due_at"),
        briefings.c.state.in_(bindparam("states", expanding=True)),
    )


# Built once, with parameters: building a statement costs more than running it.
_DAYS_DECISIONS = _days_decisions()
_THEIR_BRIEFINGS = _their_briefings()


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
            _DAYS_DECISIONS, {"decision_due": decision_due}
        )
        if keep is None or keep(portfolio, holder)
    }
    if not items:
        return []
    found = connection.execute(
        _THEIR_BRIEFINGS, {"ids": sorted(items), "due_at": due_at, "states": sorted(states)}
    )
    keys: list[tuple[str, int]] = sorted(
        (items[decision_id], briefing_id) for briefing_id, decision_id in found
    )
    return keys[:need]


def rows_for(refs: Collection[str], question: Question) -> list[StatusRow]:
    """These items' rows exactly as the full status builds them (shared between questions
    while nothing they depend on has changed: `shared_rows`)."""
    return shared_rows(
        refs, question, build=lambda missing: question.full_status(refs=frozenset(missing)).rows
    )
