"""performance (issue 15): a person's own answer read from two indexes, and the answers counter

`/surprises mine` finds a person's briefings by member or briefer and needs only their
decision, state and due time to colour and order them. The single-column indexes on
`member_email` and `briefer_email` made every look-up read each wide briefing row (a ward
councillor has hundreds across the year); these wider ones lead with the same columns, so every
query that used the old ones uses them, and carry the rest. Still two indexes written per new
briefing, as before.

The `answers` change counter (bot/store/answer_changes.py) starts here, so two writers' first
changes never race to create its row.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (replaced index, its column, the index in its place), the first two as 0001 created them.
REPLACED = (
    ("ix_briefing_member_email", "member_email", "ix_briefing_member_decision_state_due"),
    ("ix_briefing_briefer_email", "briefer_email", "ix_briefing_briefer_decision_state_due"),
)
COUNTER = sa.table("changecounter", sa.column("name", sa.String), sa.column("value", sa.Integer))


def upgrade() -> None:
    for old, column, new in REPLACED:
        op.create_index(new, "briefing", [column, "decision_id", "state", "due_at"], unique=False)
        op.drop_index(old, table_name="briefing")
    op.execute(COUNTER.insert().values(name="answers", value=0))


def downgrade() -> None:
    op.execute(COUNTER.delete().where(COUNTER.c.name == "answers"))
    for old, column, new in REPLACED:
        op.create_index(old, "briefing", [column], unique=False)
        op.drop_index(new, table_name="briefing")
