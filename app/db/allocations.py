"""Allocations: reserving an available node that has a resource class and traits.

Ironic's allocation process (``ironic/conductor/allocations.py``), in one transaction: the
candidates are available nodes with a power state, out of maintenance, with no instance,
of the resource class, among ``candidate_nodes`` if given, owned or leased by
the allocation's ``owner`` if given, and having every requested trait. They are tried in a
random order (so parallel allocations do not collide on the same node); the first that an
atomic ``UPDATE ... WHERE instance_uuid IS NULL AND reservation IS NULL`` takes gets the
allocation's UUID as its ``instance_uuid``. No hardware is touched, so this runs where the
allocation is recorded, and an allocation is never left half-made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import tenacity
from sqlalchemy import Connection, RowMapping, Table, exists, false, func, or_, select, update

from app import exceptions, states
from app.db.engine import statement_scope, transaction_scope
from app.db.models import Allocation, Node, utcnow
from app.db.records import node_for_update

_NODES: Table = Node.metadata.tables["nodes"]
_TRAITS: Table = Node.metadata.tables["node_traits"]
_ALLOCATIONS: Table = Node.metadata.tables["allocations"]
_C = _NODES.c
ALLOCATING, ACTIVE, ERROR = "allocating", "active", "error"
#: An allocation this many seconds old and still allocating lost its message.
STALE_AFTER = 30.0


def _candidates(conn: Connection, values: dict[str, Any]) -> list[Any]:
    query = select(_C.id, _C.uuid).where(
        _C.provision_state == states.AVAILABLE,
        _C.maintenance == false(),
        _C.instance_uuid.is_(None),
        _C.power_state.is_not(None),
        _C.resource_class == values.get("resource_class"),
    )
    if values.get("candidate_nodes"):
        query = query.where(_C.uuid.in_(values["candidate_nodes"]))
    if values.get("owner"):
        query = query.where(or_(_C.owner == values["owner"], _C.lessee == values["owner"]))
    return list(conn.execute(query))


def _with_traits(conn: Connection, nodes: list[Any], traits: list[str]) -> list[Any]:
    if not traits or not nodes:
        return nodes
    query = select(_C.id).where(_C.id.in_([n.id for n in nodes]))
    for trait in traits:
        has = select(_TRAITS.c.node_id).where(_TRAITS.c.node_id == _C.id, _TRAITS.c.trait == trait)
        query = query.where(exists(has))
    keep = set(conn.scalars(query))
    return [n for n in nodes if n.id in keep]


def _failed(values: dict[str, Any], error: str) -> None:
    values.update(
        state=ERROR,
        node_id=None,
        last_error=f"Failed to process allocation {values['uuid']}: {error}.",
    )


def allocate(conn: Connection, _row: RowMapping | None, values: dict[str, Any]) -> None:
    """Process the allocation ``values`` (about to be inserted): ``state`` ends ``active``
    with ``node_id`` set, or ``error`` with ``last_error`` saying why."""
    nodes = _candidates(conn, values)
    rc = values.get("resource_class")
    if not nodes:
        where = "none of the requested nodes are" if values.get("candidate_nodes") else "no"
        return _failed(values, f"{where} available nodes match the resource class {rc}")
    nodes = _with_traits(conn, nodes, values.get("traits") or [])
    if not nodes:
        traits = ", ".join(values.get("traits") or [])
        return _failed(values, f"no suitable nodes have the requested traits {traits}")
    order = {n.id: i for i, n in enumerate(nodes)}
    shuffled = conn.scalars(
        select(_C.id).where(_C.id.in_(list(order))).order_by(func.random())
    ).all()
    for node_id in shuffled:
        taken = conn.execute(
            update(_NODES)
            .where(
                _C.id == node_id,
                _C.instance_uuid.is_(None),
                _C.reservation.is_(None),
                _C.provision_state == states.AVAILABLE,
            )
            .values(
                instance_uuid=values["uuid"], allocation_uuid=values["uuid"], updated_at=utcnow()
            )
        )
        if taken.rowcount == 1:
            values.update(state=ACTIVE, node_id=node_id, last_error=None)
            return None
    # Every match is locked (a power request finishing, say) or was taken meanwhile: as
    # Ironic does, the caller tries again a little later.
    raise exceptions.NodeLocked(node=", ".join(str(n) for n in shuffled), host="a conductor")


def release(conn: Connection, row: RowMapping | None, _values: dict[str, Any]) -> None:
    """Free the allocation's node as the allocation goes, if the node's state allows it."""
    assert row is not None
    if row["node_id"] is None:
        return
    node = node_for_update(conn, row["node_id"])
    if not node.maintenance:
        busy = (
            node.target_provision_state and node.provision_state not in states.UPDATE_ALLOWED_STATES
        )
        if busy or node.provision_state == states.ACTIVE:
            raise exceptions.InvalidState(
                reason=f"Cannot remove allocation {row['uuid']} for node {node.uuid}, because "
                f"the node is {node.provision_state} (and maintenance mode is off)"
            )
    conn.execute(
        update(_NODES)
        .where(_C.id == node.id, _C.allocation_uuid == row["uuid"])
        .values(instance_uuid=None, allocation_uuid=None, updated_at=utcnow())
    )


#: How often, and how far apart, an allocation whose every match is locked is tried.
LOCKED_ATTEMPTS, LOCKED_INTERVAL = 5, 1.0


def process(uuid: str) -> str | None:
    """Process the allocation ``uuid`` if it is still ``allocating``; its new state, or
    None when there was nothing to do (gone, or already processed). While every matching
    node is locked it tries again, :data:`LOCKED_ATTEMPTS` times in all."""
    try:
        for attempt in tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(exceptions.NodeLocked),
            stop=tenacity.stop_after_attempt(LOCKED_ATTEMPTS),
            wait=tenacity.wait_fixed(LOCKED_INTERVAL),
            reraise=True,
        ):
            with attempt:
                return _process_once(uuid)
    except exceptions.NodeLocked:
        fail(uuid, f"Failed to process allocation {uuid}: every matching node stayed locked.")
        return ERROR
    return None  # not reached: Retrying returns or raises


def _process_once(uuid: str) -> str | None:
    with transaction_scope(write=True) as conn:
        row = conn.execute(
            select(_ALLOCATIONS).where(_ALLOCATIONS.c.uuid == uuid).with_for_update()
        ).first()
        if row is None or row.state != ALLOCATING:
            return None
        values = dict(row._mapping)
        allocate(conn, None, values)
        conn.execute(
            update(_ALLOCATIONS)
            .where(_ALLOCATIONS.c.id == row.id)
            .values(
                state=values["state"],
                node_id=values["node_id"],
                last_error=values["last_error"],
                updated_at=utcnow(),
            )
        )
        return str(values["state"])


def stale(older_than: float) -> list[str]:
    """UUIDs of the allocations ``allocating`` for more than ``older_than`` seconds."""
    since = utcnow() - dt.timedelta(seconds=older_than)
    query = select(Allocation.uuid).where(
        Allocation.state == ALLOCATING, Allocation.created_at < since
    )
    with statement_scope() as conn:
        return [str(uuid) for uuid in conn.scalars(query)]


def fail(uuid: str, error: str) -> None:
    """Record that the allocation could not be processed (it could not be queued)."""
    with statement_scope(write=True) as conn:
        conn.execute(
            update(_ALLOCATIONS)
            .where(_ALLOCATIONS.c.uuid == uuid, _ALLOCATIONS.c.state == ALLOCATING)
            .values(state=ERROR, last_error=error, updated_at=utcnow())
        )
