"""ix_agents_org_shown: the board's name order, by an index

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

Issue 21: a page of a 50,000-agent organisation's board sorted every agent by its shown
name (the name, else the user id, without case) to keep 500. With the order in an index
the page reads its own rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_agents_org_shown",
        "agents",
        [
            sa.column("org_id"),
            sa.text("lower(coalesce(nullif(name, ''), user_id))"),
            sa.column("user_id"),
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_agents_org_shown", table_name="agents")
