"""moderngov directory (issue 11): councillors' parties and the directory's history

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "party", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
    op.create_table(
        "directorychange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("old_value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("new_value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("directorychange", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directorychange_changed_at"), ["changed_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_directorychange_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("directorychange", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directorychange_email"))
        batch_op.drop_index(batch_op.f("ix_directorychange_changed_at"))
    op.drop_table("directorychange")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("party")
