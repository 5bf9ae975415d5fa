"""wrap-up settings, agents in wrap-up, and the status queued as next

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Issue 23 (SPEC 8): an organisation's wrap-up (after-call work) setting; per agent, the
wrap-up it is in (the presence version it holds, the status to return to, when a timed one
ends) and the status it asked for as next. Both per-agent rows are valid only while the
agent's presence is at the version they name: any other change makes them stale, so the
change path need not know of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wrap_up_settings",
        sa.Column("org_id", Id, autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_wrap_up_settings_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_wrap_up_settings")),
    )
    op.create_table(
        "wrap_ups",
        sa.Column("agent_id", Id, autoincrement=False, nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("return_status", sa.Integer(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_wrap_ups_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_wrap_ups_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_wrap_ups")),
    )
    op.create_table(
        "next_statuses",
        sa.Column("agent_id", Id, autoincrement=False, nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_next_statuses_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_next_statuses_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_next_statuses")),
    )


def downgrade() -> None:
    op.drop_table("next_statuses")
    op.drop_table("wrap_ups")
    op.drop_table("wrap_up_settings")
