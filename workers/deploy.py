"""Deployment and teardown of an instance on a node."""

from __future__ import annotations

import logging

from app import states
from drivers.base import WAIT
from workers import networking
from workers.cleaning import automated_steps, run_cleaning
from workers.task_manager import NodeTask

LOG = logging.getLogger(__name__)


def deploy(task: NodeTask) -> None:
    """Deploy on a node in ``deploying``: ends ``active``, in ``wait call-back`` or failed."""
    driver, uuid = task.driver, task.node.uuid
    try:
        driver.power.set_power_state(task.view, states.POWER_OFF)
        driver.boot.prepare_ramdisk(task.view)
        if driver.deploy.deploy(task.view) == WAIT:
            task.record(power_state=states.POWER_ON)
            task.process_event(states.EV_WAIT)
            task.report(LOG, "Node %s: deploy waits for the agent's callback", uuid)
            return
        driver.boot.clean_up_ramdisk(task.view)
        driver.boot.prepare_instance(task.view)  # sets the boot device for the instance
        networking.bind(task)
        driver.power.set_power_state(task.view, states.POWER_ON)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Deploy failed: {exc}")
        LOG.error("Node %s: deploy failed: %s", uuid, exc)
        return
    task.record(power_state=states.POWER_ON, last_error=None, conductor_affinity=task.host)
    task.process_event(states.EV_DONE)
    task.report(LOG, "Node %s: deployed", uuid)


def tear_down(task: NodeTask) -> None:
    """Undeploy a node in ``deleting``, then clean it back to ``available``."""
    driver, uuid = task.driver, task.node.uuid
    try:
        driver.power.set_power_state(task.view, states.POWER_OFF)
        networking.unbind(task)
        driver.deploy.tear_down(task.view)
        driver.boot.clean_up_instance(task.view)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Tear down failed: {exc}")
        LOG.error("Node %s: tear down failed: %s", uuid, exc)
        return
    task.record(power_state=states.POWER_OFF, instance_info={}, instance_uuid=None, last_error=None)
    task.process_event(states.VERB_CLEAN)
    task.report(LOG, "Node %s: torn down; automated cleaning follows", uuid)
    run_cleaning(task, automated_steps(task), manual=False)
