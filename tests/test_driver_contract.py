"""The driver contract, run against every registered hardware type.

Each hardware type found through the ``ironworks.hardware.types`` entry points gets the same
checks, on a machine of its own kind: the fake type needs none, ``redfish`` runs against a
sushy-emulator and ``ipmi`` against a pyghmi BMC emulator. A new hardware type fails here
until it is given an emulated machine in :func:`machine_for`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import pytest

from app import exceptions, states
from drivers.base import (
    BOOT_DEVICES,
    HARDWARE_INTERFACES,
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
from drivers.factory import load_hardware_types
from tests.emulators import http as loopback_http
from tests.emulators.ipmi import IPMIEmulator
from tests.emulators.redfish import RedfishEmulator, default_systems

HARDWARE_TYPES = sorted(ep.name for ep in entry_points(group="ironworks.hardware.types"))
BASES: dict[str, type[BaseInterface]] = {
    "power": PowerInterface,
    "management": ManagementInterface,
    "boot": BootInterface,
    "deploy": DeployInterface,
    "inspect": InspectInterface,
    "rescue": RescueInterface,
    "bios": BiosInterface,
    "console": ConsoleInterface,
    "raid": RaidInterface,
    "vendor": VendorInterface,
    "firmware": FirmwareInterface,
}
MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


@pytest.fixture(scope="module")
def emulators() -> Iterator[dict[str, Any]]:
    with (
        RedfishEmulator(default_systems(1)) as redfish,
        IPMIEmulator(count=1) as ipmi,
        loopback_http.serving() as images,
    ):
        yield {"redfish": redfish, "ipmi": ipmi, "images": images}


def machine_for(name: str, emulators: dict[str, Any]) -> dict[str, Any]:
    """``driver_info`` of an emulated machine the hardware type ``name`` can drive."""
    if name == "fake-hardware":
        return {}
    if name == "redfish":
        emulator: RedfishEmulator = emulators["redfish"]
        return emulator.driver_info(emulator.system_ids[0])
    if name == "ipmi":
        info: dict[str, Any] = emulators["ipmi"].driver_info(0)
        return info
    raise AssertionError(f"hardware type {name!r} has no emulated machine in this test")


@pytest.fixture(params=HARDWARE_TYPES)
def hardware(request: pytest.FixtureRequest) -> HardwareType:
    return load_hardware_types([request.param])[request.param]


@pytest.fixture
def node(hardware: HardwareType, emulators: dict[str, Any]) -> NodeView:
    return NodeView(
        uuid=str(uuid.uuid4()),
        driver=hardware.name,
        driver_info=machine_for(hardware.name, emulators),
        power_state=states.POWER_OFF,
        instance_info={"boot_iso": f"{emulators['images']}/instance.iso"},
    )


def test_interfaces_are_the_abstract_bases(hardware: HardwareType) -> None:
    names = hardware.interface_names()
    assert set(names) == set(HARDWARE_INTERFACES)  # every kind, if only as no-<kind>
    for kind, iface in hardware.interfaces.items():
        assert isinstance(iface, BASES[kind]), (kind, iface)
        assert iface.name and iface.name == names[kind][0]
        properties = iface.get_properties()
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in properties.items())
    assert hardware.get_properties() == {
        k: v for iface in hardware.interfaces.values() for k, v in iface.get_properties().items()
    }


def test_validate_accepts_a_reachable_machine(hardware: HardwareType, node: NodeView) -> None:
    for iface in hardware.interfaces.values():
        iface.validate(node)


def test_validate_names_what_is_missing(hardware: HardwareType) -> None:
    bare = NodeView(uuid=str(uuid.uuid4()), driver=hardware.name)
    required = [k for k, v in hardware.get_properties().items() if "Required" in v]
    if not required:
        pytest.skip(f"{hardware.name} requires no driver_info")
    with pytest.raises(exceptions.Invalid) as caught:
        hardware.power.validate(bare)
    assert any(key in str(caught.value) for key in required)


def test_power_round_trip(hardware: HardwareType, node: NodeView) -> None:
    power = hardware.power
    assert power.set_power_state(node, states.POWER_ON) == states.POWER_ON
    assert power.get_power_state(node) == states.POWER_ON
    assert power.set_power_state(node, states.REBOOT) == states.POWER_ON
    assert power.set_power_state(node, states.POWER_OFF) == states.POWER_OFF
    assert power.get_power_state(node) == states.POWER_OFF


def test_boot_device(hardware: HardwareType, node: NodeView) -> None:
    management = hardware.management
    supported = management.get_supported_boot_devices(node)
    assert supported and set(supported) <= set(BOOT_DEVICES)
    management.set_boot_device(node, "pxe", persistent=True)
    current = management.get_boot_device(node)
    assert isinstance(current, BootDevice) and current.device == "pxe"
    with pytest.raises(exceptions.IronworksError):
        management.set_boot_device(node, "floppy")


def test_sensors(hardware: HardwareType, node: NodeView) -> None:
    data = hardware.management.get_sensors_data(node)
    assert data, f"{hardware.name} reported no sensors"
    for kind, readings in data.items():
        assert isinstance(kind, str)
        for name, reading in readings.items():
            assert isinstance(name, str) and "Sensor Reading" in reading


def test_inspect(hardware: HardwareType, node: NodeView) -> None:
    result = hardware.inspect.inspect_hardware(node)
    assert isinstance(result, InspectResult)
    assert result.properties
    assert all(MAC.match(mac) for mac in result.macs), result.macs


def test_deploy_cycle(hardware: HardwareType, node: NodeView) -> None:
    """What ``workers/deploy.py`` calls, in its order, with no error."""
    hardware.power.set_power_state(node, states.POWER_OFF)
    hardware.boot.prepare_ramdisk(node)
    assert hardware.deploy.deploy(node) is None
    hardware.boot.clean_up_ramdisk(node)
    hardware.boot.prepare_instance(node)
    assert hardware.power.set_power_state(node, states.POWER_ON) == states.POWER_ON
    hardware.power.set_power_state(node, states.POWER_OFF)
    hardware.deploy.tear_down(node)
    hardware.boot.clean_up_instance(node)
    steps = hardware.deploy.get_clean_steps(node)
    assert all(isinstance(step, Step) for step in steps)


def test_unreachable_bmc_is_a_bmc_error(hardware: HardwareType) -> None:
    if hardware.name == "fake-hardware":
        pytest.skip("the fake hardware has no BMC")
    dead = {
        "redfish": {"redfish_address": "http://127.0.0.1:9", "redfish_system_id": "/x"},
        "ipmi": {"ipmi_address": "127.0.0.1", "ipmi_port": 9},
    }[hardware.name]
    node = NodeView(uuid=str(uuid.uuid4()), driver=hardware.name, driver_info=dead)
    with pytest.raises(exceptions.BMCError) as caught:
        hardware.power.get_power_state(node)
    assert "127.0.0.1" in str(caught.value)
