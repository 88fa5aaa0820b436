"""Sensor data: each conductor reads its nodes' sensors and publishes them as events.

Beat broadcasts ``ironworks.periodic.send_sensor_data`` every
``IRONWORKS_SEND_SENSOR_DATA_INTERVAL`` seconds when ``IRONWORKS_SEND_SENSOR_DATA`` is on.
Each conductor reads the sensors of the nodes the ring gives it (no lock: a read, like the
power sync; nodes in maintenance, locked or enrolling are skipped) with bounded concurrency,
and hands each node's readings to its :class:`SensorsNotifier`, which

* publishes an event on the topic exchange ``ironworks.sensors`` with the routing key
  ``hardware.<driver>.metrics.update`` (Ironic's event type), so any consumer can bind a
  queue to ``hardware.#`` and subscribe; and
* stores the latest readings per node, which ``GET /v1/nodes/<id>/sensors`` returns.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app import states
from app.db import sensors as sensor_db
from app.db.models import Node, utcnow
from drivers.base import NodeView
from workers.affinity import WRITERS
from workers.queues import SENSORS_EXCHANGE

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)
_running = threading.Lock()


def event_type(driver: str) -> str:
    return f"hardware.{driver}.metrics.update"


class SensorsNotifier:
    """Publishes a node's readings and keeps the latest ones (see the module docstring)."""

    def __init__(self, host: str) -> None:
        self.host = host

    def notify(self, node: Node, data: dict[str, Any]) -> None:
        message = {
            "event_type": event_type(node.driver),
            "node_uuid": node.uuid,
            "node_name": node.name,
            "instance_uuid": node.instance_uuid,
            "conductor": self.host,
            "timestamp": utcnow().isoformat(),
            "payload": data,
        }
        sensor_db.save(node.uuid, data, self.host)
        from workers.celery_app import app

        with app.producer_or_acquire() as producer:
            producer.publish(
                message,
                exchange=SENSORS_EXCHANGE,
                routing_key=event_type(node.driver),
                declare=[SENSORS_EXCHANGE],
                serializer="json",
                delivery_mode=1,  # readings are worthless once stale: never persisted
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
            )


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


def send_sensor_data(manager: ConductorManager) -> SensorReport | None:
    """One collection over this conductor's nodes; None if one is already running."""
    if not _running.acquire(blocking=False):
        return None
    started = time.monotonic()
    report = SensorReport()
    try:
        nodes = [n for n in manager.iter_nodes() if _eligible(n)]
        # Each node's readings are written: at most 8 at once (see workers/affinity.py).
        workers = max(1, min(manager.settings.sync_power_state_workers, len(nodes), WRITERS))
        with ThreadPoolExecutor(workers, thread_name_prefix="sensors") as pool:
            for node in nodes:
                pool.submit(_collect_one, manager, node, report)
    finally:
        _running.release()
    report.seconds = time.monotonic() - started
    LOG.info(
        "Sensor data on %s: %d nodes sent, %d failed, in %.2fs",
        manager.host,
        len(report.sent),
        len(report.failed),
        report.seconds,
    )
    return report


def _collect_one(manager: ConductorManager, node: Node, report: SensorReport) -> None:
    try:
        data = manager.get_driver(node).management.get_sensors_data(NodeView.of(node))
        manager.sensors_notifier.notify(node, data)
    except Exception as exc:
        report.failed.append(node.uuid)
        LOG.warning("Node %s: sensor data not collected: %s", node.uuid, exc)
        return
    report.sent.append(node.uuid)
