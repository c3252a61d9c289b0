"""The rows a status reads, fetched as narrowly as the question allows (issue 15).

A wide question (the chief executive's at-risk list) reads every decision in its window. A
narrow one — someone's own briefings, or one item — goes to SQL through the indexes on
`briefing.member_email`, `briefing.briefer_email` and `decision.ref`, so its cost follows the
handful of rows it returns, not the size of the council.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import Session, col

from bot.store.models import Briefing, ChatIdentity, Decision


class DecisionRow(NamedTuple):
    """The decision columns status reads. Rows are copied into plain named tuples because a
    SQLAlchemy Row's attribute access is slow, and status reads each many times per row."""

    id: int
    ref: str
    title: str
    restriction: str
    exempt_paragraphs: list[str]
    decision_due: date
    status: str
    portfolio: str
    portfolio_holder: str
    directorate: str
    flags: list[dict[str, str]]
    lead_officer_email: str
    notice_type: str


class BriefingRow(NamedTuple):
    id: int
    decision_id: int
    member_email: str
    briefer_email: str
    state: str
    due_at: datetime
    version: int
    changed_since_briefed: str


@dataclass(frozen=True)
class Scope:
    """Which rows a status needs: decisions due between `first` and `last`, narrowed to one
    person's briefings (`person`), one item (`ref`) or some items (`refs`) when given."""

    first: date
    last: date
    person: str = ""
    ref: str = ""
    refs: frozenset[str] | None = None  # only these items

    @property
    def narrow(self) -> bool:
        return bool(self.person or self.ref or self.refs is not None)


def _columns(model: type, names: tuple[str, ...]) -> list[Any]:
    """The model's columns with these names, in order."""
    return [getattr(model, name) for name in names]


def _theirs(email: str) -> ColumnElement[bool]:
    # Two indexed equalities joined by OR: both SQLite and PostgreSQL answer it from the indexes.
    return or_(col(Briefing.member_email) == email, col(Briefing.briefer_email) == email)


def window_rows(
    session: Session, scope: Scope
) -> tuple[list[DecisionRow], dict[int, list[BriefingRow]]]:
    """The decisions in scope and their briefings (only the person's own, when narrowed)."""
    decision_filter: list[ColumnElement[bool]] = [
        col(Decision.decision_due) >= scope.first,
        col(Decision.decision_due) <= scope.last,
    ]
    briefing_filter: list[ColumnElement[bool]] = list(decision_filter)
    if scope.ref:
        decision_filter.append(col(Decision.ref) == scope.ref)
        briefing_filter.append(col(Decision.ref) == scope.ref)
    if scope.refs is not None:
        decision_filter.append(col(Decision.ref).in_(sorted(scope.refs)))
        briefing_filter.append(col(Decision.ref).in_(sorted(scope.refs)))
    if scope.person:
        decision_filter.append(
            col(Decision.id).in_(select(col(Briefing.decision_id)).where(_theirs(scope.person)))
        )
        briefing_filter.append(_theirs(scope.person))
    decisions = [
        DecisionRow._make(row)
        for row in session.execute(
            select(*_columns(Decision, DecisionRow._fields)).where(*decision_filter)
        )
    ]
    briefings: dict[int, list[BriefingRow]] = defaultdict(list)
    if not decisions:
        return decisions, briefings
    for row in session.execute(
        select(*_columns(Briefing, BriefingRow._fields))
        .join(Decision, col(Decision.id) == col(Briefing.decision_id))
        .where(*briefing_filter)
    ):
        b = BriefingRow._make(row)
        briefings[b.decision_id].append(b)
    return decisions, briefings


def unreachable_people(session: Session, among: set[str] | None = None) -> set[str]:
    """People no chat platform can reach (every known identity is unreachable); only those
    `among` these emails when given, which a narrow question's few people keep cheap."""
    query = select(col(ChatIdentity.email), col(ChatIdentity.reachable))
    if among is not None:
        if not among:
            return set()
        query = query.where(col(ChatIdentity.email).in_(sorted(among)))
    reach: dict[str, bool] = defaultdict(bool)
    for email, reachable in session.execute(query):
        reach[email] = reach[email] or reachable
    return {email for email, ok in reach.items() if not ok}
