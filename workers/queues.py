"""Queue names shared by the producers (API, beat) and the conductors.

Every conductor consumes ``conductor.shared`` (work any conductor may do), its own
``conductor.<hostname>`` (work for the nodes the ring gives it), ``conductor.broadcast``
(periodic jobs from beat) and ``conductor.heartbeat`` (beat's heartbeats).
Producer and consumer build the same :class:`Queue` on the default exchange, so no
auto-created exchange appears and every transport routes alike.
"""

from __future__ import annotations

from typing import Any

from kombu.common import Broadcast
from kombu.entity import Exchange, Queue

DEFAULT_EXCHANGE = Exchange("ironworks", type="direct")
SHARED_QUEUE = Queue("conductor.shared", DEFAULT_EXCHANGE, routing_key="conductor.shared")
#: Conductors publish sensor readings here (``workers/sensors.py``); subscribers bind their
#: own queue with a pattern such as ``hardware.#``.
SENSORS_EXCHANGE = Exchange("ironworks.sensors", type="topic", durable=True)


def fanout(name: str) -> tuple[Broadcast, dict[str, Any]]:
    """A fanout queue every conductor gets its own copy from, and the publishing options.

    A producer must pass those options or the message is silently dropped on Redis: the
    exchange must be declared on the publishing connection, with an explicit routing key.
    """
    exchange = Exchange(name, type="fanout", auto_delete=True)
    queue = Broadcast(name, exchange=exchange, routing_key=name)
    options = {"queue": name, "exchange": name, "routing_key": name, "declare": [exchange]}
    return queue, options


#: Beat publishes periodic jobs here; every live conductor receives each message. A
#: conductor that is down misses them, which suits periodic work.
BROADCAST_QUEUE, BROADCAST_OPTIONS = fanout("conductor.broadcast")
#: Beat's heartbeats have a fanout of their own, consumed outside the task pool by each
#: conductor's main process (``workers/service.py``), so busy threads cannot delay them.
HEARTBEAT_QUEUE, HEARTBEAT_OPTIONS = fanout("conductor.heartbeat")


def conductor_queue(hostname: str) -> Queue:
    """The private queue of the conductor called ``hostname``."""
    name = f"conductor.{hostname}"
    return Queue(name, DEFAULT_EXCHANGE, routing_key=name)
