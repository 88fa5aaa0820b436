"""Recovery when a conductor dies, stops, or starts again: nothing queued is lost.

* **Dead** (a beat-driven job on the shared queue, so one conductor at a time): conductors
  whose heartbeat fell behind are claimed with a conditional update, so each is recovered
  once. Their queued messages, and on Redis those they had taken but not acknowledged, move to
  the new ring owners with their task ids; each node's lock moves with its message, so the
  new owner runs it (a task that was running restarts from the top: the workflows are
  written to be run again). Locks left without a message are released and nodes caught in
  a transient state go to its failed state with ``last_error`` naming the conductor.
* **Stopping** (``del_host``): what the conductor never started goes to the new owners.
* **Starting** (``init_host`` step 2): messages its earlier run left stay for it, with their
  locks; every other lock of that run is released (and transient nodes failed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app import exceptions, state_machine, states
from app.db import conductors
from app.db import nodes as node_db
from app.db.models import utcnow
from workers import requeue

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)


@dataclass
class Recovery:
    host: str
    moved: list[requeue.Moved] = field(default_factory=list)
    released: int = 0
    failed: list[str] = field(default_factory=list)


def _ring_owner(manager: ConductorManager, dead: str) -> Callable[[str], str | None]:
    def owner_of(node_uuid: str) -> str | None:
        try:
            node = node_db.get(node_uuid)
            owner: str = manager.ring_owner(node)
        except (exceptions.NodeNotFound, exceptions.NoLiveConductor):
            return None
        if owner != dead:
            node_db.transfer_lock(node_uuid, dead, owner)
        return owner

    return owner_of


def release_orphans(
    host: str, keep: set[str], reason: str, by: str, only: set[str] | None = None
) -> Recovery:
    """Release ``host``'s locks (``only`` these, if given) except on ``keep``; fail nodes
    left mid-work."""
    report = Recovery(host)
    for node in node_db.locked_by(host):
        if node.uuid in keep or (only is not None and node.uuid not in only):
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


def recover_dead(manager: ConductorManager) -> list[Recovery]:
    """Claim conductors that stopped heartbeating and recover what they held."""
    reports = []
    for dead in conductors.claim_dead(manager.settings.heartbeat_timeout):
        assert manager.ring is not None
        manager.ring.reset()
        requeue.restore_unacked(dead)
        moved = requeue.drain(dead, _ring_owner(manager, dead))
        reason = f"conductor {dead} stopped responding"
        report = release_orphans(dead, set(), reason, manager.host)
        report.moved = moved
        LOG.warning(
            "Took over from dead conductor %s: %d tasks moved, %d locks released, %d nodes failed",
            dead,
            len(moved),
            report.released,
            len(report.failed),
        )
        reports.append(report)
    return reports


def hand_back(manager: ConductorManager) -> Recovery:
    """On shutdown: give the tasks this conductor never started to the new owners."""
    assert manager.ring is not None
    manager.ring.reset()
    requeue.restore_unacked(manager.host)  # prefetched but never started
    moved = requeue.drain(manager.host, _ring_owner(manager, manager.host))
    report = release_orphans(manager.host, set(), f"conductor {manager.host} stopped", manager.host)
    report.moved = moved
    return report


def recover_own(manager: ConductorManager) -> Recovery:
    """On start-up: keep what the earlier run left queued (and its locks), free the rest."""
    requeue.restore_unacked(manager.host)
    moved = requeue.drain(manager.host, lambda _uuid: manager.host)
    keep = {m.node_uuid for m in moved}
    report = release_orphans(
        manager.host, keep, f"conductor {manager.host} restarted", manager.host
    )
    report.moved = moved
    return report
