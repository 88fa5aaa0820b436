"""The ``fake-hardware`` type: a first-class plugin that completes every operation.

Each operation sleeps for its configured delay (``IRONWORKS_FAKE_<OP>_DELAY`` seconds), so
benchmarks see realistic latency. Tests inject failures through ``driver_info``:
``fake_fail`` names the operations to fail (a string or a list; e.g. ``"power"``), and
``fake_fail_message`` sets the error text.
"""

from __future__ import annotations

import time
from typing import ClassVar

from app import exceptions, states
from app.config import get_settings
from drivers.base import (
    BaseInterface,
    BootInterface,
    DeployInterface,
    HardwareType,
    ManagementInterface,
    NodeView,
    PowerInterface,
)

_POWER_RESULT = {
    states.POWER_ON: states.POWER_ON,
    states.POWER_OFF: states.POWER_OFF,
    states.SOFT_POWER_OFF: states.POWER_OFF,
    states.REBOOT: states.POWER_ON,
    states.SOFT_REBOOT: states.POWER_ON,
}


def _act(node: NodeView, operation: str) -> None:
    """Wait the configured delay, then fail if ``driver_info`` asks for it."""
    delay = get_settings().fake_delays.get(operation, 0.0)
    if delay > 0:
        time.sleep(delay)
    failing = node.driver_info.get("fake_fail", [])
    if isinstance(failing, str):
        failing = [part.strip() for part in failing.split(",")]
    if operation in failing:
        reason = node.driver_info.get("fake_fail_message", "requested by driver_info")
        raise exceptions.DriverOperationFailed(operation=operation, node=node.uuid, reason=reason)


class FakePower(PowerInterface):
    name = "fake"

    def get_properties(self) -> dict[str, str]:
        return {
            "fake_fail": "Operations to fail (power, management, boot, deploy). Optional.",
            "fake_fail_message": "Error text for injected failures. Optional.",
        }

    def get_power_state(self, node: NodeView) -> str:
        _act(node, "power")
        return node.power_state or states.POWER_OFF

    def set_power_state(self, node: NodeView, target: str) -> str:
        _act(node, "power")
        return _POWER_RESULT[target]


class FakeManagement(ManagementInterface):
    name = "fake"

    def get_supported_boot_devices(self, node: NodeView) -> list[str]:
        _act(node, "management")
        return ["pxe", "disk", "cdrom", "bios"]


class FakeBoot(BootInterface):
    name = "fake"


class FakeDeploy(DeployInterface):
    name = "fake"


class FakeHardware(HardwareType):
    name = "fake-hardware"
    supported: ClassVar[dict[str, list[type[BaseInterface]]]] = {
        "power": [FakePower],
        "management": [FakeManagement],
        "boot": [FakeBoot],
        "deploy": [FakeDeploy],
    }
