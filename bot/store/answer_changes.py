"""A counter that moves with every change an answer reads made through model objects (issue 15).

Answers are shared while the data's version holds (`bot/views/shared_rows.py`). A transaction
that wrote a briefing, a decision or the status read model's record through model objects (an
action, a state set with no audit, the read model rebuilt after a sweep) takes the next value of
the `answers` change counter as it commits, so readers read one row where they used to sum the
read model's counts (most of a millisecond at 100k decisions). Taken last, in the writer's own
transaction: the row is held only while the writer commits, and a writer holding it never waits
for another row, so it cannot deadlock with the audit head or the decision counter on
PostgreSQL. Plain-table writers (the importer, the sweep's bulk writes) move other parts of the
version: the decision change counter, the sweep's record, the newest briefing.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction

from bot.store.changes import next_change_seq
from bot.store.models import Briefing, Decision, StatusModel

ANSWERS = "answers"
# What answers read, when written through model objects.
WATCHED = (Briefing, Decision, StatusModel)
_CHANGED = "answers_changed"


def _touched(session: OrmSession) -> bool:
    return any(
        isinstance(obj, WATCHED) for obj in chain(session.new, session.dirty, session.deleted)
    )


@event.listens_for(OrmSession, "before_flush")
def _note_changes(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Remember that this transaction wrote something answers read (counted at commit)."""
    if not session.info.get(_CHANGED) and _touched(session):
        session.info[_CHANGED] = True


@event.listens_for(OrmSession, "before_commit")
def _count_changes(session: OrmSession) -> None:
    """Take the counter's next value as the whole transaction commits, if it changed anything
    (not as a savepoint is released: the sweep releases one per item it rewrites)."""
    if session.in_nested_transaction():
        return
    # What the commit would flush next is flushed here first, so its changes are noted too.
    session.flush()
    if session.info.pop(_CHANGED, False):
        next_change_seq(session.connection(), ANSWERS)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_changes(session: OrmSession, transaction: SessionTransaction) -> None:
    """The whole transaction is over (committed and counted, or rolled back): nothing is
    pending. A savepoint rolled back leaves what came before it noted."""
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)
