"""pbx_members: the queue members agentstatus made at an organisation's Asterisk

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Issue 21: changing the interface template (or the queues) left the members made under the
old settings behind. agentstatus now remembers the members it made, to remove exactly
those when the settings change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pbx_members",
        sa.Column("org_id", Id, autoincrement=False, nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("interface", sa.String(length=256), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("made_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_pbx_members_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("org_id", "queue", "interface", name=op.f("pk_pbx_members")),
    )


def downgrade() -> None:
    op.drop_table("pbx_members")
