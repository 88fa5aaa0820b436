"""chassis, volume connectors and volume targets

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _common() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    ]


def _owned(name: str, *columns: sa.Column[object], unique: tuple[str, ...]) -> None:
    op.create_table(
        name,
        *_common(),
        sa.Column("node_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint(*unique),
    )
    op.create_index(f"ix_{name}_node_id", name, ["node_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "chassis",
        *_common(),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    _owned(
        "volume_connectors",
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("connector_id", sa.String(length=255), nullable=False),
        unique=("type", "connector_id"),
    )
    _owned(
        "volume_targets",
        sa.Column("volume_type", sa.String(length=64), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("boot_index", sa.Integer(), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        unique=("node_id", "boot_index"),
    )
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chassis_uuid", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_nodes_chassis_uuid", ["chassis_uuid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_nodes_chassis_uuid")
        batch_op.drop_column("chassis_uuid")
    for name in ("volume_targets", "volume_connectors"):
        op.drop_index(f"ix_{name}_node_id", table_name=name)
        op.drop_table(name)
    op.drop_table("chassis")
