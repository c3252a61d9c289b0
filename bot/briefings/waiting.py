"""Who is still waiting on a decision, and who has already been told: what an escalation
message says to a director or the chief executive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.briefings.states import LIVE
from bot.decisions.rules import member_rank
from bot.store.models import Briefing, Nudge, NudgeStatus

# The ladder's escalation messages, by the name of the step that sends them.
ESCALATION_KINDS = frozenset({"director", "chief_executive"})


@dataclass(frozen=True)
class Told:
    """One message already sent about the decision's briefings: to whom, which step, when."""

    email: str
    kind: str
    at: datetime


@dataclass(frozen=True)
class EscalationContext:
    waiting: tuple[Briefing, ...]  # the portfolio holder first, then the leader, then wards
    told: tuple[Told, ...]  # oldest first


def escalation_context(session: Session, decision_id: int) -> EscalationContext:
    """Every member still waiting on the decision, and the ladder messages already sent."""
    briefings = list(
        session.scalars(select(Briefing).where(col(Briefing.decision_id) == decision_id))
    )
    waiting = sorted(
        (b for b in briefings if b.state in LIVE),
        key=lambda b: (member_rank(b.reasons), b.due_at, b.member_email),
    )
    ids = [b.id for b in briefings]
    told: list[Told] = []
    if ids:
        for email, kind, sent_at in session.execute(
            select(col(Nudge.recipient_email), col(Nudge.kind), col(Nudge.sent_at))
            .where(col(Nudge.briefing_id).in_(ids), col(Nudge.status) == NudgeStatus.SENT)
            .order_by(col(Nudge.sent_at))
        ):
            if sent_at is not None:
                told.append(Told(email, kind, sent_at))
    return EscalationContext(tuple(waiting), tuple(told))
