"""pbx: phone-system connections, live calls, call events in the history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The Asterisk and FreeSWITCH connectors (issue 15): each organisation's phone system and the
state of its connection (with the lease that lets one instance hold it), the live calls of
its extensions, and the call of a call event in the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("call", sa.Text(), nullable=True))
    op.create_table(
        "pbx_connections",
        sa.Column("org_id", Id, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=True),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("queues", sa.Text(), nullable=False),
        sa.Column("interface", sa.String(length=256), server_default="", nullable=False),
        sa.Column("state_interface", sa.String(length=256), server_default="", nullable=False),
        sa.Column("agent_name", sa.String(length=256), server_default="", nullable=False),
        sa.Column("contact", sa.String(length=256), server_default="", nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("lease_until_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("connected", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("connected_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_ms", sa.BigInteger(), nullable=True),
        sa.Column("reconcile_ms", sa.BigInteger(), nullable=True),
        sa.Column("reconcile_checked", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reconcile_repaired", sa.Integer(), server_default="0", nullable=False),
        sa.Column("repaired_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("commands_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_pbx_connections_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_pbx_connections")),
    )
    op.create_table(
        "pbx_calls",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("extension", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("caller_name", sa.String(length=128), server_default="", nullable=False),
        sa.Column("caller_number", sa.String(length=64), server_default="", nullable=False),
        sa.Column("dialled", sa.String(length=64), server_default="", nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("answered_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_pbx_calls_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbx_calls")),
        sa.UniqueConstraint("org_id", "call_id", name="uq_pbx_calls_org_call"),
    )
    op.create_index("ix_pbx_calls_org_extension", "pbx_calls", ["org_id", "extension"])


def downgrade() -> None:
    op.drop_index("ix_pbx_calls_org_extension", table_name="pbx_calls")
    op.drop_table("pbx_calls")
    op.drop_table("pbx_connections")
    with op.batch_alter_table("history") as batch:
        batch.drop_column("call")
