"""Node queries, including the atomic row reservation that is a node's exclusive lock.

A node is locked by writing the holder's hostname into ``nodes.reservation`` with
``UPDATE ... WHERE reservation IS NULL`` and checking the row count: exactly one writer wins,
whatever the database. Releasing is conditional on the holder, so nobody frees a lock that is
not theirs.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app import exceptions
from app.db.engine import session_scope, statement_scope
from app.db.models import Node, NodeHistory, utcnow


@dataclass(frozen=True)
class Event:
    """A history entry to write with a lock change."""

    event: str
    event_type: str = "provisioning"
    severity: str = "INFO"
    conductor: str | None = None
    user: str | None = None


def _is_uuid(value: str) -> bool:
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return True


def _ident_filter(ident: str) -> Any:
    return Node.uuid == ident if _is_uuid(ident) else Node.name == ident


def get_in(session: Session, ident: str) -> Node:
    """The node with this UUID or name, attached to ``session``."""
    node = session.scalar(select(Node).where(_ident_filter(ident)))
    if node is None:
        raise exceptions.NodeNotFound(node=ident)
    return node


_NODES = Node.metadata.tables["nodes"]
#: The hot statements, built once. Read and written with Core on one connection: the ORM
#: session around the same statement cost three times as much CPU (py-spy put the API's
#: single-node GET and PATCH mostly there).
_BY_UUID = select(_NODES).where(_NODES.c.uuid == bindparam("ident"))
_BY_NAME = select(_NODES).where(_NODES.c.name == bindparam("ident"))
#: PATCH: only while unlocked, and only the row as it was read (``updated_at``; ``IS`` so
#: that a never-updated NULL matches). The SET clause is the parameters' column names.
_UPDATE_AS_READ = update(_NODES).where(
    _NODES.c.id == bindparam("read_id"),
    _NODES.c.reservation.is_(None),
    _NODES.c.updated_at.is_not_distinct_from(bindparam("read_updated_at")),
)


#: A node read as a row (``row.uuid``...): what listings return, read like a Node.
NodeRow = Row[Any]
#: What the API's views read: a Node, or a row of the nodes table.
NodeRecord = Node | NodeRow


def _detached(row: NodeRow) -> Node:
    """A detached Node from a full row, as if loaded by a session and expunged."""
    node = Node(**row._mapping)
    make_transient_to_detached(node)
    return node


def get(ident: str) -> Node:
    """A detached copy of the node with this UUID or name."""
    query = _BY_UUID if _is_uuid(ident) else _BY_NAME
    with statement_scope() as conn:
        row = conn.execute(query, {"ident": ident}).one_or_none()
    if row is None:
        raise exceptions.NodeNotFound(node=ident)
    return _detached(row)


def create(values: dict[str, Any]) -> Node:
    """Insert a node; a duplicate name or UUID is a 409."""
    try:
        with session_scope(write=True) as session:
            node = Node(**values)
            session.add(node)
            session.flush()
            session.refresh(node)
            session.expunge(node)
            return node
    except IntegrityError as exc:
        field = "name" if values.get("name") and "name" in str(exc.orig).lower() else "uuid"
        raise exceptions.NodeAlreadyExists(field=field, value=values.get(field)) from None


def list_query(filters: dict[str, Any], *selected: Any) -> Select[Any]:
    """Nodes matching ``filters`` (column: value): ORM entities, or ``selected`` instead."""
    query = select(*selected) if selected else select(Node)
    for column, value in filters.items():
        query = query.where(getattr(Node, column) == value)
    return query


#: Columns ``GET /v1/nodes`` may sort by (JSON columns are not sortable).
SORT_KEYS = (
    "id",
    "uuid",
    "name",
    "driver",
    "provision_state",
    "power_state",
    "conductor_group",
    "resource_class",
    "maintenance",
    "created_at",
    "updated_at",
    "provision_updated_at",
)


def _sort_column(key: str) -> Any:
    column = getattr(Node, key)
    if key in ("updated_at", "provision_updated_at"):
        return func.coalesce(column, Node.created_at)
    if key in ("name", "power_state", "resource_class"):
        return func.coalesce(column, "")
    return column


def list_nodes(
    filters: dict[str, Any] | None = None,
    limit: int | None = None,
    marker: str | None = None,
    sort_key: str = "id",
    sort_dir: str = "asc",
    associated: bool | None = None,
    columns: list[str] | None = None,
) -> list[NodeRow]:
    """Nodes in ``(sort_key, id)`` order, after the node ``marker`` (a UUID), as rows.

    ``columns`` reads only those columns (and ``uuid``). Rows, not ORM objects: building a
    Node per row was two thirds of the time of listing 1,000 nodes.
    """
    if sort_key not in SORT_KEYS:
        raise exceptions.InvalidParameterValue(
            reason=f"cannot sort on {sort_key!r}; sortable: {', '.join(SORT_KEYS)}"
        )
    if sort_dir not in ("asc", "desc"):
        raise exceptions.InvalidParameterValue(reason="sort_dir must be 'asc' or 'desc'")
    column = _sort_column(sort_key)
    wanted = [_NODES] if columns is None else [_NODES.c[c] for c in {"uuid", *columns}]
    query = list_query(filters or {}, *wanted)
    if associated is not None:
        query = query.where(
            Node.instance_uuid.is_not(None) if associated else Node.instance_uuid.is_(None)
        )
    ordering = (column, Node.id) if sort_dir == "asc" else (column.desc(), Node.id.desc())
    with session_scope() as session:
        if marker is not None:
            row = session.execute(select(column, Node.id).where(Node.uuid == marker)).first()
            if row is None:
                raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not a node")
            after = tuple_(column, Node.id) > tuple_(row[0], row[1])
            before = tuple_(column, Node.id) < tuple_(row[0], row[1])
            query = query.where(after if sort_dir == "asc" else before)
        query = query.order_by(*ordering)
        if limit is not None:
            query = query.limit(limit)
        return list(session.execute(query))


def count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count(Node.id))) or 0


def destroy(ident: str, allowed_states: tuple[str, ...]) -> None:
    """Delete an unlocked node in one of ``allowed_states``."""
    with session_scope(write=True) as session:
        node = get_in(session, ident)
        if node.reservation is not None:
            raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)
        if node.provision_state not in allowed_states:
            raise exceptions.InvalidStateForDelete(
                node=node.uuid, state=node.provision_state, allowed=", ".join(allowed_states)
            )
        result = session.execute(delete(Node).where(Node.id == node.id, Node.reservation.is_(None)))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise exceptions.NodeLocked(node=node.uuid, host="another conductor")


def reserve(ident: str, holder: str, history: list[Event] | None = None, **values: Any) -> Node:
    """Lock the node for ``holder`` and write ``values`` in the same atomic statement; the
    node as locked. Raises :class:`NodeLocked` naming the current holder when the node is
    locked, and :class:`NodeStateChanged` when it was released between read and update."""
    with session_scope(write=True) as session:
        node = get_in(session, ident)
        if node.reservation is None:
            now = utcnow()
            result = session.execute(
                update(Node)
                .where(Node.id == node.id, Node.reservation.is_(None))
                .values(reservation=holder, updated_at=now, **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                _add_history(session, node.id, history)
                # What the UPDATE wrote, without reading the row back (one round trip less).
                for key, value in {"reservation": holder, "updated_at": now, **values}.items():
                    set_committed_value(node, key, value)
                session.expunge(node)
                return node
            session.refresh(node)
        if node.reservation is None:
            raise exceptions.NodeStateChanged(node=node.uuid)
        raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)


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
    with session_scope(write=True) as session:
        query = update(Node).where(Node.uuid == uuid, Node.reservation.is_(None))
        if expected_state is not None:
            query = query.where(Node.provision_state == expected_state)
        node_id = session.scalar(
            query.values(reservation=holder, updated_at=utcnow(), **values)
            .returning(Node.id)
            .execution_options(synchronize_session=False)
        )
        if node_id is not None:
            _add_history(session, node_id, history)
            if before_commit is not None:
                before_commit()
            return
        raise _refusal(session, Node.uuid == uuid, uuid)


def release(uuid: str, holder: str, history: list[Event] | None = None, **values: Any) -> bool:
    """Release ``holder``'s lock, writing ``values`` (and history) in the same transaction.

    Returns False when ``holder`` did not hold the lock (nothing is written then).
    """
    with session_scope(write=True) as session:
        node_id = session.scalar(
            update(Node)
            .where(Node.uuid == uuid, Node.reservation == holder)
            .values(reservation=None, updated_at=utcnow(), **values)
            .returning(Node.id)
            .execution_options(synchronize_session=False)
        )
        if node_id is None:
            return False
        _add_history(session, node_id, history)
        return True


def update_unlocked(node: Node, values: dict[str, Any]) -> Node:
    """Write ``values`` to ``node`` (as the caller read it) while nobody holds it, and return
    it as written: a user's PATCH. The UPDATE only matches the row as it was read (same
    ``updated_at``), so two PATCHes computed from the same read cannot overwrite each other:
    the later one gets :class:`NodeStateChanged` (409, retry) — or :class:`NodeLocked`
    naming the holder when the node is locked, or :class:`NodeNotFound`."""
    written = {"updated_at": utcnow(), **values}
    with statement_scope(write=True) as conn:
        params = {"read_id": node.id, "read_updated_at": node.updated_at, **written}
        result = conn.execute(_UPDATE_AS_READ, params)
    if result.rowcount == 1:
        for key, value in written.items():
            set_committed_value(node, key, value)
        return node
    with statement_scope() as conn:
        raise _refusal(conn, Node.id == node.id, node.uuid)


def _refusal(session: Session | Connection, where: Any, uuid: str) -> exceptions.IronworksError:
    """Why a conditional write on a node matched no row: it is gone, locked (naming the
    holder), or it changed since it was read."""
    row = session.execute(select(Node.reservation).where(where)).first()
    if row is None:
        return exceptions.NodeNotFound(node=uuid)
    if row.reservation is None:
        return exceptions.NodeStateChanged(node=uuid)
    return exceptions.NodeLocked(node=uuid, host=row.reservation)


def _add_history(session: Session, node_id: int | None, events: list[Event] | None) -> None:
    for event in events or []:
        session.add(
            NodeHistory(
                node_id=node_id,
                severity=event.severity,
                event_type=event.event_type,
                event=event.event,
                conductor=event.conductor,
                user=event.user,
            )
        )


def history(ident: str, limit: int | None = None) -> list[NodeHistory]:
    """A node's events, oldest first."""
    with session_scope() as session:
        node = get_in(session, ident)
        query = select(NodeHistory).where(NodeHistory.node_id == node.id)
        rows = list(session.scalars(query.order_by(NodeHistory.id).limit(limit)))
        session.expunge_all()
        return rows


def set_maintenance(uuid: str, on: bool, reason: str | None, event: Event) -> None:
    """Set or clear maintenance; allowed while the node is locked (it starts no work)."""
    with session_scope(write=True) as session:
        node_id = session.scalar(select(Node.id).where(Node.uuid == uuid))
        session.execute(
            update(Node)
            .where(Node.uuid == uuid)
            .values(
                maintenance=on,
                maintenance_reason=reason if on else None,
                fault=None,
                updated_at=utcnow(),
            )
        )
        _add_history(session, node_id, [event])


def update_values(uuid: str, **values: Any) -> None:
    with session_scope(write=True) as session:
        session.execute(update(Node).where(Node.uuid == uuid).values(updated_at=utcnow(), **values))


def transfer_lock(uuid: str, holder: str, new_holder: str) -> bool:
    """Hand ``holder``'s lock on a node to ``new_holder`` (a takeover)."""
    with session_scope(write=True) as session:
        result = session.execute(
            update(Node)
            .where(Node.uuid == uuid, Node.reservation == holder)
            .values(reservation=new_holder, updated_at=utcnow())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def locked_by(holder: str) -> list[Node]:
    """Nodes ``holder`` holds locks on (detached)."""
    with session_scope() as session:
        rows = list(session.scalars(select(Node).where(Node.reservation == holder)))
        session.expunge_all()
        return rows


def clear_reservations(holder: str) -> int:
    """Release every lock ``holder`` holds; returns how many nodes were unlocked."""
    with session_scope(write=True) as session:
        result = session.execute(
            update(Node).where(Node.reservation == holder).values(reservation=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def for_conductor(conductor_group: str | None, drivers: list[str], **filters: Any) -> list[Node]:
    """The nodes of ``conductor_group`` whose driver is in ``drivers`` (detached), by id."""
    query = list_query(filters).where(
        Node.conductor_group == conductor_group, Node.driver.in_(drivers)
    )
    with session_scope() as session:
        rows = list(session.scalars(query.order_by(Node.id)))
        session.expunge_all()
    return rows
