"""policies: status limits, the end of the shift, deadlines

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Break limits per status and each organisation's end of the shift (issue 14): the limits and
the shift end themselves, the deadlines they plan (kept in the database so that one
instance, any instance, acts on each after restarts), and in the history the policy that
made a change and when it was due.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("statuses") as batch:
        batch.add_column(sa.Column("limit_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("limit_action", sa.String(length=8), nullable=True))
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("shift_end", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("shift_days", sa.String(length=32), nullable=True))
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("policy", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("due_ms", sa.BigInteger(), nullable=True))
    op.create_table(
        "deadlines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("agent_id", Id, nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=True),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_deadlines_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_deadlines_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
    )
    op.create_index("ix_deadlines_due", "deadlines", ["due_ms"])
    op.create_index("ix_deadlines_plan", "deadlines", ["org_id", "kind", "status"])


def downgrade() -> None:
    op.drop_index("ix_deadlines_plan", table_name="deadlines")
    op.drop_index("ix_deadlines_due", table_name="deadlines")
    op.drop_table("deadlines")
    with op.batch_alter_table("history") as batch:
        batch.drop_column("due_ms")
        batch.drop_column("policy")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("shift_days")
        batch.drop_column("shift_end")
    with op.batch_alter_table("statuses") as batch:
        batch.drop_column("limit_action")
        batch.drop_column("limit_seconds")
