"""wall links

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Issue 24: a read-only link to an organisation's wall, for a TV no one signs in to. Like a
panel link, a bearer token kept only as its digest, expiring and revocable; it belongs to
the organisation, not to an agent. The row keeps who made the link and who revoked it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wall_links",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("label", sa.String(length=128), server_default="", nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.Column("revoked_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_wall_links_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wall_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_wall_links_token_hash")),
    )
    op.create_index("ix_wall_links_org", "wall_links", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_wall_links_org", table_name="wall_links")
    op.drop_table("wall_links")
