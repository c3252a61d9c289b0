"""The outbox's tables: messages to send, each attempt, where cards were posted, inbound
deliveries already handled, and people's own choices of channel.

Defined on first use (`bot.store.models` hands them out by name): a status reads none of them,
and defining a table costs start-up time (issue 15).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field

from bot.store.models import NudgeStatus, Stored


class ChannelChoice(Stored, table=True):
    """A person's own choice of how to hear from the bot, made from an email's preferences
    link. Kept apart from the directory so a re-import of people.csv does not undo it."""

    email: str = Field(primary_key=True)
    email_off: bool = False  # never by email (List-Unsubscribe)
    digest_by_email: bool = False  # the morning digest by email, whatever else reaches them
    updated_at: datetime


class Nudge(Stored, table=True):
    """An outbox row: one message to one person, sent once, in working hours."""

    # In the claim's order (`ORDER BY send_at, id`): a claim reads only the rows it takes.
    __table_args__ = (Index("ix_nudge_due", "status", "send_at", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    recipient_email: str = Field(index=True)
    briefing_id: int | None = Field(default=None, foreign_key="briefing.id", index=True)
    kind: str
    card: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    send_at: datetime
    dedupe_key: str = Field(unique=True)
    status: str = NudgeStatus.PENDING
    attempts: int = 0
    claimed_by: str = ""
    claimed_at: datetime | None = None
    # Refreshed by the claiming process while it lives: a stale heartbeat means it has gone.
    heartbeat_at: datetime | None = None
    # Reclaimed from a process that died mid-send: it may already have been posted.
    in_doubt: bool = False
    sent_at: datetime | None = None
    platform: str = ""
    last_error: str = ""
    created_at: datetime


class DeliveryAttempt(Stored, table=True):
    id: int | None = Field(default=None, primary_key=True)
    nudge_id: int = Field(foreign_key="nudge.id", index=True)
    platform: str
    attempted_at: datetime
    outcome: str  # a bot.delivery.ports.DeliveryOutcome, stored as text
    error_code: str = ""
    detail: str = ""
    retry_after_seconds: float | None = None
    # "already_posted" (found on the platform, not sent again) or "possible_duplicate".
    note: str = ""


class PostedCard(Stored, table=True):
    """Where a briefing's card was shown, so every platform can redraw it after a change."""

    id: int | None = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefing.id", index=True)
    recipient_email: str
    platform: str
    channel: str = ""
    message_id: str = ""
    view: str = ""
    posted_at: datetime


class ProcessedEvent(Stored, table=True):
    """Inbound platform deliveries already handled (Slack retries, Teams repeats)."""

    key: str = Field(primary_key=True)
    seen_at: datetime
