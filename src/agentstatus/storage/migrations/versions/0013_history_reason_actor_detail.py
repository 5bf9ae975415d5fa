"""history.reason, history.actor, history.detail: why, who, and what an event carries

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Issue 23: calls drive the status. A change the phone system's rules make says why (wrap-up,
missed-calls, ...), a supervisor's change says why in their words and who made it, and the
new kinds of event carry a little more than two statuses (the status queued as next, a
phone's state). Existing rows have none of these: NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without a default: SQLite and PostgreSQL add them without copying
    # the table.
    op.add_column("history", sa.Column("reason", sa.String(length=200), nullable=True))
    op.add_column("history", sa.Column("actor", sa.String(length=320), nullable=True))
    op.add_column("history", sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_column("detail")
        batch.drop_column("actor")
        batch.drop_column("reason")
