"""The outbox: every message is a row, claimed atomically, sent once, in working hours.

Claims are a conditional UPDATE keyed by a per-batch token (plus `FOR UPDATE SKIP LOCKED` on
PostgreSQL), so any number of deliverers can run against one database and each message is
sent by exactly one of them. A claim carries a heartbeat that its process refreshes while it
lives; a message whose heartbeat has gone stale is back in the queue, marked in doubt (it may
have been posted before its process died), so its platform is asked before it is sent again.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import TextualSelect, bindparam, func, insert, select, text, update
from sqlmodel import Session, col

from bot.decisions.calendar import CouncilCalendar
from bot.store.bulk import execute_many
from bot.store.models import Nudge, NudgeStatus, table_of

if TYPE_CHECKING:
    from bot.store.models import Briefing

CLAIM_TIMEOUT = timedelta(seconds=30)


def enqueue(
    session: Session,
    *,
    recipient: str,
    kind: str,
    key: str,
    send_at: datetime,
    calendar: CouncilCalendar,
    briefing: Briefing | None = None,
    card: dict[str, Any] | None = None,
    per_briefing: bool = True,
) -> Nudge | None:
    """Queue a message unless one with the same dedupe key exists; it waits for working hours.

    Keys are scoped to the briefing unless `per_briefing` is False (the caller's key is whole).
    """
    dedupe_key = f"b{briefing.id}:{key}" if briefing is not None and per_briefing else key
    if session.scalar(select(col(Nudge.id)).where(col(Nudge.dedupe_key) == dedupe_key)) is not None:
        return None
    nudge = Nudge(
        recipient_email=recipient,
        briefing_id=briefing.id if briefing is not None else None,
        kind=kind,
        card=card or {},
        send_at=calendar.next_working_moment(send_at),
        dedupe_key=dedupe_key,
        created_at=send_at,
    )
    session.add(nudge)
    return nudge


class Identified(Protocol):
    """A briefing as a batch of messages needs it: a model object or a plain row."""

    @property
    def id(self) -> int | None: ...


class OutboxBatch:
    """Many messages queued at once (a sweep's escalations): one look-up of existing keys and
    one insert, instead of a query and a flush per message. Same rules as `enqueue`."""

    def __init__(self, session: Session, calendar: CouncilCalendar) -> None:
        self.session = session
        self.calendar = calendar
        self.rows: dict[str, dict[str, Any]] = {}
        # When a message queued at a moment goes out: one moment for a whole tick's messages.
        self.send_times: dict[datetime, datetime] = {}

    def add(
        self,
        *,
        recipient: str,
        kind: str,
        key: str,
        send_at: datetime,
        briefing: Identified | None = None,
        card: dict[str, Any] | None = None,
        per_briefing: bool = True,
    ) -> None:
        dedupe_key = f"b{briefing.id}:{key}" if briefing is not None and per_briefing else key
        goes_out = self.send_times.get(send_at)
        if goes_out is None:
            goes_out = self.send_times[send_at] = self.calendar.next_working_moment(send_at)
        self.rows.setdefault(
            dedupe_key,
            {
                "recipient_email": recipient,
                "briefing_id": briefing.id if briefing is not None else None,
                "kind": kind,
                "card": card or {},
                "send_at": goes_out,
                "dedupe_key": dedupe_key,
                "status": NudgeStatus.PENDING.value,
                "attempts": 0,
                "claimed_by": "",
                "platform": "",
                "last_error": "",
                "created_at": send_at,
            },
        )

    def flush(self) -> int:
        """Insert the messages not already queued. Returns how many were new."""
        keys = list(self.rows)
        existing: set[str] = set()
        with self.session.no_autoflush:
            for start in range(0, len(keys), 500):
                existing.update(
                    self.session.scalars(
                        select(col(Nudge.dedupe_key)).where(
                            col(Nudge.dedupe_key).in_(keys[start : start + 500])
                        )
                    )
                )
        new = [row for key, row in self.rows.items() if key not in existing]
        if new:
            execute_many(self.session, insert(table_of(Nudge)), new)
        self.rows.clear()
        return len(new)


def release_stale(
    session: Session,
    *,
    now: datetime,
    timeout: timedelta = CLAIM_TIMEOUT,
    keep: Collection[int] = (),
) -> int:
    """Put back in the queue, in doubt, the messages of processes whose heartbeat stopped.

    `keep`: the caller's own messages in flight (its heartbeat may have lapsed in an outage;
    it is still sending them, and checks they are still its own before it does).
    """
    statement = update(Nudge).where(
        col(Nudge.status) == NudgeStatus.SENDING,
        func.coalesce(col(Nudge.heartbeat_at), col(Nudge.claimed_at)) < now - timeout,
    )
    if keep:
        statement = statement.where(col(Nudge.id).not_in(sorted(keep)))
    released = session.execute(
        statement.values(status=NudgeStatus.PENDING, claimed_by="", in_doubt=True)
    )
    return int(getattr(released, "rowcount", 0) or 0)


def renew(session: Session, *, nudge_id: int, token: str, now: datetime) -> bool:
    """Refresh one claim's heartbeat if it is still this claim's; False if it was taken."""
    renewed = session.execute(
        update(Nudge)
        .where(
            col(Nudge.id) == nudge_id,
            col(Nudge.claimed_by) == token,
            col(Nudge.status) == NudgeStatus.SENDING,
        )
        .values(heartbeat_at=now)
    )
    return int(getattr(renewed, "rowcount", 0) or 0) == 1


def heartbeat(session: Session, *, claims: Mapping[int, str], now: datetime) -> set[int]:
    """Say this process is still sending these messages (id → claim token); returns the ids
    still claimed as they were (one taken over after a lapse is not among them)."""
    if not claims:
        return set()
    renewed = session.execute(
        update(Nudge)
        .where(
            col(Nudge.id).in_(sorted(claims)),
            col(Nudge.claimed_by).in_(sorted(set(claims.values()))),
            col(Nudge.status) == NudgeStatus.SENDING,
        )
        .values(heartbeat_at=now)
        .returning(col(Nudge.id), col(Nudge.claimed_by))
    ).all()
    return {row.id for row in renewed if claims.get(row.id) == row.claimed_by}


@dataclass(frozen=True)
class Claimed:
    """A message this worker has claimed: what drawing and sending it needs."""

    id: int
    recipient_email: str
    briefing_id: int | None
    kind: str
    card: dict[str, Any]
    send_at: datetime
    dedupe_key: str
    attempts: int
    claimed_by: str
    in_doubt: bool


CLAIMED_COLUMNS = tuple(f.name for f in fields(Claimed))
_claim_statements: dict[str, TextualSelect] = {}


def _claim_statement(dialect: str) -> TextualSelect:
    """One UPDATE … RETURNING that takes the next due messages (built once per dialect)."""
    if dialect not in _claim_statements:
        # Rows another deliverer holds are skipped, not waited for.
        lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
        nudges = table_of(Nudge)
        _claim_statements[dialect] = (
            text(
                f"UPDATE nudge SET status = '{NudgeStatus.SENDING.value}', claimed_by = :token, "
                "claimed_at = :now, heartbeat_at = :now WHERE id IN ("
                f"SELECT id FROM nudge WHERE status = '{NudgeStatus.PENDING.value}' "
                f"AND send_at <= :now ORDER BY send_at, id LIMIT :limit{lock}) "
                f"RETURNING {', '.join(CLAIMED_COLUMNS)}"
            )
            .bindparams(bindparam("now", type_=nudges.c.send_at.type))
            .columns(*(nudges.c[name] for name in CLAIMED_COLUMNS))
        )
    return _claim_statements[dialect]


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    limit: int,
    timeout: timedelta = CLAIM_TIMEOUT,
    release: bool = True,
) -> list[Claimed]:
    """Atomically take up to `limit` due messages for this worker, in id order.

    `release`: first put back the messages of processes whose heartbeat stopped.
    """
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    if release:
        release_stale(session, now=now, timeout=timeout)
    dialect = session.get_bind().dialect.name
    # On the session's connection (Core): the ORM's handling of a statement is most of a
    # claim's cost in this process, and these rows are plain values. Flushed first, as a
    # statement through the session would be.
    if session.autoflush:
        session.flush()
    rows = (
        session.connection()
        .execute(_claim_statement(dialect), {"token": token, "now": now, "limit": limit})
        .all()
    )
    session.commit()
    return sorted((Claimed(**row._mapping) for row in rows), key=lambda c: c.id)


def retry_delay(attempts: int, *, base: float, cap: float, retry_after: float | None) -> float:
    """Exponential backoff with jitter, never sooner than the platform's Retry-After."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    delay = delay * (0.5 + random.random() / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
