"""The tables. Enums are stored as text; every timestamp is aware UTC.

People are keyed by email throughout (the directory's key and how chat accounts are matched),
so audit rows and briefings stay readable without joins.

No `from __future__ import annotations` here: pydantic would then evaluate every field's
annotation from a string when the tables are defined, a fifth of their cost at start-up.
"""

import importlib
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Index, Table, UniqueConstraint, event, inspect
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

from bot.briefings.states import BriefingState as BriefingState  # stored as text
from bot.decisions.kinds import DecisionStatus as DecisionStatus
from bot.decisions.kinds import NoticeType as NoticeType
from bot.decisions.kinds import Restriction as Restriction
from bot.store.flags_hash import flags_hash
from bot.store.roles import Role as Role

if TYPE_CHECKING:
    from bot.store.models_delivery import ChannelChoice as ChannelChoice
    from bot.store.models_delivery import DeliveryAttempt as DeliveryAttempt
    from bot.store.models_delivery import Nudge as Nudge
    from bot.store.models_delivery import PostedCard as PostedCard
    from bot.store.models_delivery import ProcessedEvent as ProcessedEvent
    from bot.store.models_records import AuditEvent as AuditEvent
    from bot.store.models_records import AuditHead as AuditHead
    from bot.store.models_records import DecisionChange as DecisionChange
    from bot.store.models_records import DirectoryChange as DirectoryChange
    from bot.store.models_records import HeadsUp as HeadsUp
    from bot.store.models_records import HeadsUpRecipient as HeadsUpRecipient
    from bot.store.models_records import TickRun as TickRun

# Tables a status never reads live in their own modules, defined when first asked for here
# (`from bot.store.models import Nudge` works as ever): defining all 25 tables was a sixth of
# `nosurprises status` (issue 15).
LATER = {
    "ChannelChoice": "bot.store.models_delivery",
    "DeliveryAttempt": "bot.store.models_delivery",
    "Nudge": "bot.store.models_delivery",
    "PostedCard": "bot.store.models_delivery",
    "ProcessedEvent": "bot.store.models_delivery",
    "AuditEvent": "bot.store.models_records",
    "AuditHead": "bot.store.models_records",
    "DecisionChange": "bot.store.models_records",
    "DirectoryChange": "bot.store.models_records",
    "HeadsUp": "bot.store.models_records",
    "HeadsUpRecipient": "bot.store.models_records",
    "TickRun": "bot.store.models_records",
}


def __getattr__(name: str) -> Any:
    """A table defined on first use (see LATER)."""
    module = LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def define_every_table() -> None:
    """Define the tables left for first use too: for whatever needs the whole schema
    (migrations, creating or dropping every table)."""
    for module in sorted(set(LATER.values())):
        importlib.import_module(module)


class Stored(SQLModel):
    """Every table's base. Table models are never validated (SQLModel constructs them without
    pydantic), so pydantic's validator and serialiser are built only if something asks for
    them: defining the tables at start-up then costs half as much (issue 15)."""

    model_config = SQLModelConfig(defer_build=True)


class NudgeStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


class Person(Stored, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True)
    name: str
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    job_title: str = ""
    directorate: str = ""
    wards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    manager_email: str = ""
    # A councillor's political party, as the council's site lists it.
    party: str = ""
    # The council's choice of platforms for this person, in order (people.csv `channels`);
    # empty: chat first, then email.
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The language messages reach them in (people.csv `language`: en, cy); empty: the
    # council's default.
    language: str = ""


class Portfolio(Stored, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    holder_email: str
    director_email: str = ""
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class DirectoryState(Stored, table=True):
    """One row: a fingerprint of the directory, so a sweep knows when people changed."""

    id: int = Field(default=1, primary_key=True)
    fingerprint: str = ""
    updated_at: datetime | None = None


class Decision(Stored, table=True):
    # The wide status page finds the window's decisions, with their portfolio, from the index.
    __table_args__ = (
        Index("ix_decision_due_portfolio", "decision_due", "id", "portfolio", "portfolio_holder"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True, unique=True)
    title: str
    summary: str = ""
    decision_maker_type: str = ""
    decision_maker: str = ""
    portfolio: str = ""  # as the source wrote it
    portfolio_holder: str = ""
    lead_officer: str = ""
    lead_officer_email: str = ""
    directorate: str = ""
    decision_due: date = Field(index=True)
    decision_due_text: str = ""
    meeting_date: date | None = None
    key_decision: bool = False
    key_reason: str = ""
    all_wards: bool = False
    wards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    restriction: str = Restriction.OPEN
    exempt_paragraphs: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    first_published: date | None = None
    notice_type: str = NoticeType.FORWARD_PLAN
    status: str = DecisionStatus.FOR_DETERMINATION
    call_in_applies: str = ""
    consultation: str = ""
    documents: str = ""
    source_url: str = ""
    source: str = "csv"
    content_hash: str = ""
    # What the last sweep saw (content, directory, rules, horizon): unchanged means skip.
    swept_fingerprint: str = ""
    # Risk flags from the last sweep: [{"code": ..., "text": ...}].
    flags: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # bot.store.flags_hash of `flags`: a sweep rewrites only flags whose hash changed.
    flags_hash: str = ""
    # Why the last sweep could not assess this item ("" when it could): for /healthz.
    assess_error: str = ""
    first_seen_at: datetime
    updated_at: datetime
    missing_since: datetime | None = None
    # Reg 10: when the scrutiny chair acknowledged the general exception notice, and who.
    scrutiny_acknowledged_at: datetime | None = None
    scrutiny_acknowledged_by: str = ""
    # Reg 11: who agreed the special urgency (in words), recorded by democratic services.
    urgency_agreed_by: str = ""
    urgency_recorded_by: str = ""
    urgency_recorded_at: datetime | None = None
    # Taken from the `decision` change counter whenever what a sweep reads of the item changes
    # (bot/store/changes.py), so a sweep looks only at items changed since the last one.
    change_seq: int = Field(default=0, index=True)


@event.listens_for(Decision.flags, "set", propagate=True)
def _hash_flags_set_on_the_model(
    target: Decision, value: list[dict[str, str]], _old: Any, _initiator: Any
) -> None:
    # Flags set on a model object (not by the sweep) keep their hash true, so a later sweep
    # that works out the same hash as the stored one never leaves other flags in place.
    target.flags_hash = flags_hash(value)


class ChangeCounter(Stored, table=True):
    """A counter per kind of data, taken in the writer's transaction: values are handed out in
    commit order, so a reader that saw value N has seen every change numbered N or less."""

    name: str = Field(primary_key=True)
    value: int = 0


class SweepState(Stored, table=True):
    """One row: what the last sweep covered (its context, its day, the changes it saw)."""

    id: int = Field(default=1, primary_key=True)
    context: str = ""
    swept_day: date | None = None
    swept_seq: int = 0


class Briefing(Stored, table=True):
    """One requirement: this member must hear about this decision from this officer by then."""

    __table_args__ = (
        UniqueConstraint("decision_id", "member_email"),
        # What escalation looks up each tick: live briefings whose next step, or member
        # reminder, is due. By state first, so the look-up is a range per state (issue 15).
        Index("ix_briefing_state_next_step_at", "state", "next_step_at"),
        Index("ix_briefing_state_member_reminder_at", "state", "member_reminder_at"),
        # The wide status page's GROUP BY reads state and due time from the index alone.
        Index("ix_briefing_decision_state_due", "decision_id", "state", "due_at"),
        # A person's own briefings (`/surprises mine`) by member or briefer, with what their
        # colour needs: the look-up never reads the wide briefing rows (migration 0016).
        Index(
            "ix_briefing_member_decision_state_due",
            "member_email",
            "decision_id",
            "state",
            "due_at",
        ),
        Index(
            "ix_briefing_briefer_decision_state_due",
            "briefer_email",
            "decision_id",
            "state",
            "due_at",
        ),
    )
    # No index of its own on decision_id, state, due_at or next_step_at (migration 0014): every
    # query that reads by them is served by the indexes above, and each index is written for
    # each of the sweep's new briefings (bench/README.md, sixth pass, lists the queries).
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id")
    member_email: str  # indexed first in ix_briefing_member_decision_state_due
    briefer_email: str  # and in ix_briefing_briefer_decision_state_due
    # Set when someone reassigns the briefing: later sweeps keep their choice of briefer.
    briefer_overridden: bool = False
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    due_at: datetime
    state: str = Field(default=BriefingState.OPEN)
    # Bumped on every change, and carried in button payloads so a stale click is refused.
    version: int = 1
    # Each re-opening after a material change starts a new cycle of the ladder.
    cycle: int = 1
    ladder: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    next_step_index: int = 0
    next_step_at: datetime | None = None
    member_reminder_at: datetime | None = None
    snoozed_until: datetime | None = None
    briefed_at: datetime | None = None
    briefed_how: str = ""
    briefing_note: str = ""
    acknowledged_at: datetime | None = None
    dispute: str = ""
    not_needed_reason: str = ""
    changed_since_briefed: str = ""
    # When the ladder was last set going by a change (created, date moved, re-opened): steps
    # already due then are climbed one rung per working day, never all at once.
    ladder_reset_at: datetime | None = None
    # When the last ladder step (or catch-up prompt) was sent in this cycle.
    last_step_at: datetime | None = None
    # A decision awaiting a second pair of eyes: "not_needed" or "reassign", who asked, to whom
    # (reassign) and why.
    approval_kind: str = ""
    approval_requested_by: str = ""
    approval_to: str = ""
    approval_reason: str = ""
    # Everyone who has briefed for it before: they keep sight of an exempt item's details.
    former_briefers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Who passed the briefing to its briefer, and why.
    handed_over_by: str = ""
    handover_reason: str = ""
    created_at: datetime
    updated_at: datetime


class ChatIdentity(Stored, table=True):
    """A person's account on a platform: ids, reachability and (Teams) conversation reference."""

    __table_args__ = (UniqueConstraint("platform", "email"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    email: str = Field(index=True)
    platform_user_id: str = Field(default="", index=True)
    tenant_id: str = ""
    reachable: bool = True
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class AppSecret(Stored, table=True):
    """Secrets the bot makes for itself (the button-signing key), created on first use."""

    name: str = Field(primary_key=True)
    value: str


class StatusCount(Stored, table=True):
    """The status read model (issue 15): live briefings counted by what their colour and order
    depend on, with the instants at which such a briefing turns amber and red, so a colour at
    any moment is a comparison. Rebuilt after each sweep (bot/views/status_model.py); kept in
    step between sweeps by bot/store/status_model.py."""

    __table_args__ = (
        UniqueConstraint("decision_due", "due_at", "state", "portfolio", "portfolio_holder"),
    )
    id: int | None = Field(default=None, primary_key=True)
    decision_due: date
    due_at: datetime
    state: str
    portfolio: str = ""  # the decision's, as the source wrote it
    portfolio_holder: str = ""
    count: int = 0
    # An open, snoozed or disputed briefing is amber from `amber_at` and red from `red_at`.
    amber_at: datetime
    red_at: datetime


class StatusUnbriefed(Stored, table=True):
    """The read model's items For Determination that no live briefing covers."""

    __table_args__ = (
        # Flagged items in a window, and unflagged ones already past their date.
        Index("ix_statusunbriefed_flagged_due", "flagged", "decision_due"),
        # Exempt items with no flag yet: shown to some viewers only (the model then gives way).
        Index("ix_statusunbriefed_exempt_flagged_due", "exempt", "flagged", "decision_due"),
    )
    decision_id: int = Field(primary_key=True)
    ref: str
    decision_due: date
    # Any stored flag but "date passed" (which is worked out from the day asked about).
    flagged: bool = False
    exempt: bool = False
    portfolio: str = ""
    portfolio_holder: str = ""
    red_at: datetime  # red from then (the decision is close), amber before


class StatusModel(Stored, table=True):
    """One row: which data the read model was built from. `key` names the sweep, the change
    counter and the newest briefing it saw; `current` is cleared by a change it cannot follow."""

    id: int = Field(default=1, primary_key=True)
    key: str = ""
    current: bool = False
    built_at: datetime | None = None
    # The days it can answer for (unflagged unbriefed items are kept only that far ahead).
    first_day: date | None = None
    last_day: date | None = None


class SourceState(Stored, table=True):
    name: str = Field(primary_key=True)
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    stale_since: datetime | None = None
    last_error: str = ""


def table_of(model: type[SQLModel]) -> Table:
    """The Core ``Table`` behind a table model, for plain (non-ORM) inserts and selects.

    The same object as ``model.__table__``, which SQLModel does not declare for type checkers.
    """
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table
