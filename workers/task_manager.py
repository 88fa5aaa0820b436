"""The one way a conductor touches a node: a task context that holds the node's lock.

Contract
--------
* ``acquire(manager, uuid)`` (exclusive) yields a :class:`NodeTask` holding the node's
  reservation for this conductor. The lock is either taken here (``UPDATE ... WHERE
  reservation IS NULL``) or, when the API already took it *for this conductor* before
  enqueueing, adopted as is. A lock held by anyone else raises :class:`NodeLocked`.
* ``acquire(manager, uuid, shared=True)`` takes no lock: it only loads the node, for
  read-only work that must never stand in a user's way.
* On leaving the block the exclusive lock is released on every path. The values the work
  recorded with :meth:`NodeTask.record` are written *in the same statement* that frees the
  lock, so no reader ever sees an unlocked node with half its outcome. If the block raises,
  ``last_error`` says what happened and the error propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app import exceptions
from app.db import nodes as node_db
from app.db.models import Node
from drivers.base import HardwareType, NodeView

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)


@dataclass
class NodeTask:
    """A node, its driver and the outcome to write when the lock is released."""

    node: Node
    driver: HardwareType
    shared: bool
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def view(self) -> NodeView:
        node = self.node
        return NodeView(
            uuid=node.uuid,
            driver=node.driver,
            driver_info=dict(node.driver_info or {}),
            power_state=node.power_state,
            properties=dict(node.properties or {}),
            instance_info=dict(node.instance_info or {}),
        )

    def record(self, **values: Any) -> None:
        """Fields to write to the node when the lock is released."""
        if self.shared:
            raise exceptions.IronworksError("a shared task cannot change the node")
        self.outcome.update(values)


def _take_lock(manager: ConductorManager, uuid: str) -> Node:
    node = node_db.get(uuid)
    if node.reservation == manager.host:
        return node  # handed over by the API, which locks for the ring owner
    if node.reservation is not None:
        raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)
    return node_db.reserve(uuid, manager.host)


@contextmanager
def acquire(manager: ConductorManager, uuid: str, shared: bool = False) -> Iterator[NodeTask]:
    """Open a task on node ``uuid`` (see the module docstring for the contract)."""
    node = node_db.get(uuid) if shared else _take_lock(manager, uuid)
    if shared:
        yield NodeTask(node=node, driver=manager.get_driver(node), shared=True)
        return
    task: NodeTask | None = None
    try:
        task = NodeTask(node=node, driver=manager.get_driver(node), shared=False)
        yield task
    except Exception as exc:
        outcome = dict(task.outcome) if task else {}
        outcome.setdefault("last_error", f"{type(exc).__name__}: {exc}")
        node_db.release(uuid, manager.host, **outcome)
        raise
    if not node_db.release(uuid, manager.host, **task.outcome):
        LOG.warning("Node %s: lock of %s was gone at release", uuid, manager.host)
