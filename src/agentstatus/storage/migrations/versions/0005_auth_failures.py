"""auth_failures

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

The failed-authentication limiter's counts, shared by every instance on one PostgreSQL
database (SPEC.md 6). Created on SQLite too, where it stays empty: the schema is the same
on both engines.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", name=op.f("pk_auth_failures")),
    )


def downgrade() -> None:
    op.drop_table("auth_failures")
