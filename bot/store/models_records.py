"""The records' tables: the audit log and its head, the directory's and decisions' change
history, heads-ups and who was told, and when each tick last ran.

Defined on first use (`bot.store.models` hands them out by name): a status reads none of them,
and defining a table costs start-up time (issue 15).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from bot.store.models import Stored


class DirectoryChange(Stored, table=True):
    """The directory's history: who arrived, left, moved ward or took a portfolio, and when."""

    id: int | None = Field(default=None, primary_key=True)
    changed_at: datetime = Field(index=True)
    source: str  # e.g. "moderngov:harbourside"
    kind: str  # a DirectoryChangeKind
    email: str = Field(default="", index=True)
    name: str = ""
    old_value: str = ""
    new_value: str = ""


class DecisionChange(Stored, table=True):
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    field: str
    old_value: str = ""
    new_value: str = ""
    changed_at: datetime
    source: str = "csv"


class AuditEvent(Stored, table=True):
    """Append-only, hash-chained record of every state change and refusal."""

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: datetime = Field(index=True)
    actor_email: str = ""
    on_behalf_of: str = ""
    platform: str = ""
    action: str
    outcome: str = "done"
    decision_ref: str = Field(default="", index=True)
    briefing_id: int | None = Field(default=None, index=True)
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str
    hash: str


class AuditHead(Stored, table=True):
    """The newest link of the chain: appends serialise on this row, and a deleted tail shows."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = ""
    # The signed checkpoint: HMAC-SHA256 of seq and hash under NOSURPRISES_AUDIT_KEY ("" when
    # no key is set). The key never reaches the database, so a rewritten head shows.
    mac: str = ""


class HeadsUp(Stored, table=True):
    """A heads-up: someone is about to say or publish something about a decision, a ward or a
    portfolio, and tells the people who should not hear it first from elsewhere."""

    id: int | None = Field(default=None, primary_key=True)
    sender_email: str = Field(index=True)
    about_kind: str  # a bot.headsups.rules.About, stored as text
    about: str  # the decision's reference, or the ward or portfolio as the directory names it
    decision_ref: str = Field(default="", index=True)
    channel: str  # a bot.headsups.rules.Channel, stored as text
    message: str
    platform: str = ""
    created_at: datetime = Field(index=True)


class HeadsUpRecipient(Stored, table=True):
    """One person told of a heads-up, why the rules chose them, and their acknowledgement."""

    __table_args__ = (UniqueConstraint("headsup_id", "email"),)
    id: int | None = Field(default=None, primary_key=True)
    headsup_id: int = Field(foreign_key="headsup.id", index=True)
    email: str = Field(index=True)
    reason: str  # a bot.headsups.rules.Reason, stored as text
    acknowledged_at: datetime | None = None


class TickRun(Stored, table=True):
    name: str = Field(primary_key=True)
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_status: str = ""
    last_error: str = ""
