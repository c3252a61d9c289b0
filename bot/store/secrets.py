"""The application's own secrets, kept in the database: the keys that sign buttons and links."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.store.models import AppSecret

PAYLOAD_KEY = "payload_key"
LINK_KEY = "link_key"


def payload_key(session: Session) -> bytes:
    """The button-signing key, made on first use (every process then shares it)."""
    return _key(session, PAYLOAD_KEY)


def link_key(session: Session) -> bytes:
    """The key that signs emailed links and calendar feeds; apart from the button key, so
    rotating one does not break the other."""
    return _key(session, LINK_KEY)


def _key(session: Session, name: str) -> bytes:
    row = session.get(AppSecret, name)
    if row is None:
        try:
            with session.begin_nested():
                row = AppSecret(name=name, value=secrets.token_hex(32))
                session.add(row)
        except IntegrityError:
            # Another sender made it a moment ago: everyone uses theirs.
            row = session.get(AppSecret, name, populate_existing=True)
            assert row is not None
    return row.value.encode()
