"""delivery heartbeat (issue 12)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("in_doubt", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("deliveryattempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveryattempt", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.drop_column("in_doubt")
        batch_op.drop_column("heartbeat_at")
