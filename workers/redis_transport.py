"""kombu's Redis transport, hardened against a broker that goes away under load.

Two paths of kombu's Redis channel kill the worker when the broker connection is lost while
tasks run (reproduced here by restarting the broker mid-run, ``tests/test_broker_restart.py``):

* on close, the channel restores its unacknowledged messages over the dead connection
  (``AttributeError: 'NoneType' object has no attribute 'hostname'``);
* a task that finishes after the reconnect acknowledges on the old, closed channel
  (``'NoneType' object has no attribute 'client'``).

Here the restore on close is off: Ironworks restores a conductor's unacknowledged messages
itself from the ``unacked`` hash when it stops, restarts or is declared dead
(``workers/requeue.py``). An acknowledgement on a closed channel is dropped with a warning:
the message stays in the ``unacked`` hash, and if it is ever delivered again the conductor
finds its node not locked for it and drops it (``workers/task_manager.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis

LOG = logging.getLogger(__name__)


class QoS(redis.QoS):
    restore_at_shutdown = False

    def _closed(self) -> bool:
        return getattr(self.channel, "connection", None) is None

    def ack(self, delivery_tag: Any) -> None:
        if self._closed():
            LOG.warning(
                "Ack of %s dropped: its channel closed with the broker connection", delivery_tag
            )
            self._delivered.pop(delivery_tag, None)
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if self._closed():
            LOG.warning(
                "Reject of %s dropped: its channel closed with the broker connection", delivery_tag
            )
            self._delivered.pop(delivery_tag, None)
            return
        super().reject(delivery_tag, requeue=requeue)


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel
