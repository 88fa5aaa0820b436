"""The latest sensor readings per node (one row each, replaced on every collection)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from app import exceptions
from app.db.engine import session_scope
from app.db.models import Node, NodeSensors, utcnow


@dataclass(frozen=True)
class Readings:
    data: dict[str, Any]
    collected_at: dt.datetime
    conductor: str | None


def save(node_uuid: str, data: dict[str, Any], conductor: str) -> bool:
    """Replace the node's readings; False when the node no longer exists."""
    with session_scope(write=True) as session:
        node_id = session.scalar(select(Node.id).where(Node.uuid == node_uuid))
        if node_id is None:
            return False
        session.execute(delete(NodeSensors).where(NodeSensors.node_id == node_id))
        session.add(
            NodeSensors(node_id=node_id, data=data, collected_at=utcnow(), conductor=conductor)
        )
        return True


def latest(node_uuid: str) -> Readings | None:
    with session_scope() as session:
        node_id = session.scalar(select(Node.id).where(Node.uuid == node_uuid))
        if node_id is None:
            raise exceptions.NodeNotFound(node=node_uuid)
        row = session.get(NodeSensors, node_id)
        if row is None:
            return None
        return Readings(dict(row.data), row.collected_at, row.conductor)
