"""Keeping the status read model true between sweeps (issue 15).

The read model (`statuscount`, `statusunbriefed`) is rebuilt after every sweep. Between sweeps:

- a briefing moving between two live-or-done states (acknowledged, briefed, snoozed, disputed,
  not needed…) is followed here, in the same flush: its count moves from the old state's row
  to the new one's, so the chief executive's answer stays fast after people act;
- any other change the model cannot follow through model objects (a briefing created, removed,
  withdrawn or revived, a new due time, a decision's date, portfolio, status, flags or
  restriction) clears `statusmodel.current`, and readers use the full path until the next
  sweep rebuilds it;
- plain-table writers (the importer, the sweep) are caught by the model's key: the sweep's
  record, the decision change counter and the newest briefing id, compared when it is read.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from bot.store.changes import DECISIONS
from bot.store.models import (
    Briefing,
    BriefingState,
    ChangeCounter,
    Decision,
    StatusCount,
    StatusModel,
    SweepState,
    table_of,
)

# What the model reads of a decision: a change to any of these cannot be followed by a delta.
DECISION_INPUTS = (
    "decision_due",
    "portfolio",
    "portfolio_holder",
    "status",
    "flags",
    "restriction",
)
# What it reads of a briefing besides its state.
BRIEFING_INPUTS = ("decision_id", "due_at")

Key = tuple[Any, ...]  # (decision_due, due_at, state, portfolio, portfolio_holder)


def _fact_columns() -> tuple[Any, ...]:
    """What a change the hook cannot see would move: the sweep's record, the decision change
    counter (or, before its first use, the highest stamp) and the newest briefing id."""
    sweeps, counter = table_of(SweepState), table_of(ChangeCounter)
    decisions, briefings = table_of(Decision), table_of(Briefing)
    return (
        select(sweeps.c.context).where(sweeps.c.id == 1).scalar_subquery(),
        select(sweeps.c.swept_day).where(sweeps.c.id == 1).scalar_subquery(),
        select(sweeps.c.swept_seq).where(sweeps.c.id == 1).scalar_subquery(),
        select(counter.c.value).where(counter.c.name == DECISIONS).scalar_subquery(),
        select(func.max(decisions.c.change_seq)).scalar_subquery(),
        select(func.max(briefings.c.id)).scalar_subquery(),
    )


# Built once: every question asks them, and building a statement costs more than running it.
FACTS = select(*_fact_columns())
_model = table_of(StatusModel)
MODEL_AND_FACTS = select(
    _model.c.current, _model.c.first_day, _model.c.last_day, _model.c.key, *_fact_columns()
).where(_model.c.id == 1)


def _key(context: str, facts: Any) -> str:
    return f"{context}|{tuple(facts)}"


def data_key(session: Session, context: str) -> str:
    """The model's key for the data as it is now in this transaction, under `context` (the
    settings and calendar its instants were worked out under)."""
    return _key(context, session.connection().execute(FACTS).one())


def is_current(session: Session, context: str, today: date) -> bool:
    """Whether the read model describes the data as it is now, and can answer for `today`."""
    found = session.connection().execute(MODEL_AND_FACTS).first()
    if found is None:
        return False
    current, first_day, last_day, key, *facts = found
    if not current or first_day is None or last_day is None:
        return False
    return first_day <= today <= last_day and key == _key(context, facts)


def _invalidate(connection: Connection) -> None:
    table = table_of(StatusModel)
    connection.execute(update(table).where(table.c.id == 1, table.c.current).values(current=False))


def _model_current(connection: Connection) -> bool:
    table = table_of(StatusModel)
    # FOR UPDATE: a rebuild and a delta never interleave (PostgreSQL; SQLite has one writer).
    found = connection.execute(
        select(table.c.current).where(table.c.id == 1).with_for_update()
    ).scalar()
    return bool(found)


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _state_move(obj: Briefing) -> tuple[str, str] | None:
    """(old, new) state of a briefing whose state changed, or None when unknown or unchanged."""
    history = inspect(obj).attrs["state"].history
    if not history.has_changes() or not history.deleted or not history.added:
        return None
    return str(history.deleted[0]), str(history.added[0])


# Set on a session that rebuilds the model before it commits (the sweep tick): following its
# changes one by one would be wasted, and on PostgreSQL would hold the model's row locked
# against everyone's actions for the whole sweep. What it changed is noted instead (MISSED),
# so the rebuild happens even when the model's key did not move.
REBUILDS = "status_model_rebuilds"
MISSED = "status_model_missed"


def will_rebuild(session: Session) -> None:
    """Say that this session rebuilds the read model before committing."""
    session.info[REBUILDS] = True


def rebuilding(session: Session) -> bool:
    """End `will_rebuild`; whether the session changed anything the model reads meanwhile."""
    session.info.pop(REBUILDS, None)
    return bool(session.info.pop(MISSED, False))


@event.listens_for(OrmSession, "before_flush")
def _follow_changes(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Move counts for state changes; clear `current` for anything else the model reads."""
    unfollowable = any(isinstance(obj, (Briefing, Decision)) for obj in session.new) or any(
        isinstance(obj, (Briefing, Decision)) for obj in session.deleted
    )
    moves: list[tuple[Briefing, str, str]] = []
    for obj in session.dirty:
        if isinstance(obj, Decision):
            unfollowable = unfollowable or _changed(obj, DECISION_INPUTS)
        elif isinstance(obj, Briefing):
            if _changed(obj, BRIEFING_INPUTS):
                unfollowable = True
                continue
            if not inspect(obj).attrs["state"].history.has_changes():
                continue
            move = _state_move(obj)
            if move is None or BriefingState.WITHDRAWN in move:
                # Withdrawn briefings are not counted, and whether an item has any live one
                # decides if it is listed as unbriefed.
                unfollowable = True
            elif move[0] != move[1]:
                moves.append((obj, *move))
    if not unfollowable and not moves:
        return
    if session.info.get(REBUILDS):
        session.info[MISSED] = True
        return
    connection = session.connection()
    if unfollowable:
        _invalidate(connection)
        return
    if _model_current(connection):
        _apply(connection, moves)


def _apply(connection: Connection, moves: list[tuple[Briefing, str, str]]) -> None:
    decisions = table_of(Decision)
    ids = sorted({b.decision_id for b, _, _ in moves})
    about = {
        row.id: (row.decision_due, row.portfolio, row.portfolio_holder)
        for row in connection.execute(
            select(
                decisions.c.id,
                decisions.c.decision_due,
                decisions.c.portfolio,
                decisions.c.portfolio_holder,
            ).where(decisions.c.id.in_(ids))
        )
    }
    deltas: Counter[Key] = Counter()
    for briefing, old, new in moves:
        decision_due, portfolio, holder = about[briefing.decision_id]
        deltas[(decision_due, briefing.due_at, old, portfolio, holder)] -= 1
        deltas[(decision_due, briefing.due_at, new, portfolio, holder)] += 1
    counts = table_of(StatusCount)
    for (decision_due, due_at, state, portfolio, holder), delta in deltas.items():
        if not delta:
            continue
        same = and_(
            counts.c.decision_due == decision_due,
            counts.c.due_at == due_at,
            counts.c.state == state,
            counts.c.portfolio == portfolio,
            counts.c.portfolio_holder == holder,
        )
        done = connection.execute(
            update(counts).where(same).values(count=counts.c.count + delta)
        ).rowcount
        if done:
            continue
        # A state this group had none in yet: its instants are the group's, whatever the state.
        sibling = (
            select(counts.c.amber_at, counts.c.red_at)
            .where(counts.c.decision_due == decision_due, counts.c.due_at == due_at)
            .limit(1)
        )
        found = connection.execute(sibling).first()
        if found is None or delta < 0:
            _invalidate(connection)
            return
        # A row of the read model's own table (a count by state), not a briefing's state.
        row = {
            "decision_due": decision_due,
            "due_at": due_at,
            "state": state,
            "portfolio": portfolio,
            "portfolio_holder": holder,
            "count": delta,
            "amber_at": found.amber_at,
            "red_at": found.red_at,
        }
        connection.execute(insert(counts), [row])
