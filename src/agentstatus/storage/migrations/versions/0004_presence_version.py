"""presence.version

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Every write of a presence row increments its version, and a status change writes only if
the version is the one its facts were read at (compare and set). Administrative changes
that must invalidate a decision in flight without moving the agent (deactivation) bump it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.drop_column("version")
