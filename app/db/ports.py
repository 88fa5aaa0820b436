"""Port queries. A MAC address belongs to at most one port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import exceptions, uuids
from app.db.engine import session_scope, transaction_scope
from app.db.models import Node, Port, Portgroup, utcnow

_NODES: Table = Node.metadata.tables["nodes"]
_PORTS: Table = Node.metadata.tables["ports"]
#: A rule run inside the write's transaction on the port's node row (and, for a move, the
#: new node's row): raising refuses the write (:mod:`app.port_rules`).
Check = Callable[[Any, Any | None], None]


def _get_in(session: Session, uuid: str) -> Port:
    port = session.scalar(select(Port).where(Port.uuid == (uuids.canonical(uuid) or uuid)))
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
    portgroup_id: int | None = None,
) -> list[tuple[Port, str]]:
    """Ports with their node UUIDs, ordered by id, after ``marker`` (a port UUID)."""
    query = select(Port, Node.uuid).join(Node, Node.id == Port.node_id).order_by(Port.id)
    if node_uuid is not None:
        query = query.where(Node.uuid == node_uuid)
    if address is not None:
        query = query.where(Port.address == address)
    if portgroup_id is not None:
        query = query.where(Port.portgroup_id == portgroup_id)
    with session_scope() as session:
        if marker is not None:
            marker_uuid = uuids.canonical(marker) or marker
            marker_id = session.scalar(select(Port.id).where(Port.uuid == marker_uuid))
            if marker_id is None:
                raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not a port")
            query = query.where(Port.id > marker_id)
        rows = [(port, str(uuid)) for port, uuid in session.execute(query.limit(limit))]
        session.expunge_all()
        return rows


def _node_row(conn: Connection, where: Any, ident: str) -> Any:
    """The node row (locked against concurrent writers on PostgreSQL until commit)."""
    row = conn.execute(select(_NODES).where(where).with_for_update()).first()
    if row is None:
        raise exceptions.NodeNotFound(node=ident)
    return row


def update_port(
    port: Port, values: dict[str, Any], node_uuid: str | None = None, check: Check | None = None
) -> None:
    """Write ``values`` to ``port`` as the caller read it (moving it to the node
    ``node_uuid`` when given) after ``check(node, new_node)`` let it; one transaction.

    Only the row as it was read is written (same ``updated_at``): of two PATCHes computed
    from one read, the later gets :class:`PortChanged` (409, retry) instead of silently
    undoing the first."""
    written = {"updated_at": utcnow(), **values}
    try:
        with transaction_scope(write=True) as conn:
            node = _node_row(conn, _NODES.c.id == port.node_id, str(port.node_id))
            new_node = (
                None
                if node_uuid is None
                else _node_row(conn, _NODES.c.uuid == node_uuid, node_uuid)
            )
            if check is not None:
                check(node, new_node)
            if new_node is not None:
                written["node_id"] = new_node.id
            query = update(_PORTS).where(
                _PORTS.c.id == port.id,
                _PORTS.c.updated_at.is_not_distinct_from(port.updated_at),
            )
            if conn.execute(query.values(**written)).rowcount != 1:
                raise _gone_or_changed(conn, port.uuid)
    except IntegrityError:
        raise exceptions.PortAlreadyExists(address=values.get("address")) from None


def _gone_or_changed(conn: Connection, uuid: str) -> exceptions.IronworksError:
    if conn.execute(select(_PORTS.c.id).where(_PORTS.c.uuid == uuid)).first() is None:
        return exceptions.PortNotFound(port=uuid)
    return exceptions.PortChanged(port=uuid)


def destroy(uuid: str, check: Callable[[Any, dict[str, Any] | None], None] | None = None) -> None:
    """Delete the port after ``check(node, internal_info)`` let it; one transaction."""
    with transaction_scope(write=True) as conn:
        query = select(_PORTS).where(_PORTS.c.uuid == (uuids.canonical(uuid) or uuid))
        port = conn.execute(query).first()
        if port is None:
            raise exceptions.PortNotFound(port=uuid)
        node = _node_row(conn, _NODES.c.id == port.node_id, str(port.node_id))
        if check is not None:
            check(node, port.internal_info)
        conn.execute(delete(_PORTS).where(_PORTS.c.id == port.id))


def portgroup_uuids(ids: set[int]) -> dict[int, str]:
    """``{port group id: its UUID}`` for the port groups ``ids`` (one query)."""
    if not ids:
        return {}
    with session_scope() as session:
        query = select(Portgroup.id, Portgroup.uuid).where(Portgroup.id.in_(ids))
        return {row.id: row.uuid for row in session.execute(query)}


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
