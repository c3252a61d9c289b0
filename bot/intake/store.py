"""Writing parsed records to the database: idempotent, with every change kept in history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from bot.decisions.facts import DecisionFacts
from bot.intake.directory_sync import Change, DirectoryChangeKind
from bot.intake.records import PersonRecord, PortfolioRecord
from bot.store import audit
from bot.store.directory import PersonView, PortfolioView, fingerprint
from bot.store.models import (
    Decision,
    DecisionChange,
    DecisionStatus,
    DirectoryChange,
    DirectoryState,
    Person,
    Portfolio,
)

PRESENCE = "presence"


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


def _row_values(record: DecisionFacts) -> dict[str, Any]:
    values: dict[str, Any] = record.comparable()
    values.pop("ref")
    return values


def store_decisions(
    session: Session,
    records: list[DecisionFacts],
    *,
    source: str,
    now: datetime,
    complete: bool = True,
    actor: str = "",
) -> DecisionsResult:
    """Create new items, record every field change, and (for a complete list) note items that
    disappeared from the source. Re-importing the same data writes nothing."""
    result = DecisionsResult()
    existing = {d.ref: d for d in session.scalars(select(Decision))}
    changes: list[DecisionChange] = []
    events: list[audit.EventData] = []
    seen: set[str] = set()
    for record in records:
        seen.add(record.ref)
        content_hash = record.content_hash()
        row = existing.get(record.ref)
        if row is None:
            row = Decision(
                ref=record.ref,
                source=source,
                content_hash=content_hash,
                first_seen_at=now,
                updated_at=now,
                **_row_values(record),
            )
            session.add(row)
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
        returned = row.missing_since is not None
        if row.content_hash == content_hash and not returned:
            result.unchanged += 1
            continue
        field_changes: list[tuple[str, str, str]] = []
        for name, value in _row_values(record).items():
            old = getattr(row, name)
            if _text(old) != _text(value):
                field_changes.append((name, _text(old), _text(value)))
                setattr(row, name, value)
        if returned:
            field_changes.append((PRESENCE, "missing from source", "listed"))
            row.missing_since = None
        row.content_hash = content_hash
        row.source = source
        row.updated_at = now
        if not field_changes:
            continue
        result.changed[record.ref] = field_changes
        row_id = row.id
        assert row_id is not None
        changes += [
            DecisionChange(
                decision_id=row_id, field=f, old_value=o, new_value=n, changed_at=now, source=source
            )
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
    if complete:
        for ref, row in existing.items():
            if ref in seen or row.source != source or row.missing_since is not None:
                continue
            if row.status == DecisionStatus.WITHDRAWN:
                continue
            row.missing_since = now
            row.updated_at = now
            result.disappeared.append(ref)
            assert row.id is not None
            changes.append(
                DecisionChange(
                    decision_id=row.id,
                    field=PRESENCE,
                    old_value="listed",
                    new_value="missing from source",
                    changed_at=now,
                    source=source,
                )
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
    session.add_all(changes)
    session.flush()
    audit.append(session, events)
    return result
