"""drop history.horizon_xid

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

The per-row horizon was the xmax of the inserting statement's snapshot, which PostgreSQL
computes as the latest completed xid + 1, not the next xid to be assigned: a running
transaction holding a smaller id could be above it. The event stream now fences its reads
with a transaction id of its own instead (see agentstatus.events.feed), so the column
goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_column("horizon_xid")


def downgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("horizon_xid", sa.BigInteger(), nullable=True))
