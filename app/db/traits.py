"""Node traits: the set of trait names each node has.

A trait write changes the node: it happens only while the node is unlocked (409 naming the
holder otherwise) and bumps the node's ``updated_at``, in one transaction with the change,
so a concurrent PATCH computed from an older read is refused rather than lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Connection, Table, delete, insert, select, update

from app import exceptions
from app.db.engine import statement_scope, transaction_scope
from app.db.models import Node, utcnow
from app.db.nodes import read_row

_NODES: Table = Node.metadata.tables["nodes"]
_TRAITS: Table = Node.metadata.tables["node_traits"]
#: Ironic's limit of traits per node.
MAX_TRAITS = 50
#: A change of a node's traits: the current set in, the new set out.
Edit = Callable[[set[str]], set[str]]


def of_nodes(node_ids: Iterable[int]) -> dict[int, list[str]]:
    """``{node id: sorted traits}`` for every node in ``node_ids`` (one query)."""
    ids = list(node_ids)
    found: dict[int, list[str]] = {node_id: [] for node_id in ids}
    if not ids:
        return found
    query = (
        select(_TRAITS.c.node_id, _TRAITS.c.trait)
        .where(_TRAITS.c.node_id.in_(ids))
        .order_by(_TRAITS.c.trait)
    )
    with statement_scope() as conn:
        for node_id, trait in conn.execute(query):
            found[node_id].append(trait)
    return found


def _current(conn: Connection, node_id: int) -> set[str]:
    return set(conn.scalars(select(_TRAITS.c.trait).where(_TRAITS.c.node_id == node_id)))


def change(ident: str, edit: Edit) -> list[str]:
    """Apply ``edit`` to the traits of the unlocked node ``ident``; returns the new set."""
    with transaction_scope(write=True) as conn:
        row = read_row(conn, ident)
        touched = conn.execute(
            update(_NODES)
            .where(_NODES.c.id == row.id, _NODES.c.reservation.is_(None))
            .values(updated_at=utcnow())
        )
        if touched.rowcount != 1:
            raise exceptions.NodeLocked(node=row.uuid, host=row.reservation or "a conductor")
        before = _current(conn, row.id)
        after = edit(set(before))
        if len(after) > MAX_TRAITS:
            raise exceptions.InvalidParameterValue(
                reason=f"a node has at most {MAX_TRAITS} traits; this would make {len(after)}"
            )
        gone, new = before - after, after - before
        if gone:
            conn.execute(
                delete(_TRAITS).where(_TRAITS.c.node_id == row.id, _TRAITS.c.trait.in_(gone))
            )
        if new:
            now = utcnow()
            conn.execute(
                insert(_TRAITS),
                [{"node_id": row.id, "trait": t, "created_at": now} for t in sorted(new)],
            )
        return sorted(after)
