"""audit checkpoint and operations (issue 12)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The signed checkpoint of the audit chain's head (the key stays in the environment).
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mac", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
    # Why the last sweep could not assess an item, so /healthz can name it.
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "assess_error",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("assess_error")
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.drop_column("mac")
