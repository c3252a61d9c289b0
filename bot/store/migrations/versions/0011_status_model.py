"""status read path (issue 15): covering indexes for the wide status page's GROUP BY

The chief executive's `/surprises` counts the window's live briefings grouped by state, due
time and decision date (bot/views/status_page.py). With these two indexes the database answers
that from the indexes alone — decisions by date with their portfolio, briefings by decision
with their state and due time — without reading either table's rows: about 2-3x less work.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_decision_due_portfolio",
            ["decision_due", "id", "portfolio", "portfolio_holder"],
            unique=False,
        )
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_briefing_decision_state_due", ["decision_id", "state", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("briefing", schema=None) as batch_op:
        batch_op.drop_index("ix_briefing_decision_state_due")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_due_portfolio")
