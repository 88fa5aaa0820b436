"""Recovery of what a conductor held when it dies, stops, or starts again: nothing queued is
lost, no lock is left behind.

* **Dead** (the periodic job ``workers/periodic/dead_conductors.py``, on the shared queue, so
  one conductor at a time): conductors
  whose heartbeat fell behind are claimed with a conditional update, so each is recovered
  once. Their queued messages, and on Redis those they had taken but not acknowledged, move to
  the new ring owners with their task ids; each node's lock moves with its message, so the
  new owner runs it (a task that was running restarts from the top: the workflows are
  written to be run again). A lock left without any message (the task was lost) has its
  work sent again to the new owner when it can start from the top (``RESUMABLE``); anything
  else is released, and a node caught mid-work goes to its failed state with
  ``last_error`` naming the conductor.
* **Stopping** (``del_host``): what the conductor never started goes to the new owners.
* **Starting** (``init_host`` step 2): messages its earlier run left stay for it, with their
  locks; lost work is sent again to itself; every other lock of that run is released.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app import exceptions, state_machine, states
from app.db import conductors
from app.db import nodes as node_db
from app.db.models import Node, utcnow
from workers import requeue
from workers.celery_app import app
from workers.conductor import Conductor
from workers.queues import conductor_queue

LOG = logging.getLogger(__name__)


@dataclass
class Recovery:
    host: str
    moved: list[requeue.Moved] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    released: int = 0
    failed: list[str] = field(default_factory=list)


def _node_owner(conductor: Conductor) -> Owner:
    def owner_of(node: Node) -> str | None:
        try:
            owner: str = conductor.ring_owner(node)
        except exceptions.NoLiveConductor:
            return None
        return owner

    return owner_of


def _ring_owner(conductor: Conductor, dead: str) -> Callable[[str], str | None]:
    def owner_of(node_uuid: str) -> str | None:
        try:
            node = node_db.get(node_uuid)
            owner: str = conductor.ring_owner(node)
        except (exceptions.NodeNotFound, exceptions.NoLiveConductor):
            return None
        if owner != dead:
            node_db.transfer_lock(node_uuid, dead, owner)
        return owner

    return owner_of


#: Work a conductor can start again from the top when its task was lost: the event whose
#: handler runs in that state (``workers/provisioning.py``). Manual cleaning is missing on
#: purpose: its steps lived only in the lost task.
RESUMABLE: dict[str, str] = {
    states.VERIFYING: "manage",
    states.INSPECTING: "inspect",
    states.DEPLOYING: "deploy",
    states.DELETING: "delete",
    states.ADOPTING: "adopt",
    states.RESCUING: "rescue",
    states.UNRESCUING: "unrescue",
}

Owner = Callable[[Node], str | None]


def _resume(node: Node, host: str, owner_of: Owner, by: str) -> bool:
    """Send the lost work of ``node`` again, to its owner, with the lock; False if not possible."""
    event = RESUMABLE.get(node.provision_state)
    if event is None and node.provision_state == states.CLEANING:
        event = "provide" if node.target_provision_state == states.AVAILABLE else None
    if event is None and node.target_power_state is None:
        return False
    owner = owner_of(node)
    if owner is None or (owner != host and not node_db.transfer_lock(node.uuid, host, owner)):
        return False
    args: tuple[Any, ...]
    if event is not None:
        task, args = "ironworks.node.provision", (node.uuid, event, {})
    else:
        task, args = "ironworks.node.set_power_state", (node.uuid, node.target_power_state)
    app.send_task(task, args=args, queue=conductor_queue(owner))
    LOG.warning(
        "Node %s: lost %s work resumed on %s (%s)", node.uuid, node.provision_state, owner, by
    )
    return True


def release_orphans(
    host: str,
    keep: set[str],
    reason: str,
    by: str,
    only: set[str] | None = None,
    resume_on: Owner | None = None,
) -> Recovery:
    """Deal with ``host``'s locks (``only`` these, if given) except those on ``keep``.

    With ``resume_on``, work that can start again is sent again to the conductor it names
    (with the lock). Everything else is released, and a node left mid-work goes to its
    failed state with a ``last_error`` giving ``reason``.
    """
    report = Recovery(host)
    for node in node_db.locked_by(host):
        if node.uuid in keep or (only is not None and node.uuid not in only):
            continue
        if resume_on is not None and _resume(node, host, resume_on, by):
            report.resumed.append(node.uuid)
            continue
        values: dict[str, object] = {}
        events = []
        if node.target_power_state is not None:
            values.update(target_power_state=None, last_error=f"Power action aborted: {reason}")
        if (node.provision_state, states.EV_FAIL) in state_machine.EDGES:
            failed = state_machine.next_state(node.provision_state, states.EV_FAIL)
            values.update(
                provision_state=failed,
                target_provision_state=state_machine.target_of(failed),
                provision_updated_at=utcnow(),
                last_error=f"{node.provision_state} interrupted: {reason}",
            )
            events.append(node_db.Event(str(values["last_error"]), "error", "ERROR", by))
            report.failed.append(node.uuid)
        if node_db.release(node.uuid, host, history=events, **values):
            report.released += 1
    return report


def recover_dead(conductor: Conductor) -> list[Recovery]:
    """Claim conductors that stopped heartbeating and recover what they held."""
    reports = []
    for dead in conductors.claim_dead(conductor.settings.heartbeat_timeout):
        assert conductor.ring is not None
        conductor.ring.reset()
        requeue.restore_unacked(dead)
        moved = requeue.drain(dead, _ring_owner(conductor, dead))
        reason = f"conductor {dead} stopped responding"
        report = release_orphans(
            dead, set(), reason, conductor.host, resume_on=_node_owner(conductor)
        )
        report.moved = moved
        LOG.warning(
            "Took over from dead conductor %s: %d tasks moved, %d lost ones resumed, "
            "%d locks released, %d nodes failed",
            dead,
            len(moved),
            len(report.resumed),
            report.released,
            len(report.failed),
        )
        reports.append(report)
    return reports


def hand_back(conductor: Conductor) -> Recovery:
    """On shutdown: give the tasks this conductor never started to the new owners."""
    assert conductor.ring is not None
    conductor.ring.reset()
    requeue.restore_unacked(conductor.host)  # prefetched but never started
    moved = requeue.drain(conductor.host, _ring_owner(conductor, conductor.host))
    report = release_orphans(
        conductor.host, set(), f"conductor {conductor.host} stopped", conductor.host
    )
    report.moved = moved
    return report


def recover_own(conductor: Conductor) -> Recovery:
    """On start-up: keep what the earlier run left queued (and its locks), start again the
    work whose task was lost, free the rest."""
    requeue.restore_unacked(conductor.host)
    moved = requeue.drain(conductor.host, lambda _uuid: conductor.host)
    keep = {m.node_uuid for m in moved}
    report = release_orphans(
        conductor.host,
        keep,
        f"conductor {conductor.host} restarted",
        conductor.host,
        resume_on=lambda _node: conductor.host,
    )
    report.moved = moved
    return report
