"""The one way a conductor touches a node: a task context that holds the node's lock.

Contract
--------
* ``acquire(conductor, uuid)`` (exclusive) yields a :class:`NodeTask` holding the node's
  reservation for this conductor. The lock is either taken here (``UPDATE ... WHERE
  reservation IS NULL``) or, when the API already took it *for this conductor* before
  enqueueing, adopted as is. A task the API handed over runs only under that lock: if the
  node is not locked for it, the request was never committed (or already ran), and the task
  ends with :class:`RequestNotRecorded`. A lock held by anyone else raises
  :class:`NodeLocked`, and so does a second task on a node this conductor is already working
  on (a redelivered message must not run beside the first).
* ``acquire(conductor, uuid, shared=True)`` takes no lock: it only loads the node, for
  read-only work that must never stand in a user's way.
* On leaving the block the exclusive lock is released on every path. The values the work
  recorded with :meth:`NodeTask.record` (and its history entries) are written *in the same
  transaction* that frees the lock, so no reader ever sees an unlocked node with half its
  outcome; the log lines that state that outcome (:meth:`NodeTask.report`) follow the
  commit. If the block raises, ``last_error`` says what happened, a node caught in a
  transient state moves to its failure state, and the error propagates.
* Provision states change only through :meth:`NodeTask.process_event`, which asks the table
  in ``app/state_machine.py``.
* Inside the block every log record names the node (``app/logs.py``); the time taken to
  take the lock and each refusal are counted (``workers/metrics.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from app import exceptions, logs, state_machine
from app.db import nodes as node_db
from app.db.models import Node, utcnow
from app.states import EV_FAIL
from drivers.base import HardwareType, NetworkInterface, NodeView
from workers import metrics
from workers.conductor import Conductor

LOG = logging.getLogger(__name__)


@dataclass
class NodeTask:
    """A node, its driver and the outcome to write when the lock is released."""

    node: Node
    driver: HardwareType
    shared: bool
    host: str = ""
    #: The node's network interface (None for read-only tasks).
    network: NetworkInterface | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    events: list[node_db.Event] = field(default_factory=list)
    #: Log lines that state an outcome: written only once that outcome is in the database.
    reports: list[tuple[logging.Logger, str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def view(self) -> NodeView:
        return NodeView.of(self.node)

    def record(self, **values: Any) -> None:
        """Fields to write to the node when the lock is released."""
        if self.shared:
            raise exceptions.IronworksError("a shared task cannot change the node")
        self.outcome.update(values)

    @property
    def provision_state(self) -> str:
        return str(self.outcome.get("provision_state", self.node.provision_state))

    def process_event(self, event: str, target: str | None = None) -> str:
        """Move the provision state along the table; returns the new state.

        ``target`` overrides the table's target (manual cleaning returns to manageable).
        """
        before = self.provision_state
        after = state_machine.next_state(before, event)
        self.record(
            provision_state=after,
            target_provision_state=target or state_machine.target_of(after),
            provision_updated_at=utcnow(),
        )
        self.history(f"{before} -> {after} ({event})")
        return after

    def history(
        self, message: str, severity: str = "INFO", event_type: str = "provisioning"
    ) -> None:
        """Add a node history entry, written with the outcome."""
        self.events.append(node_db.Event(message, event_type, severity, self.host))

    def report(self, log: logging.Logger, message: str, *args: Any) -> None:
        """Log ``message`` once the outcome is written (never for an outcome that was lost).

        A conductor killed between the work and the release must not have logged "deployed"
        for a node whose state says otherwise: the survivor redoes that work.
        """
        self.reports.append((log, message, args))

    def fail(self, event: str, error: str) -> None:
        """Fire a failure event and record ``error`` as the node's ``last_error``."""
        self.record(last_error=error)
        self.history(error, severity="ERROR")
        self.process_event(event)


def _take_lock(conductor: Conductor, uuid: str, handed_over: bool) -> Node:
    node = node_db.get(uuid)
    if handed_over and node.reservation == conductor.host:
        return node  # handed over by the API, which locks for the ring owner
    if node.reservation is not None:
        raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)
    try:
        node = node_db.reserve(uuid, conductor.host)
    except exceptions.NodeLocked as exc:
        if not handed_over or exc.kwargs.get("host") != conductor.host:
            raise
        return node_db.get(uuid)  # the API's transaction committed its lock for us meanwhile
    if handed_over:
        # Nobody locked the node for this task: the API never committed the request (so it
        # never answered 202), or the task is a stale copy of one that already finished.
        node_db.release(uuid, conductor.host)
        raise exceptions.RequestNotRecorded(node=uuid)
    return node


def _fail_values(task: NodeTask) -> dict[str, Any]:
    """A node left mid-work by an unexpected error moves to its failure state."""
    try:
        failed = state_machine.next_state(task.provision_state, EV_FAIL)
    except exceptions.InvalidStateTransition:
        return {}
    return {
        "provision_state": failed,
        "target_provision_state": state_machine.target_of(failed),
        "provision_updated_at": utcnow(),
    }


@contextmanager
def acquire(
    conductor: Conductor, uuid: str, shared: bool = False, handed_over: bool = False
) -> Iterator[NodeTask]:
    """Open a task on node ``uuid`` (see the module docstring for the contract).

    ``handed_over`` is for tasks the API locked the node for: they only run under that lock.
    """
    if shared:
        node = node_db.get(uuid)
        with logs.bound(node=uuid):
            yield NodeTask(
                node=node, driver=conductor.get_driver(node), shared=True, host=conductor.host
            )
        return
    with logs.bound(node=uuid), conductor.working_on(uuid):
        node = _timed_take_lock(conductor, uuid, handed_over)
        with _released(conductor, uuid, node) as task:
            yield task


def _timed_take_lock(conductor: Conductor, uuid: str, handed_over: bool) -> Node:
    """``_take_lock``, timed into the lock-wait histogram; a refusal counts as a conflict."""
    started = time.perf_counter()
    try:
        return _take_lock(conductor, uuid, handed_over)
    except exceptions.NodeLocked:
        metrics.LOCK_CONFLICTS.labels("held").inc()
        raise
    finally:
        metrics.LOCK_WAIT.observe(time.perf_counter() - started)


@contextmanager
def _released(conductor: Conductor, uuid: str, node: Node) -> Iterator[NodeTask]:
    task: NodeTask | None = None
    try:
        task = NodeTask(
            node=node,
            driver=conductor.get_driver(node),
            shared=False,
            host=conductor.host,
            network=conductor.network_interface(node),
        )
        yield task
    except Exception as exc:
        outcome = dict(task.outcome) if task else {}
        events = list(task.events) if task else []
        error = f"{type(exc).__name__}: {exc}"
        outcome.setdefault("last_error", error)
        events.append(node_db.Event(error, "error", "ERROR", conductor.host))
        if task is not None:
            outcome.update(_fail_values(task))
        node_db.release(uuid, conductor.host, history=events, **outcome)
        raise
    if not node_db.release(uuid, conductor.host, history=task.events, **task.outcome):
        raise exceptions.LockLost(node=uuid, host=conductor.host)
    for log, message, args in task.reports:
        log.info(message, *args)
