"""governance rules (issue 10)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BRIEFING_TEXT = (
    "approval_kind",
    "approval_requested_by",
    "approval_to",
    "approval_reason",
    "handed_over_by",
    "handover_reason",
)
_DECISION_TEXT = ("scrutiny_acknowledged_by", "urgency_agreed_by", "urgency_recorded_by")


def upgrade() -> None:
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ladder_reset_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_step_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        for name in _BRIEFING_TEXT:
            batch_op.add_column(
                sa.Column(
                    name,
                    sqlmodel.sql.sqltypes.AutoString(),
                    nullable=False,
                    server_default=sa.text("''"),
                )
            )
        batch_op.add_column(
            sa.Column("former_briefers", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scrutiny_acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("urgency_recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        for name in _DECISION_TEXT:
            batch_op.add_column(
                sa.Column(
                    name,
                    sqlmodel.sql.sqltypes.AutoString(),
                    nullable=False,
                    server_default=sa.text("''"),
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        for name in (*_DECISION_TEXT, "urgency_recorded_at", "scrutiny_acknowledged_at"):
            batch_op.drop_column(name)
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        for name in ("former_briefers", *_BRIEFING_TEXT, "last_step_at", "ladder_reset_at"):
            batch_op.drop_column(name)
