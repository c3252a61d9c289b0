"""status read model (issue 15): live briefings counted with their amber/red instants

The chief executive's `/surprises` over any window reads these instead of grouping every
briefing of the window: `statuscount` holds live briefings counted by decision date, due time,
state and portfolio, each with the instants at which it turns amber and red; `statusunbriefed`
the items no live briefing covers; `statusmodel` which data they were built from.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statuscount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("portfolio", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("portfolio_holder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("amber_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("red_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_due", "due_at", "state", "portfolio", "portfolio_holder"),
    )
    op.create_table(
        "statusunbriefed",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.Column("portfolio", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("portfolio_holder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("red_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    with op.batch_alter_table("statusunbriefed", schema=None) as batch_op:
        batch_op.create_index(
            "ix_statusunbriefed_flagged_due", ["flagged", "decision_due"], unique=False
        )
        batch_op.create_index(
            "ix_statusunbriefed_exempt_flagged_due",
            ["exempt", "flagged", "decision_due"],
            unique=False,
        )
    op.create_table(
        "statusmodel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("built_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("statusmodel")
    with op.batch_alter_table("statusunbriefed", schema=None) as batch_op:
        batch_op.drop_index("ix_statusunbriefed_exempt_flagged_due")
        batch_op.drop_index("ix_statusunbriefed_flagged_due")
    op.drop_table("statusunbriefed")
    op.drop_table("statuscount")
