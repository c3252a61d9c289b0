"""An officer's briefings on one decision, together: what their one card about it lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.delivery.ports import MessageKind
from bot.store.models import Briefing


def is_briefer_step(ladder: list[dict[str, Any]], kind: str) -> bool:
    """Whether a message of this kind is one of the briefer's own prompts or reminders: drawn
    as one card per decision. Messages about one event (a hand-over, a member's reply, a
    change) stay about their one briefing."""
    return kind == MessageKind.PROMPT or any(
        step["name"] == kind and step["recipient"] == "briefer" for step in ladder
    )


def on_decisions(session: Session, decision_ids: Collection[int]) -> dict[int, list[Briefing]]:
    """Every briefing on these decisions, in id order, by decision (one query)."""
    found: dict[int, list[Briefing]] = defaultdict(list)
    if not decision_ids:
        return found
    for briefing in session.scalars(
        select(Briefing)
        .where(col(Briefing.decision_id).in_(sorted(decision_ids)))
        .order_by(col(Briefing.id))
    ):
        found[briefing.decision_id].append(briefing)
    return found


def briefed_by(briefings: Collection[Briefing], email: str) -> list[Briefing]:
    """Those of a decision's briefings this officer is asked to give, in id order."""
    return sorted((b for b in briefings if b.briefer_email == email), key=lambda b: b.id or 0)
