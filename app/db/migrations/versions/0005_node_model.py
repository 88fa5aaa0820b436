"""the whole node model: every interface, protection, retirement, steps, RAID, shard

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_INTERFACES = (
    "bios",
    "boot",
    "console",
    "deploy",
    "firmware",
    "inspect",
    "management",
    "power",
    "raid",
    "rescue",
    "vendor",
)
_FLAGS = ("protected", "retired", "disable_power_off")
_TEXTS = ("protected_reason", "retired_reason")
_DOCUMENTS = (
    "network_data",
    "clean_step",
    "deploy_step",
    "service_step",
    "raid_config",
    "target_raid_config",
)


def _columns() -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [
        sa.Column(f"{kind}_interface", sa.String(length=255), nullable=True) for kind in _INTERFACES
    ]
    columns += [
        sa.Column(f, sa.Boolean(), nullable=False, server_default=sa.false()) for f in _FLAGS
    ]
    columns += [sa.Column(f, sa.Text(), nullable=True) for f in _TEXTS]
    columns += [sa.Column(f, sa.JSON(), nullable=True) for f in _DOCUMENTS]
    columns += [
        sa.Column("automated_clean", sa.Boolean(), nullable=True),
        sa.Column("boot_mode", sa.String(length=16), nullable=True),
        sa.Column("secure_boot", sa.Boolean(), nullable=True),
        sa.Column("shard", sa.String(length=255), nullable=True),
        sa.Column("parent_node", sa.String(length=36), nullable=True),
        sa.Column("inspection_started_at", sa.DateTime(), nullable=True),
        sa.Column("inspection_finished_at", sa.DateTime(), nullable=True),
    ]
    return columns


def upgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)
        batch_op.create_index("ix_nodes_shard", ["shard"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_nodes_shard")
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
