"""queue callers in the event log, the callers waiting now, per-queue settings

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Issue 24: a caller in one of the phone system's queues is an event of the log (kinds
``queue.caller_*``) that belongs to no agent (an answered one names the agent who answered,
when known), so ``history.agent_id`` may be NULL. ``queue_callers`` holds the callers waiting
now (written with their events); ``queue_settings`` a queue's service-level threshold and
weight, and the numeric id GetQueuesCallers answers with; ``queue_days`` each queue's
figures of a day (the organisation's day), kept with the events.
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _history_agent_id(nullable=True)
    op.create_table(
        "queue_settings",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("service_level_seconds", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_queue_settings_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_settings")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_queue_settings_org_id")),
    )
    op.create_table(
        "queue_callers",
        sa.Column("org_id", Id, autoincrement=False, nullable=False),
        sa.Column("queue", sa.String(length=128), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("joined_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_queue_callers_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("org_id", "queue", "call_id", name=op.f("pk_queue_callers")),
    )
    op.create_table(
        "queue_days",
        sa.Column("org_id", Id, autoincrement=False, nullable=False),
        sa.Column("queue", sa.String(length=128), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("answered_within", sa.Integer(), nullable=False),
        sa.Column("answered_wait_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_queue_days_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("org_id", "queue", "day", name=op.f("pk_queue_days")),
    )


def downgrade() -> None:
    op.drop_table("queue_days")
    op.drop_table("queue_callers")
    op.drop_table("queue_settings")
    op.execute(
        "DELETE FROM webhook_deliveries WHERE history_id IN "
        "(SELECT id FROM history WHERE agent_id IS NULL)"
    )
    op.execute("DELETE FROM history WHERE agent_id IS NULL")
    _history_agent_id(nullable=False)


def _history_agent_id(*, nullable: bool) -> None:
    # SQLite cannot change a NOT NULL in place: the batch copies the table (PostgreSQL
    # alters it). Its reflection of the tables history refers to warns of the agents'
    # expression index (ix_agents_org_shown), which the copy does not touch.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        with op.batch_alter_table("history") as batch:
            batch.alter_column("agent_id", existing_type=Id, nullable=nullable)
