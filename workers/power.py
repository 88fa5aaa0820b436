"""Power workflow: apply a requested power state through the node's driver."""

from __future__ import annotations

import logging

from app import states
from workers.task_manager import NodeTask

LOG = logging.getLogger(__name__)


def set_power_state(task: NodeTask, target: str) -> None:
    """Drive the task's node to ``target``; the outcome is written as the lock is released.

    On success ``power_state`` is what the driver reports and ``last_error`` is cleared; on a
    driver failure the power state is left as it was and ``last_error`` says why. Either way
    ``target_power_state`` is cleared: the action is over.
    """
    uuid = task.node.uuid
    task.record(target_power_state=states.NOSTATE)
    try:
        new_state = task.driver.power.set_power_state(task.view, target)
    except Exception as exc:
        LOG.error("Node %s: power %r failed on %s: %s", uuid, target, task.host, exc)
        task.record(last_error=f"Failed to change power state to {target!r}: {exc}")
        return
    task.record(power_state=new_state, last_error=None)
    task.report(LOG, "Node %s: power %r done on %s, now %r", uuid, target, task.host, new_state)
