"""heads-ups and the people told of them (issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"  # after the language column (0009, Welsh)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "headsup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("about_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("about", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decision_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("headsup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_headsup_sender_email"), ["sender_email"])
        batch_op.create_index(batch_op.f("ix_headsup_decision_ref"), ["decision_ref"])
        batch_op.create_index(batch_op.f("ix_headsup_created_at"), ["created_at"])
    op.create_table(
        "headsuprecipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("headsup_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["headsup_id"], ["headsup.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("headsup_id", "email"),
    )
    with op.batch_alter_table("headsuprecipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_headsuprecipient_headsup_id"), ["headsup_id"])
        batch_op.create_index(batch_op.f("ix_headsuprecipient_email"), ["email"])


def downgrade() -> None:
    with op.batch_alter_table("headsuprecipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_headsuprecipient_email"))
        batch_op.drop_index(batch_op.f("ix_headsuprecipient_headsup_id"))
    op.drop_table("headsuprecipient")
    with op.batch_alter_table("headsup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_headsup_created_at"))
        batch_op.drop_index(batch_op.f("ix_headsup_decision_ref"))
        batch_op.drop_index(batch_op.f("ix_headsup_sender_email"))
    op.drop_table("headsup")
