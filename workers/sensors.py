"""The sensors notifier: where a conductor sends the sensor readings of its nodes.

The periodic job ``workers/periodic/sensor_data.py`` reads the sensors of the nodes the ring
gives a conductor and hands each node's readings to the conductor's
:class:`SensorsNotifier`, which

* publishes an event on the topic exchange ``ironworks.sensors`` with the routing key
  ``hardware.<driver>.metrics.update`` (Ironic's event type), so any consumer can bind a
  queue to ``hardware.#`` and subscribe; and
* stores the latest readings per node, which ``GET /v1/nodes/<id>/sensors`` returns.
"""

from __future__ import annotations

import logging
from typing import Any

from app.db import sensors as sensor_db
from app.db.models import Node, utcnow
from workers.celery_app import app
from workers.queues import SENSORS_EXCHANGE

LOG = logging.getLogger(__name__)


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
