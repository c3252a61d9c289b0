"""Which sources are stale: read by status on every answer, so it imports no HTTP client."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.store.models import SourceState


def stale_sources(session: Session) -> list[tuple[str, datetime]]:
    """Sources whose last pulls failed, and since when."""
    return [
        (s.name, s.stale_since)
        for s in session.scalars(
            select(SourceState).where(col(SourceState.stale_since).is_not(None))
        )
        if s.stale_since is not None
    ]
