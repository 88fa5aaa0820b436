"""Sensor data: each conductor reads its nodes' sensors and publishes them as events.

Beat broadcasts ``ironworks.periodic.send_sensor_data`` every
``IRONWORKS_SEND_SENSOR_DATA_INTERVAL`` seconds when ``IRONWORKS_SEND_SENSOR_DATA`` is on.
Each conductor reads the sensors of the nodes the ring gives it (no lock: a read, like the
power sync; nodes in maintenance, locked or enrolling are skipped), at most 8 at once since
each node's readings are written, and hands them to its notifier (``workers/sensors.py``).
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from app import states
from app.db.models import Node
from drivers.base import NodeView
from workers.conductor import Conductor
from workers.periodic.base import WRITERS, for_each_owned_node, periodic
from workers.sensors import SensorsNotifier

LOG = logging.getLogger(__name__)


class SensorConductor(Conductor, Protocol):
    sensors_notifier: SensorsNotifier


@dataclass
class SensorReport:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _eligible(node: Node) -> bool:
    return (
        not node.maintenance
        and node.reservation is None
        and node.provision_state not in (states.ENROLL, *states.TRANSIENT_STATES)
    )


@periodic(
    interval=lambda settings: settings.send_sensor_data_interval,
    enabled=lambda settings: settings.send_sensor_data,
)
def send_sensor_data(conductor: SensorConductor) -> SensorReport:
    """One collection over this conductor's nodes (None if one is already running)."""
    started = time.monotonic()
    report = SensorReport()
    for_each_owned_node(
        conductor,
        functools.partial(_collect_one, conductor, report=report),
        min(conductor.settings.sync_power_state_workers, WRITERS),
        keep=_eligible,
    )
    report.seconds = time.monotonic() - started
    LOG.info(
        "Sensor data on %s: %d nodes sent, %d failed, in %.2fs",
        conductor.host,
        len(report.sent),
        len(report.failed),
        report.seconds,
    )
    return report


def _collect_one(conductor: SensorConductor, node: Node, report: SensorReport) -> None:
    try:
        data = conductor.get_driver(node).management.get_sensors_data(NodeView.of(node))
        conductor.sensors_notifier.notify(node, data)
    except Exception as exc:
        report.failed.append(node.uuid)
        LOG.warning("Node %s: sensor data not collected: %s", node.uuid, exc)
        return
    report.sent.append(node.uuid)
