"""Which platforms to try for a person, in order: the council's list for them (people.csv
`channels`), else chat first and email when chat cannot reach them; and their own choices
(no email at all, or the morning digest by email)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session

from bot.delivery.among import among
from bot.delivery.ports import MessageKind
from bot.store.models import ChannelChoice, table_of

EMAIL = "email"
DIGESTS = frozenset({MessageKind.OFFICER_DIGEST, MessageKind.CHIEF_EXECUTIVE_DIGEST})


@dataclass(frozen=True)
class Choice:
    """A person's own choice, made from an email's preferences link."""

    email_off: bool = False
    digest_by_email: bool = False


NO_CHOICE = Choice()


def platform_order(
    available: Sequence[str],
    *,
    listed: Sequence[str] = (),
    choice: Choice = NO_CHOICE,
    kind: str = "",
) -> list[str]:
    """The enabled platforms to try, in order, for one message to one person."""
    order = [p for p in listed if p in available]
    if not order:
        # Nothing listed (or nothing listed is enabled): every chat platform, then email.
        order = [p for p in available if p != EMAIL] + [p for p in available if p == EMAIL]
    if kind == MessageKind.MEMBER_DIGEST:
        # Asked for by email and only by email: chat already shows members their requests.
        return [EMAIL] if EMAIL in available and not choice.email_off else []
    if choice.digest_by_email and kind in DIGESTS and EMAIL in available:
        return [EMAIL, *(p for p in order if p != EMAIL)]
    if choice.email_off:
        order = [p for p in order if p != EMAIL]
    return order


def load_choices(session: Session, emails: Collection[str]) -> dict[str, Choice]:
    """The choices these people have made (people who made none are absent)."""
    if not emails:
        return {}
    if session.autoflush:
        session.flush()  # as a query through the session would: a choice just saved is read
    connection = session.connection()  # plain rows (Core): no model objects to build
    rows = connection.execute(_choices_of(connection.dialect.name), {"emails": sorted(emails)})
    return {r.email: Choice(r.email_off, r.digest_by_email) for r in rows}


@cache
def _choices_of(dialect: str) -> Select[Any]:
    """The choices of the people `:emails` (built once per dialect)."""
    choices = table_of(ChannelChoice)
    return select(choices.c.email, choices.c.email_off, choices.c.digest_by_email).where(
        among(choices.c.email, "emails", dialect=dialect)
    )


def save_choice(session: Session, email: str, choice: Choice, *, now: datetime) -> bool:
    """Keep a person's choice; False if it was already so."""
    row = session.get(ChannelChoice, email)
    if row is not None and Choice(row.email_off, row.digest_by_email) == choice:
        return False
    if row is None:
        row = ChannelChoice(email=email, updated_at=now)
        session.add(row)
    row.email_off, row.digest_by_email, row.updated_at = (
        choice.email_off,
        choice.digest_by_email,
        now,
    )
    return True
