"""webhook cloudevents

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Issue 26: an endpoint may take its events as CloudEvents 1.0 structured JSON envelopes
(``application/cloudevents+json``) instead of the bare event; off for every endpoint made
before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(
            sa.Column("cloudevents", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("cloudevents")
