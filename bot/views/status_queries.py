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
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, or_, select

from bot.store import tables_core
from bot.store.reads import Reads
from bot.store.reads import connection as connection


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
    person's briefings (`person`), one item (`ref`), some items (`refs`) or some briefings
    (`briefings`, read by their ids rather than all the person's) when given."""

    first: date
    last: date
    person: str = ""
    ref: str = ""
    refs: frozenset[str] | None = None  # only these items
    briefings: frozenset[int] | None = None  # only these briefings

    @property
    def narrow(self) -> bool:
        return bool(self.person or self.ref or self.refs is not None or self.briefings is not None)


def _columns(table: Any, names: tuple[str, ...]) -> list[Any]:
    """The table's columns with these names, in order."""
    return [table.c[name] for name in names]


@cache
def _statements(*, ref: bool, refs: bool, person: bool) -> tuple[Any, Any]:
    """The two reads of `window_rows` for a scope of this shape, built once with parameters:
    building a statement costs more than a narrow question's running it (issue 15)."""
    decisions, briefings = tables_core.decision, tables_core.briefing
    decision_filter: list[Any] = [
        decisions.c.decision_due >= bindparam("first"),
        decisions.c.decision_due <= bindparam("last"),
    ]
    briefing_filter = list(decision_filter)
    if ref:
        decision_filter.append(decisions.c.ref == bindparam("ref"))
        briefing_filter.append(decisions.c.ref == bindparam("ref"))
    if refs:
        decision_filter.append(decisions.c.ref.in_(bindparam("refs", expanding=True)))
        briefing_filter.append(decisions.c.ref.in_(bindparam("refs", expanding=True)))
    if person:
        # Two indexed equalities joined by OR: both SQLite and PostgreSQL answer it from the
        # indexes.
        theirs = or_(
            briefings.c.member_email == bindparam("person"),
            briefings.c.briefer_email == bindparam("person"),
        )
        decision_filter.append(decisions.c.id.in_(select(briefings.c.decision_id).where(theirs)))
        briefing_filter.append(theirs)
    return (
        select(*_columns(decisions, DecisionRow._fields)).where(*decision_filter),
        select(*_columns(briefings, BriefingRow._fields))
        .join(decisions, decisions.c.id == briefings.c.decision_id)
        .where(*briefing_filter),
    )


@cache
def _by_briefing_ids(*, ref: bool, refs: bool) -> Any:
    """Some briefings with their decisions, in one read (a page of someone's own): every
    decision's columns, then the briefing's."""
    decisions, briefings = tables_core.decision, tables_core.briefing
    chosen: list[Any] = [
        briefings.c.id.in_(bindparam("ids", expanding=True)),
        decisions.c.decision_due >= bindparam("first"),
        decisions.c.decision_due <= bindparam("last"),
    ]
    if ref:
        chosen.append(decisions.c.ref == bindparam("ref"))
    if refs:
        chosen.append(decisions.c.ref.in_(bindparam("refs", expanding=True)))
    return (
        select(*_columns(decisions, DecisionRow._fields), *_columns(briefings, BriefingRow._fields))
        .select_from(briefings.join(decisions, decisions.c.id == briefings.c.decision_id))
        .where(*chosen)
    )


_DECISION_WIDTH = len(DecisionRow._fields)


def window_rows(
    session: Reads, scope: Scope
) -> tuple[list[DecisionRow], dict[int, list[BriefingRow]]]:
    """The decisions in scope and their briefings (only the person's own, when narrowed)."""
    values: dict[str, Any] = {"first": scope.first, "last": scope.last}
    if scope.ref:
        values["ref"] = scope.ref
    if scope.refs is not None:
        values["refs"] = sorted(scope.refs)
    rows = connection(session)
    briefings: dict[int, list[BriefingRow]] = defaultdict(list)
    if scope.briefings is not None:
        # Chosen briefings: one statement by their primary keys, not one per table.
        values["ids"] = sorted(scope.briefings)
        read = _by_briefing_ids(ref=bool(scope.ref), refs=scope.refs is not None)
        found: dict[int, DecisionRow] = {}
        for row in rows.execute(read, values).all():
            b = BriefingRow._make(row[_DECISION_WIDTH:])
            if b.decision_id not in found:
                found[b.decision_id] = DecisionRow._make(row[:_DECISION_WIDTH])
            briefings[b.decision_id].append(b)
        return list(found.values()), briefings
    read_decisions, read_briefings = _statements(
        ref=bool(scope.ref), refs=scope.refs is not None, person=bool(scope.person)
    )
    if scope.person:
        values["person"] = scope.person
    # Fetched at once (`all`): row by row costs a call through the driver for each.
    decisions = [DecisionRow._make(row) for row in rows.execute(read_decisions, values).all()]
    if not decisions:
        return decisions, briefings
    for row in rows.execute(read_briefings, values).all():
        b = BriefingRow._make(row)
        briefings[b.decision_id].append(b)
    return decisions, briefings


def _identities(among: bool) -> Any:
    identities = tables_core.chatidentity
    query = select(identities.c.email, identities.c.reachable)
    return (
        query.where(identities.c.email.in_(bindparam("among", expanding=True))) if among else query
    )


_EVERY_IDENTITY, _THESE_IDENTITIES = _identities(False), _identities(True)


def unreachable_people(session: Reads, among: set[str] | None = None) -> set[str]:
    """People no chat platform can reach (every known identity is unreachable); only those
    `among` these emails when given, which a narrow question's few people keep cheap."""
    if among is not None and not among:
        return set()
    rows = connection(session)
    found = (
        rows.execute(_EVERY_IDENTITY)
        if among is None
        else rows.execute(_THESE_IDENTITIES, {"among": sorted(among)})
    )
    reach: dict[str, bool] = defaultdict(bool)
    for email, reachable in found:
        reach[email] = reach[email] or reachable
    return {email for email, ok in reach.items() if not ok}
