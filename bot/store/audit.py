"""The audit log: append-only events chained by SHA-256, verifiable and exportable.

The head row (newest seq and hash) is a signed checkpoint: an HMAC under NOSURPRISES_AUDIT_KEY,
a key kept in the environment and never in the database, so a tail cut off together with a
rewritten head shows. A deleted head is rebuilt at the next write and the chain records that it
happened; `audit verify --expect HASH` checks the log against a head copied out of the database
(printed by `audit verify`, `audit export` and the chief executive's weekly digest).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from types import MappingProxyType
from typing import Any, NamedTuple

from sqlalchemy import Insert, insert, select, update
from sqlmodel import Session, col

from bot.csvwrite import write_csv
from bot.store.bulk import execute_columns, execute_many
from bot.store.models import AuditEvent, AuditHead, table_of
from bot.timeutil import as_utc

GENESIS = "0" * 64
AUDIT_KEY_ENV = "NOSURPRISES_AUDIT_KEY"
# Written into the chain when append finds the head gone or its signature wrong: the chain
# itself then keeps the evidence, and verify names it.
HEAD_MISSING = "audit_head_missing"
HEAD_SIGNATURE_WRONG = "audit_head_signature_wrong"
INCIDENTS = (HEAD_MISSING, HEAD_SIGNATURE_WRONG)
# A head copied out of the database may be shortened, as the digest shows it, to this many.
SHORT_HASH = 16
log = logging.getLogger(__name__)


def audit_key() -> bytes | None:
    """The checkpoint key from the environment (None when unset). Never logged or stored."""
    key = os.environ.get(AUDIT_KEY_ENV, "")
    return key.encode() if key else None


def sign_head(key: bytes | None, seq: int, head_hash: str) -> str:
    """The checkpoint: HMAC-SHA256 over the chain's count and head hash ("" with no key)."""
    if key is None:
        return ""
    return hmac.new(key, f"{seq}:{head_hash}".encode(), hashlib.sha256).hexdigest()


class EventData(NamedTuple):
    """What happened, to what, by whom, and why.

    Immutable like a frozen dataclass, and made in a third of the time: a sweep makes one for
    each of a hundred thousand new briefings."""

    action: str
    at: datetime
    actor_email: str = ""
    on_behalf_of: str = ""
    platform: str = ""
    outcome: str = "done"
    decision_ref: str = ""
    briefing_id: int | None = None
    reason: str = ""
    # Read-only: one empty mapping is shared by every event without details.
    details: Mapping[str, Any] = MappingProxyType({})


# One encoder for every event: json.dumps with options builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# The C encoder `_CANONICAL.encode` builds afresh on every call, built once (a third of the
# cost of encoding a sweep event's details). Without a check for circular references, so
# threads can share it: it only encodes flat details, or values read back from JSON.
_CANONICAL_CHUNKS = (
    c_make_encoder(None, _CANONICAL.default, encode_basestring, None, ":", ",", True, False, True)
    if c_make_encoder is not None
    else None
)


def _canonical_text(value: dict[str, Any]) -> str:
    """`value` as canonical JSON: sorted keys, no spaces, text as it is (not \\u escapes)."""
    if _CANONICAL_CHUNKS is None:
        return _CANONICAL.encode(value)
    return "".join(_CANONICAL_CHUNKS(value, 0))


# The canonical form with its keys in sorted order, each value JSON-encoded as the encoder
# above would: for the common event, a format string costs a third of building the dict.
_CANONICAL_FORM = (
    '{"action":%s,"actor_email":%s,"at":%s,"briefing_id":%s,"decision_ref":%s,"details":%s,'
    '"on_behalf_of":%s,"outcome":%s,"platform":%s,"prev_hash":%s,"reason":%s,"seq":%d}'
)


# A sweep's thousands of events share one time: its text is worked out once.
@lru_cache(maxsize=256)
def _at_text(at: datetime) -> str:
    return as_utc(at).isoformat(timespec="microseconds")


def _canonical(
    seq: int, prev_hash: str, event: dict[str, Any], details: str | None = None
) -> bytes:
    """The bytes an event's hash is taken over: its fields and link as canonical JSON.
    `details`: the event's details already in canonical form (`details_text`), if known."""
    at = _at_text(event["at"])
    briefing_id = event["briefing_id"]
    if type(seq) is int and (briefing_id is None or type(briefing_id) is int):
        text = encode_basestring
        try:
            return (
                _CANONICAL_FORM
                % (
                    text(event["action"]),
                    text(event["actor_email"]),
                    text(at),
                    "null" if briefing_id is None else str(briefing_id),
                    text(event["decision_ref"]),
                    # Empty details (or none at all) hash as "{}", as they always have.
                    details
                    if details is not None
                    else (_canonical_text(event["details"]) if event["details"] else _NO_DETAILS),
                    text(event["on_behalf_of"]),
                    text(event["outcome"]),
                    text(event["platform"]),
                    text(prev_hash),
                    text(event["reason"]),
                    seq,
                )
            ).encode()
        except TypeError:
            pass  # a field that is not text: the general form below
    return _canonical_json(seq, prev_hash, event, at, details)


def _canonical_json(
    seq: int, prev_hash: str, event: dict[str, Any], at: str, details: str | None
) -> bytes:
    body = {
        "seq": seq,
        "prev_hash": prev_hash,
        "at": at,
        "actor_email": event["actor_email"],
        "on_behalf_of": event["on_behalf_of"],
        "platform": event["platform"],
        "action": event["action"],
        "outcome": event["outcome"],
        "decision_ref": event["decision_ref"],
        "briefing_id": event["briefing_id"],
        "reason": event["reason"],
        # Rare (a field that is not text): the details' text read back into their value.
        "details": event["details"] if details is None else json.loads(details),
    }
    return _CANONICAL.encode(body).encode()


# Values JSON gives back exactly as they went in (floats can come back changed, e.g. nan).
_PLAIN_TYPES = frozenset((str, int, bool, type(None)))
_TEXT = frozenset((str,))
_NO_DETAILS = "{}"


def details_text(details: Mapping[str, Any]) -> str:
    """Details as they are hashed and stored, in one encoding: canonical JSON (sorted keys,
    compact). A flat dict of plain values is encoded as it is; anything else as JSON gives it
    back (a tuple as a list, a datetime as its text), so what is hashed is what is read."""
    if not details:
        return _NO_DETAILS
    if type(details) is not dict:
        details = dict(details)  # the encoders take only a dict
    # Every key text and every value plain, checked in C (map, issuperset), not a generator.
    if _TEXT.issuperset(map(type, details)) and _PLAIN_TYPES.issuperset(
        map(type, details.values())
    ):
        # Most events (every sweep's) carry only strings: no round trip.
        return _canonical_text(details)
    return _canonical_text(json.loads(json.dumps(details, default=str)))


def append(session: Session, events: Iterable[EventData]) -> int:
    """Append events to the chain in the caller's transaction. Returns how many."""
    pending = list(events)
    if not pending:
        return 0
    seq, prev, key, incident = _open_chain(session, at=as_utc(pending[0].at))
    if incident is not None:
        pending.insert(0, incident)
    seq, prev = _write(session, pending, seq, prev)
    _close_chain(session, key, seq, prev)
    return len(pending)


def _open_chain(
    session: Session, *, at: datetime
) -> tuple[int, str, bytes | None, EventData | None]:
    """Lock the head and read where the chain ends: (seq, hash, key, an incident to record
    first or None)."""
    # Touching the head row first takes the write lock (SQLite) or row lock (PostgreSQL),
    # so concurrent writers queue here instead of forking the chain.
    touched = session.exec(
        update(AuditHead).where(col(AuditHead.id) == 1).values(seq=AuditHead.seq)
    ).rowcount
    key = audit_key()
    if not touched:
        seq, prev, incident = _rebuild_head(session, at=at)
    else:
        seq, prev, mac = session.execute(
            select(col(AuditHead.seq), col(AuditHead.hash), col(AuditHead.mac)).where(
                col(AuditHead.id) == 1
            )
        ).one()
        incident = _check_signature(key, seq, prev, mac, at=at)
    return seq, prev, key, incident


def _close_chain(session: Session, key: bytes | None, seq: int, prev: str) -> None:
    session.execute(
        update(AuditHead)
        .where(col(AuditHead.id) == 1)
        .values(seq=seq, hash=prev, mac=sign_head(key, seq, prev))
    )


def _write(session: Session, events: list[EventData], seq: int, prev: str) -> tuple[int, str]:
    """Insert `events` after event `seq` (hash `prev`); the new end of the chain."""
    rows: list[dict[str, Any]] = []
    sha256 = hashlib.sha256
    for event in events:
        seq += 1
        row = event._asdict()
        row["seq"] = seq
        row["at"] = as_utc(event.at)
        # Stored as the very text the hash is taken over: one encoding, not two.
        row["details"] = details = details_text(event.details)
        row["prev_hash"] = prev
        prev = row["hash"] = sha256(_canonical(seq, prev, row, details)).hexdigest()
        rows.append(row)
    # A plain table insert (one executemany): the ORM's bulk path costs more per row, and a
    # sweep or an import appends thousands of events at once.
    execute_many(session, _insert_events(), rows, encoded=("details",))
    return seq, prev


@lru_cache(maxsize=1)
def _insert_events() -> Insert:
    """One statement object, so its compiled form is reused (bot/store/bulk.py)."""
    return insert(table_of(AuditEvent))


def append_alike(
    session: Session,
    *,
    action: str,
    at: datetime,
    platform: str,
    refs: Sequence[str],
    briefing_ids: Sequence[int],
    reasons: Sequence[str],
    details: Sequence[str],
) -> int:
    """Append events that share action, time and platform (a sweep's new briefings), exactly
    as `append` would write them, given a column at a time (`details` already in stored form,
    `details_text`): the shared fields are encoded once and each event's canonical text is
    one format, with no dict or tuple per event. Returns how many."""
    count = len(refs)
    if not count:
        return 0
    at = as_utc(at)
    if not all(type(b) is int for b in briefing_ids):
        return append(
            session,
            [
                EventData(
                    action=action,
                    at=at,
                    platform=platform,
                    decision_ref=ref,
                    briefing_id=briefing_id,
                    reason=reason,
                    details=json.loads(text),
                )
                for ref, briefing_id, reason, text in zip(
                    refs, briefing_ids, reasons, details, strict=True
                )
            ],
        )
    seq, prev, key, incident = _open_chain(session, at=at)
    if incident is not None:
        seq, prev = _write(session, [incident], seq, prev)
    form = _alike_form(action, at, platform)
    text = encode_basestring
    sha256 = hashlib.sha256
    first = seq + 1
    prevs: list[str] = []
    hashes: list[str] = []
    for briefing_id, ref, detail, reason in zip(briefing_ids, refs, details, reasons, strict=True):
        seq += 1
        prevs.append(prev)
        prev = sha256(
            (form % (briefing_id, text(ref), detail, prev, text(reason), seq)).encode()
        ).hexdigest()
        hashes.append(prev)
    execute_columns(
        session,
        _insert_events(),
        {
            "action": [action] * count,
            "at": [at] * count,
            "actor_email": [""] * count,
            "on_behalf_of": [""] * count,
            "platform": [platform] * count,
            "outcome": ["done"] * count,
            "decision_ref": refs,
            "briefing_id": briefing_ids,
            "reason": reasons,
            "details": details,
            "seq": range(first, seq + 1),
            "prev_hash": prevs,
            "hash": hashes,
        },
        encoded=("details",),
    )
    _close_chain(session, key, seq, prev)
    return count


@lru_cache(maxsize=32)
def _alike_form(action: str, at: datetime, platform: str) -> str:
    """The canonical form with the shared fields filled in; left to fill, in order: the
    briefing id, the reference, the details, the previous hash, the reason and the seq."""
    text = encode_basestring

    def fixed(value: str) -> str:
        return text(value).replace("%", "%%")

    return _CANONICAL_FORM.replace("%d}", "%s}") % (
        fixed(action),
        fixed(""),
        fixed(_at_text(at)),
        "%d",
        "%s",
        "%s",
        fixed(""),
        fixed("done"),
        fixed(platform),
        '"%s"',
        "%s",
        "%d",
    )


HEAD_MISSING_WHY = (
    "the chain head record was missing; the chain continues from event {seq}, the last one "
    "found. Events removed from the end before then would not show here: compare with a saved "
    "head (audit verify --expect HASH)"
)
HEAD_SIGNATURE_WRONG_WHY = (
    "the chain head (event {seq}) did not carry a valid signature: it was rewritten, or "
    "NOSURPRISES_AUDIT_KEY changed. Compare with a saved head (audit verify --expect HASH)"
)


def _check_signature(
    key: bytes | None, seq: int, head_hash: str, mac: str, *, at: datetime
) -> EventData | None:
    """The event to record if the head's signature is wrong (None when it is fine). An empty
    signature is a head written before the key was set: it is signed from now on."""
    if key is None or not mac or hmac.compare_digest(mac, sign_head(key, seq, head_hash)):
        return None
    log.warning("audit: the chain head's signature does not match; recorded in the chain")
    return EventData(
        action=HEAD_SIGNATURE_WRONG,
        at=at,
        platform="audit",
        outcome="tampering_suspected",
        reason=HEAD_SIGNATURE_WRONG_WHY.format(seq=seq),
        details={"head_seq": seq, "head_hash": head_hash},
    )


def _rebuild_head(session: Session, *, at: datetime) -> tuple[int, str, EventData | None]:
    """No head row: a new log starts at the genesis; a log with events (its head deleted) goes
    on from its last event, and says so in the chain instead of colliding on seq."""
    last = session.execute(
        select(col(AuditEvent.seq), col(AuditEvent.hash)).order_by(col(AuditEvent.seq).desc())
    ).first()
    if last is None:
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS, mac=""))
        return 0, GENESIS, None
    seq, head_hash = last
    log.warning("audit: the chain head record was missing; rebuilt and recorded in the chain")
    session.execute(insert(AuditHead).values(id=1, seq=seq, hash=head_hash, mac=""))
    return (
        seq,
        head_hash,
        EventData(
            action=HEAD_MISSING,
            at=at,
            platform="audit",
            outcome="tampering_suspected",
            reason=HEAD_MISSING_WHY.format(seq=seq),
            details={"continued_from_seq": seq},
        ),
    )


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
    # The newest event as the chain itself ends (what a copy outside the database keeps).
    head_seq: int = 0
    head_hash: str = GENESIS
    # True: signed and the signature matches; False: no key set; None: not checked (broken).
    signed: bool | None = None
    warnings: tuple[str, ...] = ()
    # With --expect: the event whose hash the saved copy names (None if not asked or not found).
    expected_seq: int | None = None


def current_head(session: Session) -> tuple[int, str] | None:
    """The head record's count and hash as stored (None when the record is missing)."""
    row = session.execute(
        select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1)
    ).first()
    return None if row is None else (row[0], row[1])


NO_KEY_WARNING = (
    "NOSURPRISES_AUDIT_KEY is not set, so the chain head is not signed: events cut from the end "
    "together with a rewritten head record would not show without a saved head (--expect)"
)


def verify(session: Session, *, expect: str | None = None) -> VerifyResult:
    """Recompute the chain; name the first row that was edited, removed or reordered; check the
    signed head; with `expect`, check that a head saved outside the database is still in it."""
    prev, expected_seq, checked = GENESIS, 1, 0
    wanted = (expect or "").strip().lower()
    if expect is not None and len(wanted) < SHORT_HASH:
        raise ValueError(f"--expect needs at least {SHORT_HASH} characters of the saved hash")
    found_expected: int | None = None
    incidents: list[tuple[int, str]] = []
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
        if row["action"] in INCIDENTS:
            incidents.append((row["seq"], row["reason"]))
        if wanted and found_expected is None and row["hash"].startswith(wanted):
            found_expected = row["seq"]
        prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    head_seq, head_hash = checked, prev

    def ended(ok: bool, problem: str = "", broken: int | None = None) -> VerifyResult:
        return VerifyResult(
            ok,
            checked,
            broken,
            None,
            problem,
            head_seq=head_seq,
            head_hash=head_hash,
            expected_seq=found_expected,
        )

    head = session.get(AuditHead, 1)
    if head is None and checked:
        return ended(
            False,
            f"the chain head record is missing: {checked} event(s) are in the log, but nothing "
            "says how many were written, so events cut from the end would not show. Compare "
            "with a saved head (audit verify --expect HASH)",
        )
    if head is not None and (head.seq != checked or head.hash != prev):
        return ended(
            False,
            f"the log ends at event {checked} but {head.seq} events were written: "
            "events at the end have been removed",
            checked + 1,
        )
    key = audit_key()
    if key is not None and checked and head is not None:
        if not head.mac:
            return ended(
                False,
                "the chain head is not signed. It is signed at the next write after "
                "NOSURPRISES_AUDIT_KEY is set; if the key was set before, the head record has "
                "been rewritten",
            )
        if not hmac.compare_digest(head.mac, sign_head(key, head.seq, head.hash)):
            return ended(
                False,
                "the chain head's signature does not match: the head record has been rewritten "
                "(events may have been cut from the end), or NOSURPRISES_AUDIT_KEY has changed",
            )
    if incidents:
        seq, why = incidents[0]
        return ended(False, f"at event {seq}, {why}", seq)
    if wanted and found_expected is None:
        return ended(
            False,
            f"the saved head {wanted[:SHORT_HASH]}… is not in the log: events up to it have "
            "been removed or rewritten",
        )
    warnings = () if key is not None else (NO_KEY_WARNING,)
    return replace(ended(True), signed=key is not None, warnings=warnings)


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
