"""missed_calls: each organisation's missed-calls rule

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Issue 23: after N calls in a row offered to an agent and not answered, the agent goes to a
chosen status. One row per organisation that has the rule (none: off). The running count
per agent needs no table: it is read from the history (``storage/missed_calls.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "missed_calls",
        sa.Column("org_id", Id, autoincrement=False, nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_missed_calls_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_missed_calls")),
    )


def downgrade() -> None:
    op.drop_table("missed_calls")
