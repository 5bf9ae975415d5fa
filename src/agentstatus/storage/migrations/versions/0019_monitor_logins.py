"""monitor logins

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Issue 25: a login to Voicenter's real-time monitor (``/monitorAPI/Login/Token`` or
``/Login/User``) is a grant of one organisation, made from an API token or a web user. It
holds a short-lived socket token and a refresh token, both kept only as digests, each with
its expiry; a refresh replaces both. A user's grant keeps a digest of the password hash it
was made under, so that a new password ends it. Revoked grants keep when and by whom.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitor_logins",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("token_id", Id, nullable=True),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("password_key", sa.String(length=64), nullable=True),
        sa.Column("socket_hash", sa.String(length=64), nullable=False),
        sa.Column("socket_expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.Column("revoked_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_monitor_logins_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_monitor_logins_token_id_api_tokens")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_monitor_logins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_logins")),
        sa.UniqueConstraint("socket_hash", name=op.f("uq_monitor_logins_socket_hash")),
        sa.UniqueConstraint("refresh_hash", name=op.f("uq_monitor_logins_refresh_hash")),
    )
    op.create_index("ix_monitor_logins_org", "monitor_logins", ["org_id"])
    op.create_index("ix_monitor_logins_user", "monitor_logins", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_monitor_logins_user", table_name="monitor_logins")
    op.drop_index("ix_monitor_logins_org", table_name="monitor_logins")
    op.drop_table("monitor_logins")
