"""port groups, and the port group a port belongs to

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portgroups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=18), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("internal_info", sa.JSON(), nullable=True),
        sa.Column(
            "standalone_ports_supported", sa.Boolean(), nullable=False, server_default=sa.true()
        ),
        sa.Column("mode", sa.String(length=255), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("address"),
    )
    op.create_index("ix_portgroups_node_id", "portgroups", ["node_id"], unique=False)
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("portgroup_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_ports_portgroup_id", ["portgroup_id"], unique=False)
        batch_op.create_foreign_key("fk_ports_portgroup_id", "portgroups", ["portgroup_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ports_portgroup_id", type_="foreignkey")
        batch_op.drop_index("ix_ports_portgroup_id")
        batch_op.drop_column("portgroup_id")
    op.drop_index("ix_portgroups_node_id", table_name="portgroups")
    op.drop_table("portgroups")
