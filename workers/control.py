"""What the API and the CLI ask of the conductors through the broker, without being one.

Light on purpose: the Celery app and the queue names only, no conductor internals.
"""

from __future__ import annotations

from typing import Any

from workers.celery_app import app
from workers.queues import conductor_queue

#: The remote-control command a conductor drains on (``workers/service.py`` registers it).
DRAIN_COMMAND = "ironworks_drain"


def queue_depth(host: str) -> int:
    """Messages waiting in ``conductor.<host>`` (Redis and AMQP alike)."""
    with app.connection_for_write() as conn:
        queue: Any = conductor_queue(host)(conn.default_channel)
        try:
            _name, count, _consumers = queue.queue_declare(passive=True)
        except conn.channel_errors:
            return 0  # Redis keeps no empty queue: "not found" means empty
        return int(count)


def request_drain(conductor: str, timeout: float = 1800.0) -> bool:
    """Ask ``conductor`` to drain (a broadcast to it alone); True if it answered."""
    replies = app.control.broadcast(
        DRAIN_COMMAND,
        arguments={"timeout": timeout},
        destination=[conductor],
        reply=True,
        timeout=5,
    )
    return bool(replies)
