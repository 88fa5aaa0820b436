"""The keepalive: beat's heartbeat, handled where busy workers cannot delay it.

Beat publishes a heartbeat every ``heartbeat_interval`` to the fanout exchange
``conductor.heartbeat``. Each conductor consumes it in a consumer bootstep, in the worker's
main process, *not* in the task pool: a conductor whose threads are all busy deploying must
still stamp its row on time, or its peers would declare it dead and take its nodes. (A
heartbeat run as an ordinary task queues behind the work it is meant to vouch for.)
"""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps
from kombu.messaging import Consumer

from workers.queues import fanout

LOG = logging.getLogger(__name__)

HEARTBEAT_QUEUE, HEARTBEAT_OPTIONS = fanout("conductor.heartbeat")


class HeartbeatConsumer(bootsteps.ConsumerStep):
    """Stamps this conductor's row for every heartbeat beat sends."""

    def get_consumers(self, channel: Any) -> list[Consumer]:
        return [
            Consumer(
                channel,
                queues=[HEARTBEAT_QUEUE],
                callbacks=[self.on_heartbeat],
                accept=["json"],
            )
        ]

    def on_heartbeat(self, body: Any, message: Any) -> None:
        from workers import manager

        try:
            manager.current().heartbeat()
        except RuntimeError:
            pass  # not a started conductor (yet)
        except Exception:
            LOG.exception("Heartbeat failed")
        finally:
            message.ack()
