"""Queue names shared by the producers (API, beat) and the conductors.

Every conductor consumes ``conductor.shared`` (work any conductor may do), its own
``conductor.<hostname>`` (work for the nodes the ring gives it) and the heartbeat broadcast.
Producer and consumer build the same :class:`Queue` on the default exchange, so no
auto-created exchange appears and every transport routes alike.
"""

from __future__ import annotations

from kombu.common import Broadcast
from kombu.entity import Exchange, Queue

DEFAULT_EXCHANGE = Exchange("ironworks", type="direct")
SHARED_QUEUE = Queue("conductor.shared", DEFAULT_EXCHANGE, routing_key="conductor.shared")

#: Beat publishes heartbeats here; every live conductor receives each one (fanout).
HEARTBEAT_EXCHANGE = Exchange("conductor.heartbeat", type="fanout", auto_delete=True)
HEARTBEAT_QUEUE = Broadcast(
    "conductor.heartbeat", exchange=HEARTBEAT_EXCHANGE, routing_key="conductor.heartbeat"
)
#: Options a producer must pass so the fanout is not silently dropped on Redis
#: (the exchange must be declared on the publishing connection, with an explicit key).
HEARTBEAT_OPTIONS = {
    "queue": "conductor.heartbeat",
    "exchange": "conductor.heartbeat",
    "routing_key": "conductor.heartbeat",
    "declare": [HEARTBEAT_EXCHANGE],
}


def conductor_queue(hostname: str) -> Queue:
    """The private queue of the conductor called ``hostname``."""
    name = f"conductor.{hostname}"
    return Queue(name, DEFAULT_EXCHANGE, routing_key=name)
