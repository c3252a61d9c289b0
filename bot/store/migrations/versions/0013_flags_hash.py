"""performance (issue 15): a hash of each decision's flags, so the sweep rewrites only changed ones

Rows stored before this revision get "-", which no flags hash to, so the first sweep after the
upgrade writes their flags (and hash) once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "flags_hash",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )
    op.execute("UPDATE decision SET flags_hash = '-'")


def downgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop
    # `decision` itself, which the briefings' foreign keys refuse.
    op.drop_column("decision", "flags_hash")
