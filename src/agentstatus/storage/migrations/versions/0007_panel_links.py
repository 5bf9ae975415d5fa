"""panel links and embed origins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The agent's status panel (issue 13): links scoped to one agent (only the token's digest is
kept), and the origins each organisation lets embed the panel.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("embed_origins", sa.Text(), nullable=True))
    op.create_table(
        "panel_links",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("agent_id", Id, nullable=False),
        sa.Column("extension", sa.String(length=128), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_panel_links_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_panel_links_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_panel_links_token_hash")),
    )
    op.create_index("ix_panel_links_agent", "panel_links", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_panel_links_agent", table_name="panel_links")
    op.drop_table("panel_links")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("embed_origins")
