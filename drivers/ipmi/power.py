"""The ``ipmi`` power interface: chassis power through pyghmi, states in Ironic's names.

Every change is followed by reads until the BMC reports the target (a soft power off waits
for the operating system to shut down), for at most ``IRONWORKS_POWER_STATE_CHANGE_TIMEOUT``
seconds per step; a machine that does not get there fails the operation. As in Ironic, a reboot is a
hard power off then on, and a soft reboot a soft power off (ACPI) then on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app import exceptions, states
from app.config import get_settings
from drivers.base import NodeView, PowerInterface
from drivers.ipmi import client

#: pyghmi's chassis power states and what Ironic calls them.
_STATES = {"on": states.POWER_ON, "off": states.POWER_OFF}
#: Each target as a sequence of (pyghmi chassis control, the state to wait for).
_STEPS = {
    states.POWER_ON: (("on", "on"),),
    states.POWER_OFF: (("off", "off"),),
    states.SOFT_POWER_OFF: (("shutdown", "off"),),
    states.REBOOT: (("off", "off"), ("on", "on")),
    states.SOFT_REBOOT: (("shutdown", "off"), ("on", "on")),
}
#: Seconds between two reads while waiting for the machine.
POLL_INTERVAL = 0.2


def _read(command: Any) -> str:
    return str(command.get_power()["powerstate"])


def _control(control: str) -> Callable[[Any], Any]:
    return lambda command: command.set_power(control)


class IPMIPower(PowerInterface):
    name = "ipmi"

    def get_properties(self) -> dict[str, str]:
        return dict(client.PROPERTIES)

    def validate(self, node: NodeView) -> None:
        client.parse(node)

    def get_power_state(self, node: NodeView) -> str:
        raw = client.run(node, "get power state", _read)
        return _STATES.get(raw, states.ERROR)

    def set_power_state(self, node: NodeView, target: str) -> str:
        steps = _STEPS.get(target)
        if steps is None:
            raise exceptions.InvalidPowerTarget(target=target, allowed=", ".join(_STEPS))
        for control, wanted in steps:
            client.run(node, f"power {control}", _control(control))
            self._wait_for(node, target, wanted)
        return _STATES[steps[-1][1]]

    def _wait_for(self, node: NodeView, target: str, wanted: str) -> None:
        timeout = get_settings().power_state_change_timeout
        deadline = time.monotonic() + timeout
        while True:
            current = client.run(node, "get power state", _read)
            if current == wanted or time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL)
        if current != wanted:
            raise exceptions.DriverOperationFailed(
                operation=f"set power state to {target}",
                node=node.uuid,
                reason=f"the BMC still reports power {current} after {timeout:g}s",
            )
