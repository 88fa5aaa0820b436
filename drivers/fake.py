"""The ``fake-hardware`` type: a first-class plugin that completes every operation.

Each operation sleeps for its configured delay (``IRONWORKS_FAKE_<OP>_DELAY`` seconds, for
``power``, ``management``, ``boot``, ``deploy``, ``clean``), so benchmarks see realistic
latency. Tests
steer it through ``driver_info``:

* ``fake_fail``: operations to fail (a string or a list): ``power``, ``management``,
  ``boot``, ``deploy``, ``clean``, ``inspect``, ``rescue``, ``validate``;
* ``fake_fail_message``: the error text of injected failures;
* ``fake_wait``: phases that wait for a callback instead of finishing (``deploy``,
  ``clean``, ``inspect``, ``rescue``): the node enters the matching wait state;
* ``fake_power_state``: someone flipped the machine's power by hand. The fake BMC keeps each
  node's power state in the conductor's memory; a new value here changes it once, so the
  power-state sync sees drift and corrects it.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from app import exceptions, states
from app.config import get_settings
from drivers.absent import with_absent
from drivers.base import (
    BOOT_DEVICES,
    WAIT,
    BaseInterface,
    BiosInterface,
    BootDevice,
    BootInterface,
    ConsoleInterface,
    DeployInterface,
    FirmwareInterface,
    HardwareType,
    InspectInterface,
    InspectResult,
    ManagementInterface,
    NodeView,
    PowerInterface,
    RaidInterface,
    RescueInterface,
    Step,
    VendorInterface,
)

_POWER_RESULT = {
    states.POWER_ON: states.POWER_ON,
    states.POWER_OFF: states.POWER_OFF,
    states.SOFT_POWER_OFF: states.POWER_OFF,
    states.REBOOT: states.POWER_ON,
    states.SOFT_REBOOT: states.POWER_ON,
}
_BOOT_STATES = (states.POWER_ON, states.POWER_OFF)


def _listed(node: NodeView, key: str) -> list[str]:
    value: Any = node.driver_info.get(key, [])
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return [str(v) for v in value] if isinstance(value, list) else []


def _act(node: NodeView, operation: str, delay_of: str | None = None) -> None:
    """Wait the configured delay, then fail if ``driver_info`` asks for it."""
    delay = get_settings().fake_delays.get(delay_of or operation, 0.0)
    if delay > 0:
        time.sleep(delay)
    if operation in _listed(node, "fake_fail"):
        reason = node.driver_info.get("fake_fail_message", "requested by driver_info")
        raise exceptions.DriverOperationFailed(operation=operation, node=node.uuid, reason=reason)


def _waits(node: NodeView, phase: str) -> bool:
    return phase in _listed(node, "fake_wait")


class _FakeValidation(BaseInterface):
    def validate(self, node: NodeView) -> None:
        if "validate" in _listed(node, "fake_fail"):
            raise exceptions.InvalidParameterValue(
                reason=node.driver_info.get("fake_fail_message", "fake validation failure")
            )


class FakePower(_FakeValidation, PowerInterface):
    name = "fake"

    def __init__(self) -> None:
        self._hardware: dict[str, str] = {}  # what each fake BMC reports
        self._manual: dict[str, str] = {}  # the last hand-made change applied, per node
        self._lock = threading.Lock()

    def get_properties(self) -> dict[str, str]:
        return {
            "fake_fail": "Operations to fail, e.g. 'power' or ['deploy', 'clean']. Optional.",
            "fake_fail_message": "Error text of injected failures. Optional.",
            "fake_wait": "Phases that wait for a callback (deploy, clean, ...). Optional.",
        }

    def get_power_state(self, node: NodeView) -> str:
        _act(node, "power")
        manual = node.driver_info.get("fake_power_state")
        with self._lock:
            if manual in _BOOT_STATES and self._manual.get(node.uuid) != manual:
                self._manual[node.uuid] = manual
                self._hardware[node.uuid] = manual
            return self._hardware.setdefault(node.uuid, node.power_state or states.POWER_OFF)

    def set_power_state(self, node: NodeView, target: str) -> str:
        _act(node, "power")
        with self._lock:
            self._hardware[node.uuid] = _POWER_RESULT[target]
            return self._hardware[node.uuid]


class FakeManagement(_FakeValidation, ManagementInterface):
    name = "fake"

    def __init__(self) -> None:
        self._boot: dict[str, BootDevice] = {}

    def get_supported_boot_devices(self, node: NodeView) -> list[str]:
        _act(node, "management")
        return list(BOOT_DEVICES)

    def set_boot_device(self, node: NodeView, device: str, persistent: bool = False) -> None:
        _act(node, "management")
        if device not in BOOT_DEVICES:
            raise exceptions.InvalidParameterValue(reason=f"unsupported boot device {device!r}")
        self._boot[node.uuid] = BootDevice(device, persistent)

    def get_boot_device(self, node: NodeView) -> BootDevice:
        _act(node, "management")
        return self._boot.get(node.uuid, BootDevice("disk", True))

    def get_sensors_data(self, node: NodeView) -> dict[str, dict[str, dict[str, Any]]]:
        """Synthetic readings that vary a little with time, like real ones."""
        _act(node, "management")
        wobble = int(time.time()) % 5
        return {
            "Temperature": {
                "CPU1 Temp": {"Sensor Reading": f"{40 + wobble} C", "Health": "OK"},
                "Inlet Temp": {"Sensor Reading": f"{22 + wobble % 2} C", "Health": "OK"},
            },
            "Fan": {"Fan1": {"Sensor Reading": f"{5200 + 40 * wobble} RPM", "Health": "OK"}},
            "Power": {"PSU1": {"Sensor Reading": f"{180 + wobble} W", "Health": "OK"}},
        }


class FakeBoot(_FakeValidation, BootInterface):
    name = "fake"

    def prepare_ramdisk(self, node: NodeView) -> None:
        _act(node, "boot")

    def clean_up_ramdisk(self, node: NodeView) -> None:
        _act(node, "boot")

    def prepare_instance(self, node: NodeView) -> None:
        _act(node, "boot")

    def clean_up_instance(self, node: NodeView) -> None:
        _act(node, "boot")


class FakeDeploy(_FakeValidation, DeployInterface):
    name = "fake"
    STEPS: ClassVar[list[Step]] = [
        Step("deploy", "erase_devices_metadata", priority=99),
        Step("deploy", "erase_devices", priority=0),
    ]

    def deploy(self, node: NodeView) -> str | None:
        _act(node, "deploy")
        return WAIT if _waits(node, "deploy") else None

    def tear_down(self, node: NodeView) -> None:
        _act(node, "deploy")

    def take_over(self, node: NodeView) -> None:
        _act(node, "boot")

    def get_clean_steps(self, node: NodeView) -> list[Step]:
        return list(self.STEPS)

    def execute_clean_step(self, node: NodeView, step: Step) -> str | None:
        _act(node, "clean")
        return WAIT if _waits(node, "clean") else None


class FakeInspect(_FakeValidation, InspectInterface):
    name = "fake"

    def inspect_hardware(self, node: NodeView) -> InspectResult | str:
        _act(node, "inspect", delay_of="management")
        if _waits(node, "inspect"):
            return WAIT
        properties = {"cpus": 8, "cpu_arch": "x86_64", "memory_mb": 16384, "local_gb": 100}
        mac = "52:54:00:" + ":".join(node.uuid.replace("-", "")[i : i + 2] for i in (0, 2, 4))
        return InspectResult(properties=properties, macs=[mac])


class FakeRescue(_FakeValidation, RescueInterface):
    name = "fake"

    def rescue(self, node: NodeView) -> str | None:
        _act(node, "rescue", delay_of="boot")
        return WAIT if _waits(node, "rescue") else None

    def unrescue(self, node: NodeView) -> None:
        _act(node, "rescue", delay_of="boot")


class FakeBios(_FakeValidation, BiosInterface):
    name = "fake"


class FakeConsole(_FakeValidation, ConsoleInterface):
    name = "fake"


class FakeRaid(_FakeValidation, RaidInterface):
    name = "fake"


class FakeVendor(_FakeValidation, VendorInterface):
    name = "fake"


class FakeFirmware(_FakeValidation, FirmwareInterface):
    name = "fake"


class FakeHardware(HardwareType):
    """Every interface type ``fake`` (the default), each with its ``no-*`` choice too."""

    name = "fake-hardware"
    supported: ClassVar[dict[str, list[type[BaseInterface]]]] = with_absent(
        {
            "power": [FakePower],
            "management": [FakeManagement],
            "boot": [FakeBoot],
            "deploy": [FakeDeploy],
            "inspect": [FakeInspect],
            "rescue": [FakeRescue],
            "bios": [FakeBios],
            "console": [FakeConsole],
            "raid": [FakeRaid],
            "vendor": [FakeVendor],
            "firmware": [FakeFirmware],
        }
    )
