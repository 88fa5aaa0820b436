"""Queue names shared by the producers (API, beat) and the conductors.

Every conductor consumes ``conductor.shared`` (work any conductor may do), its own
``conductor.<hostname>`` (work for the nodes the ring gives it) and ``conductor.broadcast``
(periodic jobs from beat).
Producer and consumer build the same :class:`Queue` on the default exchange, so no
auto-created exchange appears and every transport routes alike.
"""

from __future__ import annotations

from kombu.common import Broadcast
from kombu.entity import Exchange, Queue

DEFAULT_EXCHANGE = Exchange("ironworks", type="direct")
SHARED_QUEUE = Queue("conductor.shared", DEFAULT_EXCHANGE, routing_key="conductor.shared")

#: Beat publishes periodic jobs here; every live conductor receives each message (fanout).
#: A conductor that is down misses them, which suits periodic work. (Heartbeats have an
#: exchange of their own, consumed outside the task pool: ``workers/heartbeat.py``.)
BROADCAST_EXCHANGE = Exchange("conductor.broadcast", type="fanout", auto_delete=True)
BROADCAST_QUEUE = Broadcast(
    "conductor.broadcast", exchange=BROADCAST_EXCHANGE, routing_key="conductor.broadcast"
)
#: Options a producer must pass so the fanout is not silently dropped on Redis
#: (the exchange must be declared on the publishing connection, with an explicit key).
BROADCAST_OPTIONS = {
    "queue": "conductor.broadcast",
    "exchange": "conductor.broadcast",
    "routing_key": "conductor.broadcast",
    "declare": [BROADCAST_EXCHANGE],
}


def conductor_queue(hostname: str) -> Queue:
    """The private queue of the conductor called ``hostname``."""
    name = f"conductor.{hostname}"
    return Queue(name, DEFAULT_EXCHANGE, routing_key=name)
