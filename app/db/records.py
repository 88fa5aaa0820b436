"""The plain resources (chassis, volume connectors and targets, port groups, deploy
templates): one way to read and write a row of any of their tables.

Each table has ``id``, ``uuid``, ``created_at`` and ``updated_at``; those that belong to a
node have ``node_id``, and every row read carries its node's UUID as ``node_uuid``.
Writes follow the node rules: a ``check`` runs inside the write's transaction (on the
row's node, held ``FOR UPDATE`` on PostgreSQL) and may refuse; an update only matches the
row as it was read (same ``updated_at``), so two PATCHes from one read never silently
overwrite each other; a unique column hit is the kind's 409.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Integer,
    RowMapping,
    Table,
    delete,
    false,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from app import exceptions, uuids
from app.db.engine import statement_scope, transaction_scope
from app.db.models import Node, new_uuid, utcnow

_NODES: Table = Node.metadata.tables["nodes"]
#: A rule run in the write's transaction: (connection, the row as read or None, the values
#: to write); raising refuses the write.
Check = Callable[[Connection, RowMapping | None, dict[str, Any]], None]


@dataclass(frozen=True)
class Store:
    """How one kind of record is kept."""

    table: Table
    not_found: Callable[[str], exceptions.IronworksError]
    duplicate: Callable[[dict[str, Any]], exceptions.IronworksError]
    #: A second unique column a record may be found by (a port group's ``name``).
    name_column: str | None = None

    @property
    def has_node(self) -> bool:
        return "node_id" in self.table.c

    def _select(self) -> Any:
        if not self.has_node:
            return select(self.table)
        return select(self.table, _NODES.c.uuid.label("node_uuid")).join(
            _NODES, _NODES.c.id == self.table.c.node_id, isouter=True
        )

    def _where_ident(self, ident: str) -> Any:
        uuid = uuids.canonical(ident)
        if uuid is None and self.name_column is not None:
            return self.table.c[self.name_column] == ident
        return self.table.c.uuid == (uuid or ident)

    def read(self, conn: Connection, ident: str) -> RowMapping:
        row = conn.execute(self._select().where(self._where_ident(ident))).first()
        if row is None:
            raise self.not_found(ident)
        return row._mapping

    def get(self, ident: str) -> RowMapping:
        with statement_scope() as conn:
            return self.read(conn, ident)

    def list(
        self,
        filters: Mapping[str, Any],
        limit: int | None,
        marker: str | None,
        sort_key: str = "id",
        sort_dir: str = "asc",
    ) -> list[RowMapping]:
        """Records matching ``filters`` (column: value), in ``(sort_key, id)`` order after
        the record ``marker`` (a UUID)."""
        table = self.table
        if sort_key not in table.c or isinstance(table.c[sort_key].type, JSON):
            raise exceptions.InvalidParameterValue(reason=f"cannot sort on {sort_key!r}")
        if sort_dir not in ("asc", "desc"):
            raise exceptions.InvalidParameterValue(reason="sort_dir must be 'asc' or 'desc'")
        column = sortable(table.c[sort_key], table.c.created_at)
        query = self._select().where(*(table.c[k] == v for k, v in filters.items()))
        with transaction_scope() as conn:
            if marker is not None:
                where = table.c.uuid == (uuids.canonical(marker) or marker)
                found = conn.execute(select(column, table.c.id).where(where)).first()
                if found is None:
                    raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not found")
                key = tuple_(column, table.c.id)
                after = tuple_(found[0], found[1])
                query = query.where(key > after if sort_dir == "asc" else key < after)
            ordering = (
                (column, table.c.id) if sort_dir == "asc" else (column.desc(), table.c.id.desc())
            )
            rows = conn.execute(query.order_by(*ordering).limit(limit))
            return [row._mapping for row in rows]

    def create(self, values: dict[str, Any], check: Check | None = None) -> RowMapping:
        now = utcnow()
        row = {"uuid": values.pop("uuid", None) or new_uuid(), "created_at": now, **values}
        try:
            with transaction_scope(write=True) as conn:
                if check is not None:
                    check(conn, None, row)
                conn.execute(insert(self.table).values(**row))
                return self.read(conn, row["uuid"])
        except IntegrityError:
            raise self.duplicate(row) from None

    def update(
        self, before: RowMapping, values: dict[str, Any], check: Check | None = None
    ) -> RowMapping:
        """Write ``values`` to the record as ``before`` shows it; returns it as written."""
        try:
            with transaction_scope(write=True) as conn:
                if check is not None:
                    check(conn, before, values)
                query = update(self.table).where(
                    self.table.c.id == before["id"],
                    self.table.c.updated_at.is_not_distinct_from(before["updated_at"]),
                )
                done = conn.execute(query.values(**values, updated_at=utcnow()))
                if done.rowcount != 1:
                    self.read(conn, before["uuid"])  # gone: the kind's 404
                    raise exceptions.Conflict(
                        reason=f"{before['uuid']} changed while this request was applied; retry"
                    )
                return self.read(conn, before["uuid"])
        except IntegrityError:
            raise self.duplicate(values) from None

    def delete(self, ident: str, check: Check | None = None) -> None:
        with transaction_scope(write=True) as conn:
            row = self.read(conn, ident)
            if check is not None:
                check(conn, row, {})
            conn.execute(delete(self.table).where(self.table.c.id == row["id"]))


def sortable(column: Any, created_at: Any) -> Any:
    """``column`` to sort and page on, NULL read as its type's least value (a time as the
    row's creation), so a marker on a row with a NULL in that column still pages."""
    if not column.nullable:
        return column
    if isinstance(column.type, DateTime):
        return func.coalesce(column, created_at)
    if isinstance(column.type, Boolean):
        return func.coalesce(column, false())
    if isinstance(column.type, Integer):
        return func.coalesce(column, -1)
    return func.coalesce(column, "")


def node_for_update(conn: Connection, node_id: int) -> Any:
    """The node row of a record (held until commit on PostgreSQL)."""
    return conn.execute(select(_NODES).where(_NODES.c.id == node_id).with_for_update()).one()


def unlocked_node(conn: Connection, node_id: int) -> Any:
    """:func:`node_for_update`, refused with :class:`NodeLocked` (409) while a conductor
    holds the node: a record of a node changes only while nothing works on the node."""
    node = node_for_update(conn, node_id)
    if node.reservation is not None:
        raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)
    return node


def with_node(conn: Connection, _row: RowMapping | None, values: dict[str, Any]) -> None:
    """A :data:`Check` for node-owned records: the node a client named in ``node_uuid``
    (UUID or name) becomes the record's ``node_id`` (400 if there is none)."""
    if "node_uuid" in values:
        values["node_id"] = node_id_of(conn, values.pop("node_uuid"))


def node_id_of(conn: Connection, ident: str) -> int:
    """The id of the node ``ident`` (UUID or name); a 400 if there is none: a record names
    its node in its body, so a missing one is bad input, not a missing URL."""
    uuid = uuids.canonical(ident)
    where = _NODES.c.uuid == uuid if uuid else _NODES.c.name == ident
    found = conn.scalar(select(_NODES.c.id).where(where))
    if found is None:
        raise exceptions.InvalidParameterValue(reason=f"node {ident} could not be found")
    return int(found)
