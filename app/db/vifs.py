"""VIFs: the virtual interfaces (Neutron ports) attached to a node's physical ports.

As in Ironic, an attached VIF is recorded in the port's ``internal_info`` under
``tenant_vif_port_id``; one port carries at most one VIF and a VIF sits on at most one port
of a node. Attach and detach happen in one transaction that holds the node row (``FOR
UPDATE`` on PostgreSQL), and only while no conductor holds the node's lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select, update

from app import exceptions, uuids
from app.db.engine import statement_scope, transaction_scope
from app.db.models import Node, utcnow
from app.db.nodes import read_row
from app.db.records import unlocked_node

_PORTS: Table = Node.metadata.tables["ports"]
VIF_KEY = "tenant_vif_port_id"


def of_node(ident: str) -> list[str]:
    """The VIFs attached to the node's ports, in port order."""
    with statement_scope() as conn:
        node = read_row(conn, ident)
        rows = conn.execute(
            select(_PORTS.c.internal_info).where(_PORTS.c.node_id == node.id).order_by(_PORTS.c.id)
        )
        return [info[VIF_KEY] for (info,) in rows if info and info.get(VIF_KEY)]


def _unlocked_node(conn: Connection, ident: str) -> Any:
    return unlocked_node(conn, read_row(conn, ident).id)


def _ports(conn: Connection, node_id: int) -> list[Any]:
    query = select(_PORTS).where(_PORTS.c.node_id == node_id).order_by(_PORTS.c.id)
    return list(conn.execute(query))


def _write_info(conn: Connection, port: Any, info: dict[str, Any]) -> None:
    conn.execute(
        update(_PORTS).where(_PORTS.c.id == port.id).values(internal_info=info, updated_at=utcnow())
    )


def _choose(node: Any, ports: list[Any], vif: str, port_uuid: str | None) -> Any:
    for port in ports:
        if (port.internal_info or {}).get(VIF_KEY) == vif:
            raise exceptions.VifAlreadyAttached(vif=vif, port=port.uuid)
    free = [p for p in ports if not (p.internal_info or {}).get(VIF_KEY)]
    if port_uuid is not None:
        wanted = uuids.canonical(port_uuid) or port_uuid
        chosen = [p for p in ports if p.uuid == wanted]
        if not chosen:
            raise exceptions.InvalidParameterValue(
                reason=f"port {port_uuid} is not a port of node {node.uuid}"
            )
        if chosen[0] not in free:
            raise exceptions.VifPortTaken(port=chosen[0].uuid)
        return chosen[0]
    if not free:
        raise exceptions.NoFreePhysicalPorts(vif=vif)
    return sorted(free, key=lambda p: not p.pxe_enabled)[0]  # PXE-enabled ports first


def attach(ident: str, vif: str, port_uuid: str | None = None) -> str:
    """Attach ``vif`` to a free port of the node (``port_uuid`` if given); returns the port."""
    with transaction_scope(write=True) as conn:
        node = _unlocked_node(conn, ident)
        port = _choose(node, _ports(conn, node.id), vif, port_uuid)
        _write_info(conn, port, {**(port.internal_info or {}), VIF_KEY: vif})
        return str(port.uuid)


def detach(ident: str, vif: str) -> None:
    """Detach ``vif`` from the node's port that carries it (a 400 if none does)."""
    with transaction_scope(write=True) as conn:
        node = _unlocked_node(conn, ident)
        for port in _ports(conn, node.id):
            info = dict(port.internal_info or {})
            if info.get(VIF_KEY) == vif:
                del info[VIF_KEY]
                _write_info(conn, port, info)
                return
        raise exceptions.VifNotAttached(vif=vif, node=node.uuid)
