"""agents.external_id: the identifier a provisioning client keeps for the agent

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Issue 26: SCIM provisioning. An identity provider may give each agent its own identifier
(SCIM's ``externalId``, e.g. Entra ID's object id) and expects it back. Existing agents have
none: NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default: SQLite and PostgreSQL add it without copying
    # the table.
    op.add_column("agents", sa.Column("external_id", sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("external_id")
