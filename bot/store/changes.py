"""Which decisions changed since the last sweep (issue 15).

Every write of what a sweep reads of a decision (its content, date, status, presence) stamps
the row with the next value of the `decision` change counter. A sweep remembers the counter's
value it started from, its day and its context (directory and rules); the next sweep on the
same day in the same context then reads only the rows stamped since. The first sweep of a day,
or after the directory or the rules changed, reads every row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, event, func, inspect, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from bot.store.models import ChangeCounter, Decision, SweepState, table_of

DECISIONS = "decision"
# What a sweep's fingerprint of a decision is made of (bot/briefings/reconcile.py), and the
# fingerprint itself: clearing it is how other code asks for an item to be swept again.
SWEPT_INPUTS = (
    "content_hash",
    "decision_due",
    "status",
    "missing_since",
    "first_published",
    "swept_fingerprint",
)


def next_change_seq(connection: Connection, name: str = DECISIONS) -> int:
    """Take the next value of a change counter (in the caller's transaction)."""
    table = table_of(ChangeCounter)
    taken = connection.execute(
        update(table)
        .where(table.c.name == name)
        .values(value=table.c.value + 1)
        .returning(table.c.value)
    ).scalar()
    if taken is None:
        # The first change of this kind: start the counter after whatever rows already hold.
        start = connection.execute(select(_max_seq())).scalar() or 0
        connection.execute(table.insert().values(name=name, value=start + 1))
        taken = start + 1
    return int(taken)


def current_change_seq(session: Session, name: str = DECISIONS) -> int:
    """The counter's committed value: every change numbered up to it is visible now."""
    value = session.execute(
        select(col(ChangeCounter.value)).where(col(ChangeCounter.name) == name)
    ).scalar()
    if value is None:
        return int(session.execute(select(_max_seq())).scalar() or 0)
    return int(value)


def _max_seq() -> Any:
    return func.max(col(Decision.change_seq))


@event.listens_for(OrmSession, "before_flush")
def _stamp_changed_decisions(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Decisions written through model objects are stamped too (plain-table writers, such as
    the importer, stamp their rows themselves)."""
    touched = [obj for obj in session.new if isinstance(obj, Decision)] + [
        obj for obj in session.dirty if isinstance(obj, Decision) and _inputs_changed(obj)
    ]
    if not touched:
        return
    seq = next_change_seq(session.connection())
    for obj in touched:
        obj.change_seq = seq


def _inputs_changed(obj: Decision) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in SWEPT_INPUTS)


@dataclass(frozen=True)
class SweepScope:
    """The rows a sweep must look at, and what to remember once it has."""

    context: str
    today: date
    seq: int  # the counter's value when the sweep started
    where: tuple[ColumnElement[bool], ...]  # empty: every row

    @property
    def everything(self) -> bool:
        return not self.where


def sweep_scope(session: Session, *, context: str, today: date) -> SweepScope:
    """What has to be looked at since the last sweep recorded by `remember_sweep`: on the
    same day and in the same context, only the rows stamped since; otherwise every row (a new
    day moves items past their dates and into the horizon, and once a day every row is read
    anyway, which also catches a hand edit that stamped nothing)."""
    seq = current_change_seq(session)
    last = session.get(SweepState, 1)
    if last is None or last.context != context or last.swept_day != today:
        return SweepScope(context, today, seq, ())
    return SweepScope(context, today, seq, (col(Decision.change_seq) > last.swept_seq,))


def remember_sweep(session: Session, scope: SweepScope, retry: Collection[int] = ()) -> None:
    """Record that every row in scope has been swept, but for `retry` (decisions the sweep
    could not assess): they are stamped anew, so the next sweep reads them again."""
    if retry:
        table = table_of(Decision)
        seq = next_change_seq(session.connection())
        session.execute(update(table).where(table.c.id.in_(sorted(retry))).values(change_seq=seq))
    state = session.get(SweepState, 1)
    if state is None:
        state = SweepState(id=1)
        session.add(state)
    state.context = scope.context
    state.swept_day = scope.today
    state.swept_seq = scope.seq
