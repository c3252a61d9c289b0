"""performance (issue 15): drop the briefing table's four single-column indexes no query needs

decision_id leads the unique (decision_id, member_email) and ix_briefing_decision_state_due;
state leads ix_briefing_state_next_step_at and ix_briefing_state_member_reminder_at; nothing
reads by due_at or next_step_at alone. Each index is written for every new briefing, and a
first sweep writes tens of thousands (bench/README.md, sixth pass, lists every query on the
table and its plan before and after).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, column), as 0001 created them.
DROPPED = (
    ("ix_briefing_decision_id", "decision_id"),
    ("ix_briefing_state", "state"),
    ("ix_briefing_due_at", "due_at"),
    ("ix_briefing_next_step_at", "next_step_at"),
)


def upgrade() -> None:
    for name, _column in DROPPED:
        op.drop_index(name, table_name="briefing")


def downgrade() -> None:
    for name, column in DROPPED:
        op.create_index(name, "briefing", [column], unique=False)
