"""The ``redfish`` power interface: ComputerSystem.Reset, then wait for the new state.

A reset only asks the BMC; the system changes state some time later (sushy-tools' fake
driver: up to 11 s; real servers: seconds). After each reset the interface polls the system's
``PowerState`` every :data:`POLL_INTERVAL` seconds until it shows the target, for at most
``IRONWORKS_POWER_STATE_CHANGE_TIMEOUT`` seconds (each read bounded by the BMC timeout), and
returns the state reached; otherwise it fails naming the state the system is stuck in.
Powering on a system that is on (or off one that is off) sends nothing. A reboot of a system
that is off powers it on, as Ironic does.
"""

from __future__ import annotations

import time
from typing import Any

import sushy
from sushy import exceptions as sushy_exc

from app import exceptions, states
from app.config import get_settings
from drivers.base import NodeView, PowerInterface
from drivers.redfish import client

POLL_INTERVAL = 0.25

#: Redfish power states as Ironic names them; the transitions count as where they go.
POWER_STATES = {
    sushy.PowerState.ON: states.POWER_ON,
    sushy.PowerState.POWERING_ON: states.POWER_ON,
    sushy.PowerState.OFF: states.POWER_OFF,
    sushy.PowerState.POWERING_OFF: states.POWER_OFF,
}

#: Per target: the reset sent when the system is on, when it is off, and the state awaited.
RESETS: dict[str, tuple[sushy.ResetType | None, sushy.ResetType | None, str]] = {
    states.POWER_ON: (None, sushy.ResetType.ON, states.POWER_ON),
    states.POWER_OFF: (sushy.ResetType.FORCE_OFF, None, states.POWER_OFF),
    states.SOFT_POWER_OFF: (sushy.ResetType.GRACEFUL_SHUTDOWN, None, states.POWER_OFF),
    states.REBOOT: (sushy.ResetType.FORCE_RESTART, sushy.ResetType.ON, states.POWER_ON),
    states.SOFT_REBOOT: (sushy.ResetType.GRACEFUL_RESTART, sushy.ResetType.ON, states.POWER_ON),
}


def _state_of(system: Any) -> str:
    return POWER_STATES.get(system.power_state, states.ERROR)


def _settled(system: Any) -> str | None:
    """The state the system is in, or None while it is powering on or off."""
    return {sushy.PowerState.ON: states.POWER_ON, sushy.PowerState.OFF: states.POWER_OFF}.get(
        system.power_state
    )


def _reset(node: NodeView, system: Any, target: str) -> str:
    """Send the reset ``target`` needs from the current state; return the state to await."""
    when_on, when_off, awaited = RESETS[target]
    reset = when_on if _state_of(system) == states.POWER_ON else when_off
    if reset is None:
        return awaited
    try:
        system.reset_system(reset)
    except sushy_exc.InvalidParameterValueError:
        raise exceptions.DriverOperationFailed(
            operation=f"set power state to {target}",
            node=node.uuid,
            reason=f"the BMC does not offer the {reset.value} reset",
        ) from None
    return awaited


class RedfishPower(PowerInterface):
    name = "redfish"

    def get_properties(self) -> dict[str, str]:
        return dict(client.COMMON_PROPERTIES)

    def validate(self, node: NodeView) -> None:
        client.parse(node)

    def get_power_state(self, node: NodeView) -> str:
        return client.run(node, "get power state", _state_of)

    def set_power_state(self, node: NodeView, target: str) -> str:
        if target not in RESETS:
            raise exceptions.InvalidPowerTarget(target=target, allowed=", ".join(RESETS))
        operation = f"set power state to {target}"
        awaited = client.run(node, operation, lambda system: _reset(node, system, target))
        return self._wait_for(node, operation, awaited)

    def _wait_for(self, node: NodeView, operation: str, awaited: str) -> str:
        timeout = get_settings().power_state_change_timeout
        deadline = time.monotonic() + timeout
        while True:
            current = client.run(node, "get power state", _settled)
            if current == awaited:
                return current
            if time.monotonic() >= deadline:
                raise exceptions.DriverOperationFailed(
                    operation=operation,
                    node=node.uuid,
                    reason=f"the system did not reach {awaited} within {timeout:g}s "
                    f"(it reports {current or 'a transition'})",
                )
            time.sleep(POLL_INTERVAL)
