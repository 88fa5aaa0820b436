"""Node queries, including the atomic row reservation that is a node's exclusive lock.

A node is locked by writing the holder's hostname into ``nodes.reservation`` with
``UPDATE ... WHERE reservation IS NULL`` and checking the row count: exactly one writer wins,
whatever the database. Releasing is conditional on the holder, so nobody frees a lock that is
not theirs.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import exceptions
from app.db.engine import session_scope
from app.db.models import Node, utcnow


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


def get(ident: str) -> Node:
    """A detached copy of the node with this UUID or name."""
    with session_scope() as session:
        node = get_in(session, ident)
        session.expunge(node)
        return node


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


def list_query(filters: dict[str, Any]) -> Select[Any]:
    query = select(Node)
    for column, value in filters.items():
        query = query.where(getattr(Node, column) == value)
    return query


def list_nodes(
    filters: dict[str, Any] | None = None, limit: int | None = None, marker: str | None = None
) -> list[Node]:
    """Nodes ordered by id, optionally after the node ``marker`` (UUID)."""
    query = list_query(filters or {}).order_by(Node.id)
    with session_scope() as session:
        if marker is not None:
            marker_id = session.scalar(select(Node.id).where(Node.uuid == marker))
            if marker_id is None:
                raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not a node")
            query = query.where(Node.id > marker_id)
        if limit is not None:
            query = query.limit(limit)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


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


def reserve(ident: str, holder: str, **values: Any) -> Node:
    """Lock the node for ``holder`` and write ``values`` in the same atomic statement.

    Raises :class:`NodeLocked` naming the current holder when the node is already locked.
    """
    with session_scope(write=True) as session:
        node = get_in(session, ident)
        if node.reservation is None:
            result = session.execute(
                update(Node)
                .where(Node.id == node.id, Node.reservation.is_(None))
                .values(reservation=holder, updated_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                session.expire(node)
                session.refresh(node)
                session.expunge(node)
                return node
            session.refresh(node)
        raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)


def release(uuid: str, holder: str, **values: Any) -> bool:
    """Release ``holder``'s lock, writing ``values`` in the same statement.

    Returns False when ``holder`` did not hold the lock (nothing is written then).
    """
    with session_scope(write=True) as session:
        result = session.execute(
            update(Node)
            .where(Node.uuid == uuid, Node.reservation == holder)
            .values(reservation=None, updated_at=utcnow(), **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def update_values(uuid: str, **values: Any) -> None:
    with session_scope(write=True) as session:
        session.execute(update(Node).where(Node.uuid == uuid).values(updated_at=utcnow(), **values))


def clear_reservations(holder: str) -> int:
    """Release every lock ``holder`` holds; returns how many nodes were unlocked."""
    with session_scope(write=True) as session:
        result = session.execute(
            update(Node).where(Node.reservation == holder).values(reservation=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def abort_pending_power(holder: str, reason: str) -> int:
    """Clear pending power targets of nodes locked by ``holder`` (e.g. after its restart)."""
    with session_scope(write=True) as session:
        result = session.execute(
            update(Node)
            .where(Node.reservation == holder, Node.target_power_state.is_not(None))
            .values(target_power_state=None, last_error=reason)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
