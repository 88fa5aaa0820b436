"""Power-state sync: each conductor reads the BMCs of the nodes the ring gives it.

Reads take no lock, so a user's request is never refused because of this job (in Ironic,
power sync holding locks is the usual cause of "node is locked" 409s). Only when the
hardware disagrees with the database does it take the node's lock, briefly, and skips the
node if a user's request holds it. On drift the recorded state is pushed to the hardware
(``force_power_state_during_sync``, the default) or the hardware's state is recorded.
A BMC that fails ``power_state_sync_max_retries`` passes in a row puts the node in
maintenance with fault ``power failure``; when it answers again the fault is cleared.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app import exceptions, logs, states
from app.db.models import Node
from workers import metrics, task_manager

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)
POWER_FAILURE = "power failure"
#: Provision states in which the power state is expected to change under us, or unknown.
SKIP_STATES = (
    states.ENROLL,
    states.DEPLOYWAIT,
    states.CLEANWAIT,
    states.ADOPTFAIL,
    *states.TRANSIENT_STATES,
)
_running = threading.Lock()
_failures: dict[str, int] = {}  # per node, on this conductor (as Ironic keeps it)


@dataclass
class SyncReport:
    checked: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    maintenance: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    seconds: float = 0.0


def sync_power_states(manager: ConductorManager) -> SyncReport | None:
    """One pass over this conductor's nodes; None when a pass is already running."""
    if not _running.acquire(blocking=False):
        return None
    started = time.monotonic()
    report = SyncReport()
    try:
        nodes = [n for n in manager.iter_nodes() if _eligible(n)]
        nodes.sort(key=lambda n: -_failures.get(n.uuid, 0))  # failing BMCs first: fail fast
        workers = max(1, min(manager.settings.sync_power_state_workers, len(nodes)))
        with ThreadPoolExecutor(workers, thread_name_prefix="power-sync") as pool:
            for node in nodes:  # each read logs with the pass's task id and its node
                pool.submit(contextvars.copy_context().run, _sync_node, manager, node, report)
    finally:
        _running.release()
    report.seconds = time.monotonic() - started
    metrics.observe_power_sync(report)
    LOG.info(
        "Power sync on %s: %d nodes in %.2fs, %d drifted, %d BMC failures, %d to maintenance, "
        "%d recovered",
        manager.host,
        len(report.checked),
        report.seconds,
        len(report.drift),
        len(report.failed),
        len(report.maintenance),
        len(report.recovered),
    )
    return report


def _eligible(node: Node) -> bool:
    if node.reservation is not None or node.target_power_state is not None:
        return False
    if node.provision_state in SKIP_STATES:
        return False
    return not node.maintenance or node.fault == POWER_FAILURE


def _sync_node(manager: ConductorManager, node: Node, report: SyncReport) -> None:
    with logs.bound(node=node.uuid):
        _sync_one(manager, node, report)


def _sync_one(manager: ConductorManager, node: Node, report: SyncReport) -> None:
    try:
        task = task_manager.NodeTask(node=node, driver=manager.get_driver(node), shared=True)
        actual = task.driver.power.get_power_state(task.view)  # a read: no lock, no query
    except Exception as exc:
        _bmc_failed(manager, node, report, exc)
        return
    report.checked.append(node.uuid)
    _failures.pop(node.uuid, None)
    if node.maintenance and node.fault == POWER_FAILURE:
        _recover(manager, node, actual, report)
    elif actual != node.power_state:
        _correct(manager, node, actual, report)


def _bmc_failed(manager: ConductorManager, node: Node, report: SyncReport, exc: Exception) -> None:
    count = _failures[node.uuid] = _failures.get(node.uuid, 0) + 1
    report.failed.append(node.uuid)
    LOG.warning("Node %s: power state read failed (%d in a row): %s", node.uuid, count, exc)
    if node.maintenance or count < manager.settings.power_state_sync_max_retries:
        return
    reason = f"During power sync, {count} attempts to read the power state failed: {exc}"
    try:
        with task_manager.acquire(manager, node.uuid) as task:
            task.record(
                maintenance=True, maintenance_reason=reason, fault=POWER_FAILURE, last_error=reason
            )
            task.history(reason, severity="ERROR", event_type="power sync")
    except exceptions.NodeLocked:
        return
    report.maintenance.append(node.uuid)


def _recover(manager: ConductorManager, node: Node, actual: str, report: SyncReport) -> None:
    try:
        with task_manager.acquire(manager, node.uuid) as task:
            task.record(
                maintenance=False,
                maintenance_reason=None,
                fault=None,
                power_state=actual,
                last_error=None,
            )
            task.history("BMC answers again; power failure cleared", event_type="power sync")
    except exceptions.NodeLocked:
        return
    report.recovered.append(node.uuid)


def _correct(manager: ConductorManager, node: Node, actual: str, report: SyncReport) -> None:
    """Drift: push the recorded state to the hardware, or record the hardware's."""
    try:
        with task_manager.acquire(manager, node.uuid) as task:
            fresh = task.node
            if fresh.power_state is None or not manager.settings.force_power_state_during_sync:
                task.record(power_state=actual)
                message = f"Power state {actual!r} read from the hardware recorded"
            else:
                task.driver.power.set_power_state(task.view, fresh.power_state)
                message = (
                    f"Power state drift: hardware was {actual!r}, recorded "
                    f"{fresh.power_state!r}; hardware set back to {fresh.power_state!r}"
                )
            task.history(message, severity="WARNING", event_type="power sync")
    except exceptions.NodeLocked:
        return  # a user's request got there first: it wins
    except Exception as exc:
        LOG.error("Node %s: power state correction failed: %s", node.uuid, exc)
        return
    report.drift.append(node.uuid)
    LOG.warning("Node %s: %s", node.uuid, message)


def failure_count(node_uuid: str) -> int:
    return _failures.get(node_uuid, 0)
