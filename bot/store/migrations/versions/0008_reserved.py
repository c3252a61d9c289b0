"""performance read model (issue 15)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reserved so that work in parallel keeps one linear chain; filled in by its issue.
    pass


def downgrade() -> None:
    pass
