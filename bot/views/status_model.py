"""The status read model, written after each sweep (issue 15).

The chief executive's `/surprises` over any window reads `statuscount` (live briefings counted
by decision date, due time, state and portfolio, each with the instants at which it turns amber
and red) and `statusunbriefed` (items no live briefing covers), so its counts are a sum over a
few thousand rows and its colours a comparison, whatever the size of the council. Rebuilt here
in the sweep's own transaction; bot/store/status_model.py keeps it true, or marks it out of
date, between sweeps.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.models import (
    Briefing,
    BriefingState,
    Decision,
    DecisionStatus,
    StatusCount,
    StatusModel,
    StatusUnbriefed,
    table_of,
)
from bot.store.status_model import data_key
from bot.views.access import is_exempt
from bot.views.rag_thresholds import Thresholds, close_at, thresholds
from bot.views.status import has_standing_flags


def model_context(settings: Settings) -> str:
    """The settings the stored instants were worked out under (rules, calendar, council)."""
    from bot.briefings.reconcile import settings_fingerprint

    return settings_fingerprint(settings)


def refresh_status_model(
    *, session: Session, settings: Settings, calendar: CouncilCalendar, now: datetime
) -> None:
    """Rebuild the read model from the data as it stands in this transaction."""
    session.flush()
    model = session.get(StatusModel, 1, with_for_update=True)
    if model is None:
        model = StatusModel(id=1)
        session.add(model)
        session.flush()
    counts, unbriefed = table_of(StatusCount), table_of(StatusUnbriefed)
    session.execute(delete(counts))
    session.execute(delete(unbriefed))

    @cache
    def instants(due_at: datetime, decision_due: date) -> Thresholds:
        return thresholds(
            due_at=due_at, decision_due=decision_due, calendar=calendar, settings=settings
        )

    grouped = (
        col(Decision.decision_due),
        col(Briefing.due_at),
        col(Briefing.state),
        col(Decision.portfolio),
        col(Decision.portfolio_holder),
    )
    count_rows = [
        {
            "decision_due": decision_due,
            "due_at": due_at,
            "state": state,
            "portfolio": portfolio,
            "portfolio_holder": holder,
            "count": n,
            **instants(due_at, decision_due)._asdict(),
        }
        for decision_due, due_at, state, portfolio, holder, n in session.execute(
            select(*grouped, func.count())
            .select_from(Briefing)
            .join(Decision, col(Decision.id) == col(Briefing.decision_id))
            .where(col(Briefing.state) != BriefingState.WITHDRAWN)
            .group_by(*grouped)
        )
    ]
    if count_rows:
        session.execute(insert(counts), count_rows)

    close = cache(lambda day: close_at(decision_due=day, calendar=calendar, settings=settings))
    live = select(col(Briefing.id)).where(
        col(Briefing.decision_id) == col(Decision.id),
        col(Briefing.state) != BriefingState.WITHDRAWN,
    )
    unbriefed_rows = [
        {
            "decision_id": item.id,
            "ref": item.ref,
            "decision_due": item.decision_due,
            "flagged": has_standing_flags(item.flags or []),
            "exempt": is_exempt(item.restriction),
            "portfolio": item.portfolio,
            "portfolio_holder": item.portfolio_holder,
            "red_at": close(item.decision_due),
        }
        for item in session.execute(
            select(
                col(Decision.id),
                col(Decision.ref),
                col(Decision.decision_due),
                col(Decision.flags),
                col(Decision.restriction),
                col(Decision.portfolio),
                col(Decision.portfolio_holder),
            ).where(col(Decision.status) == DecisionStatus.FOR_DETERMINATION, ~live.exists())
        )
    ]
    if unbriefed_rows:
        session.execute(insert(unbriefed), unbriefed_rows)
    model.key = data_key(session, model_context(settings))
    model.current = True
    model.built_at = now
    session.flush()
