"""Port queries. A MAC address belongs to at most one port."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import exceptions
from app.db.engine import session_scope
from app.db.models import Node, Port, utcnow


def _get_in(session: Session, uuid: str) -> Port:
    port = session.scalar(select(Port).where(Port.uuid == uuid))
    if port is None:
        raise exceptions.PortNotFound(port=uuid)
    return port


def get(uuid: str) -> tuple[Port, str]:
    """The port and the UUID of its node."""
    with session_scope() as session:
        port = _get_in(session, uuid)
        node_uuid = session.scalar(select(Node.uuid).where(Node.id == port.node_id))
        session.expunge(port)
        return port, str(node_uuid)


def create(node_uuid: str, values: dict[str, Any]) -> Port:
    try:
        with session_scope(write=True) as session:
            node_id = session.scalar(select(Node.id).where(Node.uuid == node_uuid))
            if node_id is None:
                raise exceptions.NodeNotFound(node=node_uuid)
            port = Port(node_id=node_id, **values)
            session.add(port)
            session.flush()
            session.refresh(port)
            session.expunge(port)
            return port
    except IntegrityError:
        if "uuid" in values and _exists(values["uuid"]):
            raise exceptions.Conflict(reason=f"port {values['uuid']} already exists") from None
        raise exceptions.PortAlreadyExists(address=values.get("address")) from None


def _exists(uuid: str) -> bool:
    with session_scope() as session:
        return session.scalar(select(Port.id).where(Port.uuid == uuid)) is not None


def list_ports(
    node_uuid: str | None = None,
    address: str | None = None,
    limit: int | None = None,
    marker: str | None = None,
) -> list[tuple[Port, str]]:
    """Ports with their node UUIDs, ordered by id, after ``marker`` (a port UUID)."""
    query = select(Port, Node.uuid).join(Node, Node.id == Port.node_id).order_by(Port.id)
    if node_uuid is not None:
        query = query.where(Node.uuid == node_uuid)
    if address is not None:
        query = query.where(Port.address == address)
    with session_scope() as session:
        if marker is not None:
            marker_id = session.scalar(select(Port.id).where(Port.uuid == marker))
            if marker_id is None:
                raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not a port")
            query = query.where(Port.id > marker_id)
        rows = [(port, str(uuid)) for port, uuid in session.execute(query.limit(limit))]
        session.expunge_all()
        return rows


def update_port(uuid: str, values: dict[str, Any], node_uuid: str | None = None) -> None:
    try:
        with session_scope(write=True) as session:
            _get_in(session, uuid)
            if node_uuid is not None:
                node_id = session.scalar(select(Node.id).where(Node.uuid == node_uuid))
                if node_id is None:
                    raise exceptions.NodeNotFound(node=node_uuid)
                values = {**values, "node_id": node_id}
            session.execute(
                update(Port).where(Port.uuid == uuid).values(updated_at=utcnow(), **values)
            )
    except IntegrityError:
        raise exceptions.PortAlreadyExists(address=values.get("address")) from None


def destroy(uuid: str) -> None:
    with session_scope(write=True) as session:
        _get_in(session, uuid)
        session.execute(delete(Port).where(Port.uuid == uuid))


def macs_of(node_uuid: str) -> list[str]:
    with session_scope() as session:
        query = select(Port.address).join(Node, Node.id == Port.node_id)
        return list(session.scalars(query.where(Node.uuid == node_uuid)))


def of_node(node_uuid: str) -> list[Port]:
    """A node's ports, detached, in creation order."""
    with session_scope() as session:
        query = select(Port).join(Node, Node.id == Port.node_id).where(Node.uuid == node_uuid)
        ports = list(session.scalars(query.order_by(Port.id)))
        session.expunge_all()
        return ports


def set_bindings(node_uuid: str, bindings: dict[str, dict[str, Any] | None]) -> None:
    """Record (or, with None, drop) the ``binding`` in each port's ``internal_info``."""
    with session_scope(write=True) as session:
        query = select(Port).join(Node, Node.id == Port.node_id).where(Node.uuid == node_uuid)
        for port in session.scalars(query):
            if port.uuid not in bindings:
                continue
            info = {k: v for k, v in (port.internal_info or {}).items() if k != "binding"}
            if bindings[port.uuid] is not None:
                info["binding"] = bindings[port.uuid]
            port.internal_info = info
            port.updated_at = utcnow()
