"""Writing parsed records to the database: idempotent, with every change kept in history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from bot.decisions.facts import SOURCE_FIELDS, DecisionFacts
from bot.intake.directory_sync import Change, DirectoryChangeKind
from bot.intake.records import PersonRecord, PortfolioRecord
from bot.store import audit
from bot.store.bulk import execute_many
from bot.store.changes import next_change_seq
from bot.store.directory import PersonView, PortfolioView, fingerprint
from bot.store.models import (
    Decision,
    DecisionChange,
    DecisionStatus,
    DirectoryChange,
    DirectoryState,
    Person,
    Portfolio,
    table_of,
)

PRESENCE = "presence"
_LIST_COLUMNS = ("wards", "exempt_paragraphs")
CHUNK = 500  # ids per IN (...) list
WRITE_BATCH = 2_000  # decisions per executemany


@dataclass
class DirectoryResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    portfolios_changed: int = 0
    unchanged: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "people_added": len(self.added),
            "people_updated": len(self.updated),
            "people_removed": len(self.removed),
            "portfolios_changed": self.portfolios_changed,
            "unchanged": self.unchanged,
        }


def store_directory(
    session: Session,
    people: list[PersonRecord],
    portfolios: list[PortfolioRecord],
    *,
    now: datetime,
    actor: str = "",
) -> DirectoryResult:
    """Make the directory tables match the files exactly; unchanged input writes nothing."""
    result = DirectoryResult()
    views = {
        p.email: PersonView(
            p.email,
            p.name,
            frozenset(p.roles),
            p.job_title,
            p.directorate,
            p.wards,
            p.manager_email,
            p.channels,
            p.language,
        )
        for p in people
    }
    portfolio_views = [
        PortfolioView(p.name, p.holder_email, p.director_email, p.aliases) for p in portfolios
    ]
    new_fingerprint = fingerprint(views, portfolio_views)

    state = session.get(DirectoryState, 1)
    if state is not None and state.fingerprint == new_fingerprint:
        result.unchanged = True
        return result

    existing = {p.email: p for p in session.scalars(select(Person))}
    history: list[Change] = []
    for record in people:
        values: dict[str, Any] = {
            "name": record.name,
            "roles": list(record.roles),
            "job_title": record.job_title,
            "directorate": record.directorate,
            "wards": list(record.wards),
            "manager_email": record.manager_email,
            "channels": list(record.channels),
            "language": record.language,
        }
        row = existing.pop(record.email, None)
        if row is None:
            session.add(Person(email=record.email, **values))
            result.added.append(record.email)
            history.append(Change(DirectoryChangeKind.ADDED, record.email, record.name))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                if getattr(row, key) != value:
                    history.append(
                        Change(
                            DirectoryChangeKind.DETAILS,
                            record.email,
                            record.name,
                            f"{key}: {_text(getattr(row, key))}",
                            f"{key}: {_text(value)}",
                        )
                    )
                setattr(row, key, value)
            result.updated.append(record.email)
    for email, row in existing.items():
        session.delete(row)
        result.removed.append(email)
        history.append(Change(DirectoryChangeKind.LEFT, email, row.name))

    existing_portfolios = {p.name: p for p in session.scalars(select(Portfolio))}
    for portfolio in portfolios:
        portfolio_values: dict[str, Any] = {
            "holder_email": portfolio.holder_email,
            "director_email": portfolio.director_email,
            "aliases": list(portfolio.aliases),
        }
        portfolio_row = existing_portfolios.pop(portfolio.name, None)
        if portfolio_row is None:
            session.add(Portfolio(name=portfolio.name, **portfolio_values))
            result.portfolios_changed += 1
        elif any(getattr(portfolio_row, k) != v for k, v in portfolio_values.items()):
            for key, value in portfolio_values.items():
                setattr(portfolio_row, key, value)
            result.portfolios_changed += 1
    for stale_portfolio in existing_portfolios.values():
        session.delete(stale_portfolio)
        result.portfolios_changed += 1

    if state is None:
        state = DirectoryState(id=1)
        session.add(state)
    state.fingerprint = new_fingerprint
    session.add_all(
        DirectoryChange(
            changed_at=now,
            source="csv",
            kind=c.kind.value,
            email=c.email,
            name=c.name,
            old_value=c.old,
            new_value=c.new,
        )
        for c in history
    )
    state.updated_at = now
    audit.record(
        session,
        action="directory_imported",
        at=now,
        actor_email=actor,
        platform="cli",
        details=result.as_dict(),
    )
    return result


@dataclass
class DecisionsResult:
    created: list[str] = field(default_factory=list)
    changed: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    unchanged: int = 0
    disappeared: list[str] = field(default_factory=list)

    @property
    def wrote_anything(self) -> bool:
        return bool(self.created or self.changed or self.disappeared)

    def as_dict(self) -> dict[str, object]:
        return {
            "created": len(self.created),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "disappeared": len(self.disappeared),
            "changes": {
                ref: [{"field": f, "old": o, "new": n} for f, o, n in changes]
                for ref, changes in self.changed.items()
            },
        }


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def _insert_defaults() -> dict[str, Any]:
    """Every Decision column an import does not set, at the model's default: a plain table
    insert has no model to fill them in."""
    defaults: dict[str, Any] = {}
    for name, info in Decision.model_fields.items():
        if name != "id" and not info.is_required():
            defaults[name] = info.get_default(call_default_factory=True)
    return defaults


def _source_columns(row_ids: list[int], session: Session) -> dict[int, dict[str, Any]]:
    """The stored source fields of these decisions, by id."""
    table = table_of(Decision)
    columns = [table.c[name] for name in SOURCE_FIELDS if name != "ref"]
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(row_ids), CHUNK):
        chunk = row_ids[start : start + CHUNK]
        for row in session.execute(select(table.c.id, *columns).where(table.c.id.in_(chunk))):
            values = row._asdict()
            found[values.pop("id")] = values
    return found


def _forget_loaded_decisions(session: Session) -> None:
    """Decisions the session already holds are re-read after the plain-table writes below."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Decision):
            session.expire(obj)


def store_decisions(
    session: Session,
    records: Iterable[DecisionFacts],
    *,
    source: str,
    now: datetime,
    complete: bool = True,
    actor: str = "",
) -> DecisionsResult:
    """Create new items, record every field change, and (for a complete list) note items that
    disappeared from the source. Re-importing the same data writes nothing.

    Writes go through plain table inserts and updates, one executemany each, with each
    record's fields worked out once: building validated model objects for every row was
    nine tenths of an import's time (issue 15)."""
    result = DecisionsResult()
    table = table_of(Decision)
    records = list(records)
    existing: dict[str, _Stored] = {
        row.ref: _Stored(row.id, row.content_hash, row.missing_since, row.source, row.status)
        for row in session.execute(
            select(
                table.c.id,
                table.c.ref,
                table.c.content_hash,
                table.c.missing_since,
                table.c.source,
                table.c.status,
            )
        )
    }
    # First the known items' digests, so only those that changed have their old values read.
    hashes: dict[str, str] = {}
    for record in records:
        stored = existing.get(record.ref)
        if stored is not None:
            hashes[record.ref] = record.content_hash()
    old_values = _source_columns(
        [
            existing[ref].id
            for ref, digest in hashes.items()
            if digest != existing[ref].content_hash or existing[ref].missing_since is not None
        ],
        session,
    )

    defaults = _insert_defaults()
    lists: dict[tuple[str, ...], list[str]] = {}
    writes = _Writes(session)
    inserts, updates, changes = writes.inserts, writes.updates, writes.changes
    events = writes.events
    seen: set[str] = set()
    for record in records:
        if len(inserts) + len(updates) >= WRITE_BATCH:
            writes.flush()
        seen.add(record.ref)
        stored = existing.get(record.ref)
        if stored is None:
            values = record.comparable()
            for name in _LIST_COLUMNS:
                # One list object per distinct list (a few hundred ward lists across a plan):
                # each is encoded once when the batch is written (bot/store/bulk.py).
                values[name] = lists.setdefault(tuple(values[name]), values[name])
            inserts.append(
                {
                    **defaults,
                    **values,
                    "source": source,
                    "content_hash": record.content_hash(values),
                    "first_seen_at": now,
                    "updated_at": now,
                }
            )
            result.created.append(record.ref)
            events.append(
                audit.EventData(
                    action="decision_added",
                    at=now,
                    actor_email=actor,
                    platform=source,
                    decision_ref=record.ref,
                )
            )
            continue
        content_hash = hashes[record.ref]
        returned = stored.missing_since is not None
        if stored.content_hash == content_hash and not returned:
            result.unchanged += 1
            continue
        values = record.comparable()
        del values["ref"]
        old = old_values[stored.id]
        field_changes = [
            (name, _text(old[name]), _text(value))
            for name, value in values.items()
            if _text(old[name]) != _text(value)
        ]
        if returned:
            field_changes.append((PRESENCE, "missing from source", "listed"))
        updates.append(
            {
                **values,
                "row_id": stored.id,
                "content_hash": content_hash,
                "source": source,
                "updated_at": now,
                "missing_since": None,
            }
        )
        if not field_changes:
            continue
        result.changed[record.ref] = field_changes
        changes += [
            {
                "decision_id": stored.id,
                "field": f,
                "old_value": o,
                "new_value": n,
                "changed_at": now,
                "source": source,
            }
            for f, o, n in field_changes
        ]
        events.append(
            audit.EventData(
                action="decision_changed",
                at=now,
                actor_email=actor,
                platform=source,
                decision_ref=record.ref,
                details={
                    "changes": [{"field": f, "old": o, "new": n} for f, o, n in field_changes]
                },
            )
        )
    missing = writes.missing
    if complete:
        for ref, stored in existing.items():
            if ref in seen or stored.source != source or stored.missing_since is not None:
                continue
            if stored.status == DecisionStatus.WITHDRAWN:
                continue
            missing.append({"row_id": stored.id, "missing_since": now, "updated_at": now})
            result.disappeared.append(ref)
            changes.append(
                {
                    "decision_id": stored.id,
                    "field": PRESENCE,
                    "old_value": "listed",
                    "new_value": "missing from source",
                    "changed_at": now,
                    "source": source,
                }
            )
            events.append(
                audit.EventData(
                    action="decision_disappeared",
                    at=now,
                    actor_email=actor,
                    platform=source,
                    decision_ref=ref,
                )
            )
    writes.flush()
    return result


class _Writes:
    """An import's writes, sent a batch at a time so a large plan is never held as row dicts
    all at once; audit events go with their batch, so the log keeps the file's order."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.missing: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        self.events: list[audit.EventData] = []

    _seq: int | None = None

    def flush(self) -> None:
        session, table = self.session, table_of(Decision)
        by_id = table.c.id == bindparam("row_id")
        if self.inserts or self.updates or self.missing:
            # One stamp for the whole import: the sweep looks at rows stamped since its last.
            if self._seq is None:
                self._seq = next_change_seq(session.connection())
            for row in (*self.inserts, *self.updates, *self.missing):
                row["change_seq"] = self._seq
        if self.inserts:
            execute_many(session, insert(table), self.inserts)
        if self.updates:
            execute_many(session, update(table).where(by_id), self.updates)
        if self.missing:
            execute_many(session, update(table).where(by_id), self.missing)
        if self.changes:
            execute_many(session, insert(table_of(DecisionChange)), self.changes)
        if self.inserts or self.updates or self.missing:
            _forget_loaded_decisions(session)
        audit.append(session, self.events)
        for batch in (self.inserts, self.updates, self.missing, self.changes, self.events):
            batch.clear()


class _Stored(NamedTuple):
    """What an import needs to know of a stored decision to tell whether it changed."""

    id: int
    content_hash: str
    missing_since: datetime | None
    source: str
    status: str
