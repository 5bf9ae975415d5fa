"""oidc states

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Issue 26: an OpenID Connect sign-in under way keeps the digest of its ``state``, the nonce
and the PKCE verifier until the provider sends the browser back; the row is deleted then,
so a state is used once (a replayed callback finds nothing), on every instance alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "oidc_states",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=2048), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oidc_states_state_hash")),
    )
    op.create_index("ix_oidc_states_created", "oidc_states", ["created_ms"])


def downgrade() -> None:
    op.drop_index("ix_oidc_states_created", table_name="oidc_states")
    op.drop_table("oidc_states")
