"""The audit log: append-only events chained by SHA-256, verifiable and exportable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from bot.csvwrite import write_csv
from bot.store.models import AuditEvent, AuditHead, table_of
from bot.timeutil import as_utc

GENESIS = "0" * 64


@dataclass(frozen=True)
class EventData:
    """What happened, to what, by whom, and why."""

    action: str
    at: datetime
    actor_email: str = ""
    on_behalf_of: str = ""
    platform: str = ""
    outcome: str = "done"
    decision_ref: str = ""
    briefing_id: int | None = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _canonical(seq: int, prev_hash: str, event: dict[str, Any]) -> bytes:
    body = {
        "seq": seq,
        "prev_hash": prev_hash,
        "at": as_utc(event["at"]).isoformat(timespec="microseconds"),
        "actor_email": event["actor_email"],
        "on_behalf_of": event["on_behalf_of"],
        "platform": event["platform"],
        "action": event["action"],
        "outcome": event["outcome"],
        "decision_ref": event["decision_ref"],
        "briefing_id": event["briefing_id"],
        "reason": event["reason"],
        "details": event["details"],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _row(event: EventData) -> dict[str, Any]:
    return {
        "at": as_utc(event.at),
        "actor_email": event.actor_email,
        "on_behalf_of": event.on_behalf_of,
        "platform": event.platform,
        "action": event.action,
        "outcome": event.outcome,
        "decision_ref": event.decision_ref,
        "briefing_id": event.briefing_id,
        "reason": event.reason,
        # Round-trip through JSON so what is hashed is exactly what the database returns.
        "details": json.loads(json.dumps(event.details, default=str)),
    }


def append(session: Session, events: Iterable[EventData]) -> int:
    """Append events to the chain in the caller's transaction. Returns how many."""
    rows = [_row(e) for e in events]
    if not rows:
        return 0
    # Touching the head row first takes the write lock (SQLite) or row lock (PostgreSQL),
    # so concurrent writers queue here instead of forking the chain.
    touched = session.exec(
        update(AuditHead).where(col(AuditHead.id) == 1).values(seq=AuditHead.seq)
    ).rowcount
    if not touched:
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS))
    seq, prev = session.execute(
        select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1)
    ).one()
    for row in rows:
        seq += 1
        row["seq"] = seq
        row["prev_hash"] = prev
        row["hash"] = hashlib.sha256(_canonical(seq, prev, row)).hexdigest()
        prev = row["hash"]
    # A plain table insert (one executemany): the ORM's bulk path costs more per row, and a
    # sweep or an import appends thousands of events at once.
    session.execute(insert(table_of(AuditEvent)), rows)
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(seq=seq, hash=prev))
    return len(rows)


def record(session: Session, **kwargs: Any) -> None:
    """Append one event (keyword arguments of EventData)."""
    append(session, [EventData(**kwargs)])


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    problem: str = ""


def verify(session: Session) -> VerifyResult:
    """Recompute the chain; name the first row that was edited, removed or reordered."""
    prev, expected_seq, checked = GENESIS, 1, 0
    columns = [c for c in table_of(AuditEvent).columns]
    result = session.execute(select(*columns).order_by(col(AuditEvent.seq))).mappings()
    for mapping in result:
        row = dict(mapping)
        if row["seq"] != expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                row["id"],
                f"event {expected_seq} is missing (the next event found is {row['seq']})",
            )
        if row["prev_hash"] != prev:
            return VerifyResult(
                False,
                checked,
                row["seq"],
                row["id"],
                f"event {row['seq']} does not link to the event before it",
            )
        digest = hashlib.sha256(_canonical(row["seq"], prev, row)).hexdigest()
        if digest != row["hash"]:
            return VerifyResult(
                False,
                checked,
                row["seq"],
                row["id"],
                f"event {row['seq']} has been altered since it was written",
            )
        prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(
            False,
            checked,
            checked + 1,
            None,
            f"the log ends at event {checked} but {head.seq} events were written: "
            "events at the end have been removed",
        )
    return VerifyResult(True, checked)


EXPORT_COLUMNS = (
    "seq",
    "at",
    "actor_email",
    "on_behalf_of",
    "platform",
    "action",
    "outcome",
    "decision_ref",
    "briefing_id",
    "reason",
    "details",
    "prev_hash",
    "hash",
)


def export_rows(session: Session, *, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    query = select(AuditEvent).order_by(col(AuditEvent.seq))
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    for event in session.scalars(query):
        yield {
            "seq": event.seq,
            "at": as_utc(event.at).isoformat(),
            "actor_email": event.actor_email,
            "on_behalf_of": event.on_behalf_of,
            "platform": event.platform,
            "action": event.action,
            "outcome": event.outcome,
            "decision_ref": event.decision_ref,
            "briefing_id": event.briefing_id,
            "reason": event.reason,
            "details": event.details,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


def export_text(session: Session, *, since: datetime | None = None, fmt: str = "csv") -> str:
    """The log as CSV or JSON, for scrutiny and FOI requests."""
    rows = list(export_rows(session, since=since))
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False)
    return write_csv(
        EXPORT_COLUMNS,
        ({**row, "details": json.dumps(row["details"], sort_keys=True)} for row in rows),
    )
