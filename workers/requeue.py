"""Move messages out of a conductor's queue, keeping their task ids.

Used when a conductor is gone (takeover), when one stops (it hands back what it has not
started) and when one restarts (it finds what its earlier run left). Messages are read from
``conductor.<host>``; on Redis, messages the host had taken but not acknowledged when it died
(kombu keeps them in the ``unacked`` hash until a visibility timeout of an hour) are first put
back into that queue, so a task that was running is recovered at once. Each message is
published again before it is acknowledged: a crash in between gives a duplicate, which the
receiving conductor drops, never a loss.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workers.celery_app import app
from workers.queues import conductor_queue

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Moved:
    task_id: str
    task: str
    node_uuid: str
    destination: str


def _connected(conn: Any) -> Any:
    """Connect now or fail fast: a stopping conductor must not wait for a broker that is
    stopping too (honcho kills whatever is still running after 5 s)."""
    conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5, timeout=3)
    return conn


def restore_unacked(host: str) -> int:
    """Redis only: put the host's unacknowledged messages back into its queue."""
    queue = conductor_queue(host).name
    with app.connection_for_write() as conn:
        channel: Any = _connected(conn).default_channel
        client = getattr(channel, "client", None)
        if client is None or not hasattr(channel, "unacked_key"):
            return 0  # AMQP brokers requeue unacknowledged messages themselves
        restored = 0
        for tag, raw in client.hgetall(channel.unacked_key).items():
            payload, _exchange, routing_key = json.loads(raw)
            if routing_key != queue:
                continue
            with client.pipeline() as pipe:
                pipe.rpush(queue, json.dumps(payload))  # consumed next (BRPOP takes the right)
                pipe.hdel(channel.unacked_key, tag)
                pipe.zrem(channel.unacked_index_key, tag)
                pipe.execute()
            restored += 1
    if restored:
        LOG.warning("Restored %d unacknowledged messages of %s", restored, host)
    return restored


def drain(host: str, owner_of: Callable[[str], str | None]) -> list[Moved]:
    """Re-publish every message in ``conductor.<host>`` to ``owner_of(node_uuid)``.

    ``owner_of`` may also move the node's lock to the new owner; when it returns None the
    message is dropped (the node is gone).
    """
    moved: list[Moved] = []
    with app.connection_for_write() as conn:
        queue = _connected(conn).SimpleQueue(conductor_queue(host))
        try:
            taken = []
            while True:  # take everything first: a message may be re-published to this queue
                try:
                    taken.append(queue.get(block=False))
                except queue.Empty:
                    break
            for message in taken:
                moved += _republish(message, owner_of)
                message.ack()
        finally:
            queue.close()
    return moved


def _republish(message: Any, owner_of: Callable[[str], str | None]) -> list[Moved]:
    headers = message.headers or {}
    task, task_id = headers.get("task"), headers.get("id")
    args, kwargs, _embed = message.decode()
    if not args or not isinstance(args[0], str):
        LOG.error("Dropping message %s (%s) without a node id", task_id, task)
        return []
    node_uuid = args[0]
    owner = owner_of(node_uuid)
    if owner is None:
        LOG.warning("Dropping task %s (%s): node %s has no owner", task_id, task, node_uuid)
        return []
    app.send_task(task, args=args, kwargs=kwargs, task_id=task_id, queue=conductor_queue(owner))
    LOG.info("Task %s (%s) for node %s moved to %s", task_id, task, node_uuid, owner)
    return [Moved(str(task_id), str(task), node_uuid, owner)]
