"""Provisioning actions: the conductor half of ``PUT /v1/nodes/<id>/states/provision``.

The API has already checked the verb against the state machine, moved the node into the
verb's first state (``verifying``, ``deploying``, ...) and locked it for this conductor. Here
the work runs under that lock and fires ``done``, ``wait`` or ``fail``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app import states
from app.db import ports as port_db
from drivers.base import WAIT, InspectResult
from workers import cleaning, deploy
from workers.task_manager import NodeTask

LOG = logging.getLogger(__name__)


def verify(task: NodeTask, options: dict[str, Any]) -> None:
    """``manage``: from enroll the BMC must answer before a node becomes manageable.

    From available or a failure state ``manage`` needs no work: the API already moved it.
    """
    if task.provision_state != states.VERIFYING:
        return
    try:
        task.driver.power.validate(task.view)
        power = task.driver.power.get_power_state(task.view)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Failed to verify node: {exc}")
        return
    task.record(power_state=power, last_error=None)
    task.process_event(states.EV_DONE)


def provide(task: NodeTask, options: dict[str, Any]) -> None:
    cleaning.run_cleaning(task, cleaning.automated_steps(task), manual=False)


def clean(task: NodeTask, options: dict[str, Any]) -> None:
    cleaning.run_cleaning(task, cleaning.manual_steps(options["clean_steps"]), manual=True)


def inspect(task: NodeTask, options: dict[str, Any]) -> None:
    try:
        result = task.driver.inspect.inspect_hardware(task.view)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Inspection failed: {exc}")
        return
    if result == WAIT or not isinstance(result, InspectResult):
        task.process_event(states.EV_WAIT)
        return
    properties = {**(task.node.properties or {}), **result.properties}
    known = set(port_db.macs_of(task.node.uuid))
    for mac in result.macs:
        if mac not in known:
            port_db.create(task.node.uuid, {"address": mac})
    task.record(properties=properties, last_error=None)
    task.process_event(states.EV_DONE)


def adopt(task: NodeTask, options: dict[str, Any]) -> None:
    try:
        for iface in (task.driver.power, task.driver.boot, task.driver.deploy):
            iface.validate(task.view)
        power = task.driver.power.get_power_state(task.view)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Adoption failed: {exc}")
        return
    task.record(power_state=power, last_error=None, conductor_affinity=task.host)
    task.process_event(states.EV_DONE)


def rescue(task: NodeTask, options: dict[str, Any]) -> None:
    try:
        result = task.driver.rescue.rescue(task.view)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Rescue failed: {exc}")
        return
    task.record(power_state=states.POWER_ON, last_error=None)
    task.process_event(states.EV_WAIT if result == WAIT else states.EV_DONE)


def unrescue(task: NodeTask, options: dict[str, Any]) -> None:
    try:
        task.driver.rescue.unrescue(task.view)
    except Exception as exc:
        task.fail(states.EV_FAIL, f"Unrescue failed: {exc}")
        return
    info = {k: v for k, v in (task.node.instance_info or {}).items() if k != "rescue_password"}
    task.record(instance_info=info, power_state=states.POWER_ON, last_error=None)
    task.process_event(states.EV_DONE)


def abort(task: NodeTask, options: dict[str, Any]) -> None:
    """The API already moved the node from its wait state to the failure state."""
    message = f"{options.get('aborted', 'operation')} aborted by request"
    task.record(last_error=message)
    task.history(message, severity="WARNING")


HANDLERS: dict[str, Callable[[NodeTask, dict[str, Any]], None]] = {
    "manage": verify,
    "provide": provide,
    "clean": clean,
    "inspect": inspect,
    "deploy": lambda task, _o: deploy.deploy(task),
    "rebuild": lambda task, _o: deploy.deploy(task),
    "delete": lambda task, _o: deploy.tear_down(task),
    "adopt": adopt,
    "rescue": rescue,
    "unrescue": unrescue,
    "abort": abort,
}


#: The state each event's work runs in. A task finding its node elsewhere has nothing to do
#: (its work already finished, or was failed): that makes a redelivered task harmless.
WORK_STATES: dict[str, tuple[str, ...]] = {
    "manage": (states.VERIFYING, states.MANAGEABLE),
    "provide": (states.CLEANING,),
    "clean": (states.CLEANING,),
    "inspect": (states.INSPECTING,),
    "deploy": (states.DEPLOYING,),
    "rebuild": (states.DEPLOYING,),
    "delete": (states.DELETING,),
    "adopt": (states.ADOPTING,),
    "rescue": (states.RESCUING,),
    "unrescue": (states.UNRESCUING,),
    "abort": (states.DEPLOYFAIL, states.CLEANFAIL, states.INSPECTFAIL, states.RESCUEFAIL),
}


def run(task: NodeTask, event: str, options: dict[str, Any]) -> None:
    """Run the work of ``event`` on the task's node (locked for us by the API)."""
    uuid, before = task.node.uuid, task.provision_state
    if before not in WORK_STATES[event]:
        LOG.info("Node %s: %s has nothing to do in state %r", uuid, event, before)
        return
    HANDLERS[event](task, options)
    task.report(
        LOG, "Node %s: %s on %s: %s -> %s", uuid, event, task.host, before, task.provision_state
    )
