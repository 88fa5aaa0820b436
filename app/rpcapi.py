"""The API's only way to reach the conductors: pick the ring owner, lock, enqueue.

For a state change the API validates, then in one database transaction takes the node's
lock *for the ring owner* and records the intent, publishes the task to that conductor's
queue ``conductor.<host>``, and only then commits. So:

* a busy node answers 409 at once, naming the holder;
* if the broker refuses the message, the transaction rolls back: no lock, no intent, 503;
* if the API dies after publishing but before committing, the client never got a 202 and the
  request has no effect: the conductor finds the node not locked for it and drops the task
  (``workers/task_manager.py``). No request can leave a node locked with no task to release
  it. A conductor that receives the task before the commit waits on the row lock and then
  finds the node locked for itself.

Nothing here ever waits for a task's result.
"""

from __future__ import annotations

import logging
from typing import Any

from app import exceptions, state_machine, states
from app.db import allocations as allocation_db
from app.db import nodes as node_db
from app.db.models import utcnow
from app.hash_ring import HashRingManager, get_ring_manager

LOG = logging.getLogger(__name__)

_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


class ConductorAPI:
    """Routes node operations to the conductor that owns the node."""

    def __init__(self, ring: HashRingManager | None = None) -> None:
        self.ring = ring or get_ring_manager()

    def conductor_for(self, node_uuid: str, driver: str, group: str) -> str:
        return self.ring.get_conductor(node_uuid, driver, group)

    def change_power_state(self, ident: str, target: str) -> str:
        """Record and route a power request; returns the node's UUID."""
        if target not in states.POWER_TARGETS:
            raise exceptions.InvalidPowerTarget(
                target=target, allowed=", ".join(states.POWER_TARGETS)
            )
        node = node_db.get(ident)
        host = self.conductor_for(node.uuid, node.driver, node.conductor_group)
        node_db.lock_for(
            node.uuid,
            host,
            target_power_state=target,
            last_error=None,
            before_commit=lambda: self._send(
                "ironworks.node.set_power_state", host, (node.uuid, target)
            ),
        )
        return node.uuid

    def do_provisioning_action(
        self, ident: str, verb: str, instance_updates: dict[str, Any], options: dict[str, Any]
    ) -> str:
        """Move the node into the verb's first state, locked for its owner, and route the work.

        ``instance_updates`` are merged into ``instance_info`` under the lock (configdrive,
        rescue password: secrets never travel in task arguments). Returns the node's UUID.
        """
        node = node_db.get(ident)
        before = node.provision_state
        event = state_machine.event_for_verb(before, verb)
        after = state_machine.next_state(before, event)
        target = states.MANAGEABLE if event == "clean" else state_machine.target_of(after)
        host = self.conductor_for(node.uuid, node.driver, node.conductor_group)
        values: dict[str, Any] = {
            "provision_state": after,
            "target_provision_state": target,
            "provision_updated_at": utcnow(),
            "last_error": None,
        }
        if instance_updates:
            values["instance_info"] = {**(node.instance_info or {}), **instance_updates}
        event_log = node_db.Event(f"{before} -> {after} ({verb} requested)", user="api")
        if event == "abort":
            options = {**options, "aborted": before}
        node_db.lock_for(
            node.uuid,
            host,
            expected_state=before,
            history=[event_log],
            before_commit=lambda: self._send(
                "ironworks.node.provision", host, (node.uuid, event, options)
            ),
            **values,
        )
        return node.uuid

    def process_allocation(self, uuid: str) -> None:
        """Queue a recorded allocation for any conductor (the shared queue). If the broker
        refuses, the allocation is marked failed and the answer is a 503."""
        from workers.queues import SHARED_QUEUE

        try:
            self._publish("ironworks.allocation.process", SHARED_QUEUE.name, (uuid,))
        except exceptions.BrokerUnavailable as exc:
            allocation_db.fail(uuid, f"Failed to queue allocation {uuid}: {exc}")
            raise

    def _send(self, task: str, host: str, args: tuple[Any, ...]) -> None:
        from workers.queues import conductor_queue

        self._publish(task, conductor_queue(host), args)

    def _publish(self, task: str, queue: Any, args: tuple[Any, ...]) -> None:
        from workers.celery_app import app

        subject = args[0]
        try:
            result = app.send_task(task, args=args, queue=queue, retry_policy=_PUBLISH_RETRY)
        except Exception as exc:
            LOG.error("%s: could not enqueue %s on %s: %s", subject, task, queue, exc)
            raise exceptions.BrokerUnavailable(reason=str(exc) or type(exc).__name__) from exc
        LOG.info("%s: %s queued on %s as task %s", subject, task, queue, result.id)
