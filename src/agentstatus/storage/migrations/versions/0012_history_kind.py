"""history.kind: every history row says what kind of event it is

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Issue 22: the history is the event log. Warnings and calls were rows whose old and new
status are equal, their kind hidden in ``policy``; every row now carries its event type.
Existing rows get it from what encoded it: ``limit:warn`` is ``agent.overdue``,
``call:<what>`` is ``call.<what>``, and a change is a logout (to status 2), a login (from
status 2) or a change of status.
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The statuses are the catalogue's (domain.catalogue.LOGOUT is 2), written here as they
# were when this migration was made.
FILL = """
UPDATE history SET kind = CASE
    WHEN policy = 'limit:warn' THEN 'agent.overdue'
    WHEN policy LIKE 'call:%' THEN 'call.' || substr(policy, 6)
    WHEN new_status = 2 THEN 'agent.logout'
    WHEN prev_status = 2 THEN 'agent.login'
    ELSE 'agent.status'
END
"""


def upgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
    op.execute(FILL)
    with warnings.catch_warnings():
        # SQLite makes the column NOT NULL by copying the table, which reflects it and the
        # tables it refers to; the agents' expression index (0011) is not reflected and is
        # not needed for the copy of history.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("history") as batch:
            batch.alter_column("kind", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_column("kind")
