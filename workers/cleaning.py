"""Cleaning: automated (on provide and after undeploy) and manual (the ``clean`` verb)."""

from __future__ import annotations

import logging
from typing import Any

from app import states
from drivers.base import WAIT, Step
from workers.task_manager import NodeTask

LOG = logging.getLogger(__name__)


def automated_steps(task: NodeTask) -> list[Step]:
    """The driver's clean steps with a priority, highest first (Ironic's order)."""
    steps = [s for s in task.driver.deploy.get_clean_steps(task.view) if s.priority > 0]
    return sorted(steps, key=lambda s: -s.priority)


def manual_steps(raw: list[dict[str, Any]]) -> list[Step]:
    return [Step(s["interface"], s["step"], args=dict(s.get("args") or {})) for s in raw]


def run_cleaning(task: NodeTask, steps: list[Step], manual: bool) -> None:
    """Run ``steps`` on a node in ``cleaning``; end in available/manageable, a wait or a failure."""
    uuid = task.node.uuid
    for index, step in enumerate(steps):
        try:
            result = task.driver.deploy.execute_clean_step(task.view, step)
        except Exception as exc:
            task.fail(states.EV_FAIL, f"Clean step {step.step} failed: {exc}")
            LOG.error("Node %s: clean step %s failed: %s", uuid, step.step, exc)
            return
        if result == WAIT:
            remaining = [s.as_dict() for s in steps[index + 1 :]]
            info = dict(task.node.driver_internal_info or {})
            info.update(clean_steps=remaining, cleaning_manual=manual)
            task.record(driver_internal_info=info)
            task.process_event(states.EV_WAIT, target=task.node.target_provision_state)
            task.report(
                LOG, "Node %s: waiting for a callback during clean step %s", uuid, step.step
            )
            return
    try:
        task.driver.power.set_power_state(task.view, states.POWER_OFF)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Failed to power off after cleaning: {exc}")
        return
    task.record(power_state=states.POWER_OFF, last_error=None)
    # A retired node goes back to manageable, never to available (Ironic's rule).
    task.process_event(states.VERB_MANAGE if manual or task.node.retired else states.EV_DONE)
    task.report(LOG, "Node %s: cleaning done (%d steps)", uuid, len(steps))
