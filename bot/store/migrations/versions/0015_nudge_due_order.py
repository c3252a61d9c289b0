"""performance (issue 15): the outbox's due index also holds the id, in the claim's order

A claim takes the next due messages `ORDER BY send_at, id … LIMIT`; with the index on (status,
send_at) alone PostgreSQL read and sorted every due row for each claim (3–7 ms at 10,000 due).
With id last the index gives the claim's order, and the claim reads only the rows it takes.
Every other statement that used (status, send_at) finds the same prefix (SQLite already kept
the rowid, which is the id, at the end of the index).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_nudge_due", table_name="nudge")
    op.create_index("ix_nudge_due", "nudge", ["status", "send_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_nudge_due", table_name="nudge")
    op.create_index("ix_nudge_due", "nudge", ["status", "send_at"], unique=False)
