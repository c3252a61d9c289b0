"""The application's own secrets, kept in the database: today the key that signs buttons."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from bot.store.models import AppSecret

PAYLOAD_KEY = "payload_key"


def payload_key(session: Session) -> bytes:
    """The button-signing key, made on first use (every process then shares it)."""
    row = session.get(AppSecret, PAYLOAD_KEY)
    if row is None:
        row = AppSecret(name=PAYLOAD_KEY, value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row.value.encode()
