"""performance read model (issue 15): change stamps for the sweep, and the indexes it reads

Decisions carry the value of a change counter taken when what a sweep reads of them changed,
and the last sweep's context, day and counter value are kept, so a sweep looks only at what
changed since (bot/store/changes.py). Escalation's look-up of due steps and member reminders
gets indexes by state then time, so it is a range per state rather than a scan of every open
briefing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("change_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_decision_change_seq"), ["change_seq"], unique=False)
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_briefing_state_next_step_at", ["state", "next_step_at"], unique=False
        )
        batch_op.create_index(
            "ix_briefing_state_member_reminder_at", ["state", "member_reminder_at"], unique=False
        )
    op.create_table(
        "changecounter",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "sweepstate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("swept_day", sa.Date(), nullable=True),
        sa.Column("swept_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sweepstate")
    op.drop_table("changecounter")
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        batch_op.drop_index("ix_briefing_state_member_reminder_at")
        batch_op.drop_index("ix_briefing_state_next_step_at")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_change_seq"))
        batch_op.drop_column("change_seq")
