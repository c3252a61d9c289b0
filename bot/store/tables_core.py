"""The tables `nosurprises status` reads, as plain SQLAlchemy Core tables (issue 15).

Written by `python -m bot.store.write_core_tables` from the table models in
bot/store/models.py: do not edit by hand (tests/test_tables_core.py fails when they differ).
Importing this costs no SQLModel, pydantic or ORM.
"""

from sqlalchemy import JSON, Boolean, Column, Date, Integer, MetaData, String, Table

from bot.store.core_types import UTCDateTime

metadata = MetaData()

briefing = Table(
    "briefing",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("decision_id", Integer(), nullable=False),
    Column("member_email", String(), nullable=False),
    Column("briefer_email", String(), nullable=False),
    Column("briefer_overridden", Boolean(), nullable=False),
    Column("reasons", JSON(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("state", String(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("cycle", Integer(), nullable=False),
    Column("ladder", JSON(), nullable=False),
    Column("next_step_index", Integer(), nullable=False),
    Column("next_step_at", UTCDateTime()),
    Column("member_reminder_at", UTCDateTime()),
    Column("snoozed_until", UTCDateTime()),
    Column("briefed_at", UTCDateTime()),
    Column("briefed_how", String(), nullable=False),
    Column("briefing_note", String(), nullable=False),
    Column("acknowledged_at", UTCDateTime()),
    Column("dispute", String(), nullable=False),
    Column("not_needed_reason", String(), nullable=False),
    Column("changed_since_briefed", String(), nullable=False),
    Column("ladder_reset_at", UTCDateTime()),
    Column("last_step_at", UTCDateTime()),
    Column("approval_kind", String(), nullable=False),
    Column("approval_requested_by", String(), nullable=False),
    Column("approval_to", String(), nullable=False),
    Column("approval_reason", String(), nullable=False),
    Column("former_briefers", JSON(), nullable=False),
    Column("handed_over_by", String(), nullable=False),
    Column("handover_reason", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

chatidentity = Table(
    "chatidentity",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("platform", String(), nullable=False),
    Column("email", String(), nullable=False),
    Column("platform_user_id", String(), nullable=False),
    Column("tenant_id", String(), nullable=False),
    Column("reachable", Boolean(), nullable=False),
    Column("detail", JSON(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

decision = Table(
    "decision",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("ref", String(), nullable=False),
    Column("title", String(), nullable=False),
    Column("summary", String(), nullable=False),
    Column("decision_maker_type", String(), nullable=False),
    Column("decision_maker", String(), nullable=False),
    Column("portfolio", String(), nullable=False),
    Column("portfolio_holder", String(), nullable=False),
    Column("lead_officer", String(), nullable=False),
    Column("lead_officer_email", String(), nullable=False),
    Column("directorate", String(), nullable=False),
    Column("decision_due", Date(), nullable=False),
    Column("decision_due_text", String(), nullable=False),
    Column("meeting_date", Date()),
    Column("key_decision", Boolean(), nullable=False),
    Column("key_reason", String(), nullable=False),
    Column("all_wards", Boolean(), nullable=False),
    Column("wards", JSON(), nullable=False),
    Column("restriction", String(), nullable=False),
    Column("exempt_paragraphs", JSON(), nullable=False),
    Column("first_published", Date()),
    Column("notice_type", String(), nullable=False),
    Column("status", String(), nullable=False),
    Column("call_in_applies", String(), nullable=False),
    Column("consultation", String(), nullable=False),
    Column("documents", String(), nullable=False),
    Column("source_url", String(), nullable=False),
    Column("source", String(), nullable=False),
    Column("content_hash", String(), nullable=False),
    Column("swept_fingerprint", String(), nullable=False),
    Column("flags", JSON(), nullable=False),
    Column("flags_hash", String(), nullable=False),
    Column("assess_error", String(), nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("missing_since", UTCDateTime()),
    Column("scrutiny_acknowledged_at", UTCDateTime()),
    Column("scrutiny_acknowledged_by", String(), nullable=False),
    Column("urgency_agreed_by", String(), nullable=False),
    Column("urgency_recorded_by", String(), nullable=False),
    Column("urgency_recorded_at", UTCDateTime()),
    Column("change_seq", Integer(), nullable=False),
)

directorystate = Table(
    "directorystate",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("fingerprint", String(), nullable=False),
    Column("updated_at", UTCDateTime()),
)

person = Table(
    "person",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("email", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("roles", JSON(), nullable=False),
    Column("job_title", String(), nullable=False),
    Column("directorate", String(), nullable=False),
    Column("wards", JSON(), nullable=False),
    Column("manager_email", String(), nullable=False),
    Column("party", String(), nullable=False),
    Column("channels", JSON(), nullable=False),
    Column("language", String(), nullable=False),
)

portfolio = Table(
    "portfolio",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("name", String(), nullable=False),
    Column("holder_email", String(), nullable=False),
    Column("director_email", String(), nullable=False),
    Column("aliases", JSON(), nullable=False),
)

sourcestate = Table(
    "sourcestate",
    metadata,
    Column("name", String(), primary_key=True),
    Column("last_success_at", UTCDateTime()),
    Column("last_attempt_at", UTCDateTime()),
    Column("stale_since", UTCDateTime()),
    Column("last_error", String(), nullable=False),
)
