"""Writing a directory sync: councillors, portfolio holders, and each change in the history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from bot.intake.directory_sync import CurrentPerson, CurrentPortfolio, DirectoryPlan
from bot.store import audit
from bot.store.directory import load_directory
from bot.store.models import DirectoryChange, DirectoryState, Person, Portfolio


def current_directory(session: Session) -> tuple[list[CurrentPerson], list[CurrentPortfolio]]:
    """The people and portfolios as they stand, for planning a sync."""
    people = [
        CurrentPerson(p.email, p.name, frozenset(p.roles), tuple(p.wards), p.party)
        for p in session.scalars(select(Person))
    ]
    portfolios = [
        CurrentPortfolio(p.name, p.holder_email, tuple(p.aliases))
        for p in session.scalars(select(Portfolio))
    ]
    return people, portfolios


def apply_directory_plan(
    session: Session, plan: DirectoryPlan, *, source: str, now: datetime, actor: str = ""
) -> None:
    """Make the directory match the plan and record every change in its history."""
    if not plan.changes and not plan.people:
        return
    rows = {p.email: p for p in session.scalars(select(Person))}
    for email, after in plan.people.items():
        row = rows.get(email)
        if row is None:
            row = Person(email=email, name=after.name, job_title="Councillor")
            session.add(row)
        row.roles = sorted(after.roles)
        row.wards = list(after.wards)
        row.party = after.party
    for email, kept in plan.departed.items():
        row = rows.get(email)
        if row is None:
            continue
        if kept:
            row.roles = sorted(kept)
            row.wards = []
        else:
            session.delete(row)
    portfolios = {p.name: p for p in session.scalars(select(Portfolio))}
    for name, holder in plan.portfolio_holders.items():
        portfolio = portfolios.get(name)
        if portfolio is None:
            session.add(Portfolio(name=name, holder_email=holder))
        else:
            portfolio.holder_email = holder
    session.add_all(
        DirectoryChange(
            changed_at=now,
            source=source,
            kind=change.kind.value,
            email=change.email,
            name=change.name,
            old_value=change.old,
            new_value=change.new,
        )
        for change in plan.changes
    )
    session.flush()
    # Sweeps and the directory cache notice a changed directory by its fingerprint.
    state = session.get(DirectoryState, 1) or DirectoryState(id=1)
    state.fingerprint = load_directory(session).fingerprint
    state.updated_at = now
    session.add(state)
    audit.record(
        session,
        action="directory_synced",
        at=now,
        actor_email=actor,
        platform=source,
        details={"changes": [c.as_dict() for c in plan.changes]},
    )
