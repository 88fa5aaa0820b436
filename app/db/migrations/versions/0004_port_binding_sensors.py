"""port binding (internal_info) and the latest sensor data per node

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("internal_info", sa.JSON(), nullable=True))
    op.create_table(
        "node_sensors",
        sa.Column(
            "node_id",
            sa.Integer(),
            sa.ForeignKey("nodes.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("collected_at", sa.DateTime(), nullable=False),
        sa.Column("conductor", sa.String(length=255), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("node_sensors")
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.drop_column("internal_info")
