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

import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from app import exceptions, states
from app.db.models import Node
from drivers.base import NodeView
from workers import metrics, task_manager
from workers.conductor import Conductor
from workers.periodic.base import for_each_owned_node, periodic

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


class PowerSyncConductor(Conductor, Protocol):
    #: Failed power state reads in a row, per node, on this conductor (as Ironic keeps it).
    power_state_sync_count: dict[str, int]


@dataclass
class SyncReport:
    checked: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    maintenance: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    seconds: float = 0.0


@periodic(interval=lambda settings: settings.sync_power_state_interval)
def sync_power_states(conductor: PowerSyncConductor) -> SyncReport:
    """One pass over this conductor's nodes (None when a pass is already running)."""
    started = time.monotonic()
    report = SyncReport()
    failures = conductor.power_state_sync_count
    for_each_owned_node(
        conductor,
        functools.partial(_sync_one, conductor, report=report),
        conductor.settings.sync_power_state_workers,
        keep=_eligible,
        order=lambda node: -failures.get(node.uuid, 0),  # failing BMCs first: fail fast
    )
    report.seconds = time.monotonic() - started
    metrics.observe_power_sync(
        report.seconds, len(report.drift), len(report.failed), len(report.maintenance)
    )
    LOG.info(
        "Power sync on %s: %d nodes in %.2fs, %d drifted, %d BMC failures, %d to maintenance, "
        "%d recovered",
        conductor.host,
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


def _sync_one(conductor: PowerSyncConductor, node: Node, report: SyncReport) -> None:
    try:
        driver = conductor.get_driver(node)
        actual = driver.power.get_power_state(NodeView.of(node))  # a read: no lock, no query
    except Exception as exc:
        _bmc_failed(conductor, node, report, exc)
        return
    report.checked.append(node.uuid)
    conductor.power_state_sync_count.pop(node.uuid, None)
    if node.maintenance and node.fault == POWER_FAILURE:
        _recover(conductor, node, actual, report)
    elif actual != node.power_state:
        _correct(conductor, node, actual, report)


def _bmc_failed(
    conductor: PowerSyncConductor, node: Node, report: SyncReport, exc: Exception
) -> None:
    failures = conductor.power_state_sync_count
    count = failures[node.uuid] = failures.get(node.uuid, 0) + 1
    report.failed.append(node.uuid)
    LOG.warning("Node %s: power state read failed (%d in a row): %s", node.uuid, count, exc)
    if node.maintenance or count < conductor.settings.power_state_sync_max_retries:
        return
    reason = f"During power sync, {count} attempts to read the power state failed: {exc}"
    try:
        with task_manager.acquire(conductor, node.uuid) as task:
            task.record(
                maintenance=True, maintenance_reason=reason, fault=POWER_FAILURE, last_error=reason
            )
            task.history(reason, severity="ERROR", event_type="power sync")
    except exceptions.NodeLocked:
        return
    report.maintenance.append(node.uuid)


def _recover(conductor: Conductor, node: Node, actual: str, report: SyncReport) -> None:
    try:
        with task_manager.acquire(conductor, node.uuid) as task:
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


def _correct(conductor: Conductor, node: Node, actual: str, report: SyncReport) -> None:
    """Drift: push the recorded state to the hardware, or record the hardware's."""
    try:
        with task_manager.acquire(conductor, node.uuid) as task:
            fresh = task.node
            if fresh.power_state is None or not conductor.settings.force_power_state_during_sync:
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
