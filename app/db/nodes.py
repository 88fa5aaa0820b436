"""Node rows: read and written one way (Core statements), returned as one type (:class:`Node`).

A node is locked by writing the holder's hostname into ``nodes.reservation`` with
``UPDATE ... WHERE reservation IS NULL`` and checking the row count: exactly one writer wins,
whatever the database. Releasing is conditional on the holder, so nobody frees a lock that is
not theirs.

Every function here runs Core statements on a connection (:func:`statement_scope` for one
statement, :func:`transaction_scope` for several that must be atomic together) and hands back
:class:`Node` objects that no session owns. The ORM session around the same statements cost
three times as much CPU (py-spy put the API's single-node GET and PATCH mostly there), and
building a Node through its constructor was two thirds of the time of listing 1,000 nodes;
:func:`as_node` fills a bare instance instead (5 µs a node rather than 110).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    RowMapping,
    Table,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import configure_mappers

from app import exceptions, uuids
from app.db.engine import statement_scope, transaction_scope
from app.db.models import Node, NodeHistory, utcnow
from app.db.records import sortable


@dataclass(frozen=True)
class Event:
    """A history entry to write with a lock change."""

    event: str
    event_type: str = "provisioning"
    severity: str = "INFO"
    conductor: str | None = None
    user: str | None = None


_NODES: Table = Node.metadata.tables["nodes"]
_HISTORY: Table = Node.metadata.tables["node_history"]
_C = _NODES.c
#: The hot statements, built once.
_BY_UUID = select(_NODES).where(_C.uuid == bindparam("ident"))
_BY_NAME = select(_NODES).where(_C.name == bindparam("ident"))
#: PATCH: only while unlocked, and only the row as it was read (``updated_at``; ``IS`` so
#: that a never-updated NULL matches). The SET clause is the parameters' column names.
_UPDATE_AS_READ = update(_NODES).where(
    _C.id == bindparam("read_id"),
    _C.reservation.is_(None),
    _C.updated_at.is_not_distinct_from(bindparam("read_updated_at")),
)
# Instruments the model classes now, as a first query or constructor call would: a bare
# instance of an unconfigured class has no attribute access yet.
configure_mappers()
_NEW_NODE = inspect(Node).class_manager.new_instance
_NEW_EVENT = inspect(NodeHistory).class_manager.new_instance


def as_node(values: Mapping[str, Any] | RowMapping) -> Node:
    """A Node holding ``values`` (a row's mapping), owned by no session."""
    node = _NEW_NODE()
    node.__dict__.update(values)
    return node


def _event(values: RowMapping) -> NodeHistory:
    event = _NEW_EVENT()
    event.__dict__.update(values)
    return event


def read_row(conn: Connection, ident: str) -> Any:
    """The row of the node with this UUID (any spelling) or name; :class:`NodeNotFound` if
    there is none."""
    uuid = uuids.canonical(ident)
    query = _BY_NAME if uuid is None else _BY_UUID
    row = conn.execute(query, {"ident": uuid or ident}).one_or_none()
    if row is None:
        raise exceptions.NodeNotFound(node=ident)
    return row


def get(ident: str) -> Node:
    """The node with this UUID or name."""
    with statement_scope() as conn:
        return as_node(read_row(conn, ident)._mapping)


def create(values: dict[str, Any]) -> Node:
    """Insert a node; a duplicate name or UUID is a 409."""
    try:
        with transaction_scope(write=True) as conn:
            row = conn.execute(insert(_NODES).values(**values).returning(*_C)).one()
    except IntegrityError as exc:
        raise _duplicate(exc, values) from None
    return as_node(row._mapping)


def _duplicate(exc: IntegrityError, values: dict[str, Any]) -> exceptions.IronworksError:
    """The 409 for a write that hit a unique column (a node's name or UUID)."""
    field = "name" if values.get("name") and "name" in str(exc.orig).lower() else "uuid"
    return exceptions.NodeAlreadyExists(field=field, value=values.get(field))


def create_many(rows: list[dict[str, Any]]) -> None:
    """Insert many nodes in one statement (seeding a benchmark); defaults fill the rest."""
    with transaction_scope(write=True) as conn:
        conn.execute(insert(_NODES), rows)


def delete_where(**filters: Any) -> int:
    """Delete every node matching ``filters`` whatever its state; how many went."""
    with statement_scope(write=True) as conn:
        return int(conn.execute(_matching(delete(_NODES), filters)).rowcount)


def _matching(query: Any, filters: Mapping[str, Any]) -> Any:
    return query.where(*(_C[column] == value for column, value in filters.items()))


#: Columns ``GET /v1/nodes`` may sort by: every column but the JSON documents and the
#: conductor's own bookkeeping, as in Ironic.
SORT_KEYS = tuple(
    column.name
    for column in _NODES.columns
    if not isinstance(column.type, JSON) and column.name not in ("conductor_affinity",)
)


def _sort_column(key: str) -> Any:
    """The column to sort on, with NULL read as the type's least value (so a marker on a
    node with a NULL in that column still pages)."""
    if key not in SORT_KEYS:
        raise exceptions.InvalidParameterValue(
            reason=f"cannot sort on {key!r}; sortable: {', '.join(SORT_KEYS)}"
        )
    return sortable(_C[key], _C.created_at)


def list_nodes(
    filters: dict[str, Any] | None = None,
    limit: int | None = None,
    marker: str | None = None,
    sort_key: str = "id",
    sort_dir: str = "asc",
    associated: bool | None = None,
    columns: list[str] | None = None,
    description_contains: str | None = None,
    project: str | None = None,
) -> list[Node]:
    """Nodes in ``(sort_key, id)`` order, after the node ``marker`` (a UUID).

    ``columns`` reads only those columns (and ``uuid``); the others are None on the nodes.
    ``project`` matches the owner or the lessee; ``description_contains`` a substring.
    """
    column = _sort_column(sort_key)
    if sort_dir not in ("asc", "desc"):
        raise exceptions.InvalidParameterValue(reason="sort_dir must be 'asc' or 'desc'")
    wanted = [_NODES] if columns is None else [_C[c] for c in {"uuid", *columns}]
    query = _matching(select(*wanted), filters or {})
    if associated is not None:
        query = query.where(
            _C.instance_uuid.is_not(None) if associated else _C.instance_uuid.is_(None)
        )
    if description_contains is not None:
        query = query.where(_C.description.contains(description_contains, autoescape=True))
    if project is not None:
        query = query.where(or_(_C.owner == project, _C.lessee == project))
    ordering = (column, _C.id) if sort_dir == "asc" else (column.desc(), _C.id.desc())
    with transaction_scope() as conn:
        if marker is not None:
            marker_uuid = uuids.canonical(marker) or marker
            row = conn.execute(select(column, _C.id).where(_C.uuid == marker_uuid)).first()
            if row is None:
                raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not a node")
            key = tuple_(column, _C.id)
            after = key > tuple_(row[0], row[1]) if sort_dir == "asc" else key < tuple_(*row)
            query = query.where(after)
        query = query.order_by(*ordering).limit(limit)
        return [as_node(row._mapping) for row in conn.execute(query)]


def destroy(ident: str, allowed_states: tuple[str, ...]) -> None:
    """Delete an unlocked, unprotected node in one of ``allowed_states`` that no instance
    uses."""
    with transaction_scope(write=True) as conn:
        node = read_row(conn, ident)
        if node.reservation is not None:
            raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)
        if node.protected:
            raise exceptions.NodeProtected(node=node.uuid)
        if node.instance_uuid is not None:
            raise exceptions.NodeAssociated(node=node.uuid, instance=node.instance_uuid)
        if node.provision_state not in allowed_states:
            raise exceptions.InvalidStateForDelete(
                node=node.uuid, state=node.provision_state, allowed=", ".join(allowed_states)
            )
        result = conn.execute(delete(_NODES).where(_C.id == node.id, _C.reservation.is_(None)))
        if result.rowcount != 1:
            raise exceptions.NodeLocked(node=node.uuid, host="another conductor")


def reserve(ident: str, holder: str, history: list[Event] | None = None, **values: Any) -> Node:
    """Lock the node for ``holder`` and write ``values`` in the same atomic statement; the
    node as locked. Raises :class:`NodeLocked` naming the current holder when the node is
    locked, and :class:`NodeStateChanged` when it was released between read and update."""
    with transaction_scope(write=True) as conn:
        row = read_row(conn, ident)
        if row.reservation is not None:
            raise exceptions.NodeLocked(node=row.uuid, host=row.reservation)
        written = {"reservation": holder, "updated_at": utcnow(), **values}
        query = update(_NODES).where(_C.id == row.id, _C.reservation.is_(None))
        if conn.execute(query.values(**written)).rowcount != 1:
            raise _refusal(conn, _C.id == row.id, row.uuid)
        _add_history(conn, row.id, history)
        # What the UPDATE wrote, without reading the row back (one round trip less).
        return as_node({**row._mapping, **written})


def lock_for(
    uuid: str,
    holder: str,
    expected_state: str | None = None,
    history: list[Event] | None = None,
    before_commit: Callable[[], None] | None = None,
    **values: Any,
) -> None:
    """:func:`reserve` for a caller that has read the node already (the API): the lock is
    one ``UPDATE ... RETURNING`` by UUID, and the row is only read again when the lock
    cannot be taken, to say why (:class:`NodeLocked` naming the holder, or
    :class:`NodeStateChanged`)."""
    with transaction_scope(write=True) as conn:
        query = update(_NODES).where(_C.uuid == uuid, _C.reservation.is_(None))
        if expected_state is not None:
            query = query.where(_C.provision_state == expected_state)
        written = {"reservation": holder, "updated_at": utcnow(), **values}
        node_id = conn.scalar(query.values(**written).returning(_C.id))
        if node_id is None:
            raise _refusal(conn, _C.uuid == uuid, uuid)
        _add_history(conn, node_id, history)
        if before_commit is not None:
            before_commit()


def release(uuid: str, holder: str, history: list[Event] | None = None, **values: Any) -> bool:
    """Release ``holder``'s lock, writing ``values`` (and history) in the same transaction.

    Returns False when ``holder`` did not hold the lock (nothing is written then).
    """
    with transaction_scope(write=True) as conn:
        query = update(_NODES).where(_C.uuid == uuid, _C.reservation == holder)
        written = {"reservation": None, "updated_at": utcnow(), **values}
        node_id = conn.scalar(query.values(**written).returning(_C.id))
        if node_id is None:
            return False
        _add_history(conn, node_id, history)
        return True


def update_unlocked(node: Node, values: dict[str, Any]) -> Node:
    """Write ``values`` to ``node`` (as the caller read it) while nobody holds it, and return
    it as written: a user's PATCH. The UPDATE only matches the row as it was read (same
    ``updated_at``), so two PATCHes computed from the same read cannot overwrite each other:
    the later one gets :class:`NodeStateChanged` (409, retry) — or :class:`NodeLocked`
    naming the holder when the node is locked, :class:`NodeAlreadyExists` for a name
    another node has, or :class:`NodeNotFound`."""
    written = {"updated_at": utcnow(), **values}
    try:
        with statement_scope(write=True) as conn:
            params = {"read_id": node.id, "read_updated_at": node.updated_at, **written}
            result = conn.execute(_UPDATE_AS_READ, params)
    except IntegrityError as exc:
        raise _duplicate(exc, values) from None
    if result.rowcount == 1:
        node.__dict__.update(written)
        return node
    with statement_scope() as conn:
        raise _refusal(conn, _C.id == node.id, node.uuid)


def _refusal(conn: Connection, where: Any, uuid: str) -> exceptions.IronworksError:
    """Why a conditional write on a node matched no row: it is gone, locked (naming the
    holder), or it changed since it was read."""
    row = conn.execute(select(_C.reservation).where(where)).first()
    if row is None:
        return exceptions.NodeNotFound(node=uuid)
    if row.reservation is None:
        return exceptions.NodeStateChanged(node=uuid)
    return exceptions.NodeLocked(node=uuid, host=row.reservation)


def _add_history(conn: Connection, node_id: int, events: list[Event] | None) -> None:
    if events:
        rows = [{"node_id": node_id, **vars(event)} for event in events]
        conn.execute(insert(_HISTORY), rows)


def history(ident: str, limit: int | None = None) -> list[NodeHistory]:
    """A node's events, oldest first."""
    with transaction_scope() as conn:
        node_id = read_row(conn, ident).id
        query = select(_HISTORY).where(_HISTORY.c.node_id == node_id)
        rows = conn.execute(query.order_by(_HISTORY.c.id).limit(limit))
        return [_event(row._mapping) for row in rows]


def set_maintenance(uuid: str, on: bool, reason: str | None, event: Event) -> None:
    """Set or clear maintenance; allowed while the node is locked (it starts no work)."""
    with transaction_scope(write=True) as conn:
        node_id = read_row(conn, uuid).id
        conn.execute(
            update(_NODES)
            .where(_C.id == node_id)
            .values(
                maintenance=on,
                maintenance_reason=reason if on else None,
                fault=None,
                updated_at=utcnow(),
            )
        )
        _add_history(conn, node_id, [event])


def update_values(uuid: str, **values: Any) -> None:
    """Write ``values`` to the node whatever its lock (the conductor's own bookkeeping)."""
    with statement_scope(write=True) as conn:
        conn.execute(update(_NODES).where(_C.uuid == uuid).values(updated_at=utcnow(), **values))


def transfer_lock(uuid: str, holder: str, new_holder: str) -> bool:
    """Hand ``holder``'s lock on a node to ``new_holder`` (a takeover)."""
    query = update(_NODES).where(_C.uuid == uuid, _C.reservation == holder)
    with statement_scope(write=True) as conn:
        result = conn.execute(query.values(reservation=new_holder, updated_at=utcnow()))
    return bool(result.rowcount)


def clear_reservations(holder: str) -> int:
    """Release every lock ``holder`` holds; returns how many nodes were unlocked."""
    query = update(_NODES).where(_C.reservation == holder).values(reservation=None)
    with statement_scope(write=True) as conn:
        return int(conn.execute(query).rowcount)


def _nodes(query: Any) -> list[Node]:
    with statement_scope() as conn:
        return [as_node(row._mapping) for row in conn.execute(query.order_by(_C.id))]


def locked_by(holder: str) -> list[Node]:
    """Nodes ``holder`` holds locks on."""
    return _nodes(select(_NODES).where(_C.reservation == holder))


def for_conductor(conductor_group: str | None, drivers: list[str], **filters: Any) -> list[Node]:
    """The nodes of ``conductor_group`` whose driver is in ``drivers``, by id."""
    query = select(_NODES).where(_C.conductor_group == conductor_group, _C.driver.in_(drivers))
    return _nodes(_matching(query, filters))


def count_by(*columns: str) -> dict[tuple[Any, ...], int]:
    """How many nodes have each combination of values of ``columns``."""
    selected = [_C[name] for name in columns]
    query = select(*selected, func.count()).group_by(*selected)
    with statement_scope() as conn:
        return {tuple(row[:-1]): int(row[-1]) for row in conn.execute(query)}


def ring_inputs() -> list[tuple[str, str, str]]:
    """(uuid, driver, conductor_group) of every node: what the hash ring routes on."""
    query = select(_C.uuid, _C.driver, _C.conductor_group)
    with statement_scope() as conn:
        return [(uuid, driver, group) for uuid, driver, group in conn.execute(query)]
