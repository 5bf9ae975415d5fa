"""phone_states, organisations.phone_offline_*: the phone of each extension, the policy

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Issue 23: every extension has a phone state (registered, unregistered; no row: unknown)
read from the phone system, with when it last changed; an organisation may move an agent
whose phone stays unregistered to a status that takes no calls (off: NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "phone_states",
        sa.Column("extension_id", Id, autoincrement=False, nullable=False),
        sa.Column("org_id", Id, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["extension_id"],
            ["extensions.id"],
            name=op.f("fk_phone_states_extension_id_extensions"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_phone_states_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("extension_id", name=op.f("pk_phone_states")),
    )
    op.create_index("ix_phone_states_org", "phone_states", ["org_id"])
    # Nullable columns without a default: added without copying the table.
    op.add_column("organisations", sa.Column("phone_offline_seconds", sa.Integer(), nullable=True))
    op.add_column("organisations", sa.Column("phone_offline_status", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("phone_offline_status")
        batch.drop_column("phone_offline_seconds")
    op.drop_index("ix_phone_states_org", table_name="phone_states")
    op.drop_table("phone_states")
