"""The API's only way to reach the conductors: pick the ring owner, lock, enqueue.

For a state change the API validates, takes the node's lock *for the ring owner* while
recording the intent in the same atomic statement, and only then publishes the task to that
conductor's queue ``conductor.<host>``. A busy node therefore answers 409 at once, naming
the holder. If the broker refuses the message the lock and the intent are rolled back and
the caller gets a 503. Nothing here ever waits for a task's result.
"""

from __future__ import annotations

import logging
from typing import Any

from app import exceptions, state_machine, states
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
        node_db.reserve(node.uuid, host, target_power_state=target, last_error=None)
        self._send(
            "ironworks.node.set_power_state",
            host,
            (node.uuid, target),
            rollback={"target_power_state": states.NOSTATE},
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
        node_db.reserve(node.uuid, host, expected_state=before, history=[event_log], **values)
        if event == "abort":
            options = {**options, "aborted": before}
        rollback = {
            "provision_state": before,
            "target_provision_state": node.target_provision_state,
            "instance_info": node.instance_info,
        }
        self._send("ironworks.node.provision", host, (node.uuid, event, options), rollback)
        return node.uuid

    def _send(self, task: str, host: str, args: tuple[Any, ...], rollback: dict[str, Any]) -> None:
        from workers.celery_app import app
        from workers.queues import conductor_queue

        node_uuid = args[0]
        try:
            result = app.send_task(
                task, args=args, queue=conductor_queue(host), retry_policy=_PUBLISH_RETRY
            )
        except Exception as exc:
            LOG.error("Node %s: could not enqueue %s for %s: %s", node_uuid, task, host, exc)
            undo = node_db.Event(
                f"Request not queued ({exc}); rolled back", "error", "ERROR", user="api"
            )
            node_db.release(node_uuid, host, history=[undo], **rollback)
            raise exceptions.BrokerUnavailable(reason=str(exc) or type(exc).__name__) from exc
        LOG.info("Node %s: %s queued for %s as task %s", node_uuid, task, host, result.id)
