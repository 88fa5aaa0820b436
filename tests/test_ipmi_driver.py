"""The ``ipmi`` hardware type against real IPMI 2.0 BMCs (``tests/emulators/ipmi_bmc.py``).

The interfaces are called directly, as the conductor calls them: no Celery, no API. The
fixtures (one emulator process per module, fresh BMCs per test) are in
``tests/ipmi_fixtures.py``; ``tests/test_ipmi_failures.py`` has the BMCs that fail.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from app import exceptions, states
from drivers.base import BOOT_DEVICES, BootDevice, InspectResult, NodeView
from drivers.factory import load_hardware_types
from drivers.ipmi import IPMIHardware, client
from tests.emulators import ipmi_bmc
from tests.emulators.ipmi import IPMIEmulator
from tests.ipmi_fixtures import PASSWORD, index_of, make_node


# -- the hardware type and validation ---------------------------------------------------------
def test_hardware_type_is_a_registered_plugin() -> None:
    hw = load_hardware_types(["ipmi"])["ipmi"]
    assert isinstance(hw, IPMIHardware)
    assert hw.interface_names() == {
        "power": ["ipmi"],
        "management": ["ipmi"],
        "boot": ["pxe"],
        "deploy": ["ramdisk"],
        "inspect": ["ipmi", "no-inspect"],
        "bios": ["no-bios"],
        "console": ["no-console"],
        "raid": ["no-raid"],
        "vendor": ["no-vendor"],
        "firmware": ["no-firmware"],
        "rescue": ["no-rescue"],
    }
    assert set(hw.get_properties()) == {
        "ipmi_address",
        "ipmi_port",
        "ipmi_username",
        "ipmi_password",
    }
    assert "Required" in hw.get_properties()["ipmi_address"]


@pytest.mark.parametrize(
    "info",
    [
        {"ipmi_address": "127.0.0.1"},
        {"ipmi_address": "::1", "ipmi_port": "6230"},
        {"ipmi_address": "bmc-7.rack2.example.com.", "ipmi_port": 1, "ipmi_username": "u"},
        {"ipmi_address": "bmc", "ipmi_port": 65535, "ipmi_password": "p" * 20},
    ],
)
def test_validate_accepts(hw: IPMIHardware, info: dict[str, Any]) -> None:
    node = make_node(info)
    started = time.monotonic()
    for kind in ("power", "management", "boot", "inspect"):
        hw.interfaces[kind].validate(node)  # nothing listens there: validation never calls
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize(
    ("info", "error", "key", "text"),
    [
        ({}, exceptions.MissingParameterValue, "ipmi_address", "Required"),
        ({"ipmi_address": ""}, exceptions.MissingParameterValue, "ipmi_address", "Required"),
        ({"ipmi_address": "no such host!"}, exceptions.InvalidParameterValue, "ipmi_address", ""),
        ({"ipmi_address": 10}, exceptions.InvalidParameterValue, "ipmi_address", "10"),
        ({"ipmi_address": "b", "ipmi_port": "x"}, exceptions.InvalidParameterValue, "port", "x"),
        ({"ipmi_address": "b", "ipmi_port": 0}, exceptions.InvalidParameterValue, "port", "65535"),
        ({"ipmi_address": "b", "ipmi_port": 65536}, exceptions.InvalidParameterValue, "port", ""),
        (
            {"ipmi_address": "b", "ipmi_username": 7},
            exceptions.InvalidParameterValue,
            "user",
            "int",
        ),
        (
            {"ipmi_address": "b", "ipmi_username": "u" * 17},
            exceptions.InvalidParameterValue,
            "",
            "16",
        ),
    ],
)
def test_validate_names_the_key_and_node(
    hw: IPMIHardware, info: dict[str, Any], error: type[Exception], key: str, text: str
) -> None:
    node = make_node(info)
    with pytest.raises(error) as caught:
        hw.power.validate(node)
    message = str(caught.value)
    assert node.uuid in message
    assert key in message
    assert text in message


@pytest.mark.parametrize("password", [12345678, "Tooooo-long-password-x"])
def test_validate_never_echoes_the_password(hw: IPMIHardware, password: Any) -> None:
    node = make_node({"ipmi_address": "bmc", "ipmi_password": password})
    with pytest.raises(exceptions.InvalidParameterValue) as caught:
        hw.management.validate(node)
    assert "ipmi_password" in str(caught.value)
    assert str(password) not in str(caught.value)
    assert str(password) not in repr(caught.value.kwargs)
    assert PASSWORD not in repr(client.IPMIInfo("bmc", password=PASSWORD))


# -- power ------------------------------------------------------------------------------------
def test_power_round_trips(hw: IPMIHardware, node: NodeView) -> None:
    power = hw.power
    assert power.get_power_state(node) == states.POWER_OFF
    assert power.set_power_state(node, states.POWER_ON) == states.POWER_ON
    assert power.get_power_state(node) == states.POWER_ON
    assert power.set_power_state(node, states.REBOOT) == states.POWER_ON
    assert power.set_power_state(node, states.SOFT_POWER_OFF) == states.POWER_OFF
    assert power.get_power_state(node) == states.POWER_OFF
    assert power.set_power_state(node, states.SOFT_REBOOT) == states.POWER_ON
    assert power.get_power_state(node) == states.POWER_ON
    assert power.set_power_state(node, states.POWER_OFF) == states.POWER_OFF
    assert power.set_power_state(node, states.POWER_OFF) == states.POWER_OFF  # idempotent
    assert power.get_power_state(node) == states.POWER_OFF


def test_power_state_changed_behind_the_drivers_back(
    hw: IPMIHardware, node: NodeView, emulator: IPMIEmulator
) -> None:
    assert hw.power.get_power_state(node) == states.POWER_OFF
    emulator.press_power_button(index_of(node, emulator), "on")
    assert hw.power.get_power_state(node) == states.POWER_ON
    emulator.press_power_button(index_of(node, emulator), "off")
    assert hw.power.get_power_state(node) == states.POWER_OFF


def test_invalid_power_target(hw: IPMIHardware, node: NodeView) -> None:
    with pytest.raises(exceptions.InvalidPowerTarget) as caught:
        hw.power.set_power_state(node, "sideways")
    assert "sideways" in str(caught.value)
    assert hw.power.get_power_state(node) == states.POWER_OFF


def test_power_state_read_time(hw: IPMIHardware, node: NodeView) -> None:
    started = time.perf_counter()
    hw.power.get_power_state(node)
    first = time.perf_counter() - started
    reads = 20
    started = time.perf_counter()
    for _ in range(reads):
        assert hw.power.get_power_state(node) == states.POWER_OFF
    each = (time.perf_counter() - started) / reads
    print(
        f"\nIPMI power-state read: first (login) {first * 1000:.1f} ms, then {each * 1000:.1f} ms"
    )
    assert each < 0.5


# -- management and boot ----------------------------------------------------------------------
def test_boot_device_with_persistence(hw: IPMIHardware, node: NodeView) -> None:
    management = hw.management
    assert management.get_supported_boot_devices(node) == list(BOOT_DEVICES)
    assert management.get_boot_device(node) == BootDevice(None, None)  # no override yet
    for device in BOOT_DEVICES:
        for persistent in (False, True):
            management.set_boot_device(node, device, persistent=persistent)
            assert management.get_boot_device(node) == BootDevice(device, persistent)
    assert management.get_boot_device(node).as_dict() == {
        "boot_device": "bios",
        "persistent": True,
    }


def test_unsupported_boot_device(hw: IPMIHardware, node: NodeView) -> None:
    hw.management.set_boot_device(node, "disk", persistent=True)
    with pytest.raises(exceptions.InvalidParameterValue) as caught:
        hw.management.set_boot_device(node, "floppy")
    assert "floppy" in str(caught.value)
    assert hw.management.get_boot_device(node) == BootDevice("disk", True)


def test_pxe_boot_interface(hw: IPMIHardware, emulator: IPMIEmulator, bmcs: Any) -> None:
    plain = make_node(emulator.driver_info(bmcs(1)[0]))
    ramdisk = make_node(
        emulator.driver_info(bmcs(1)[0]), instance_info={"boot_iso": "http://images/live.iso"}
    )
    for node in (plain, ramdisk):
        hw.boot.validate(node)
        hw.boot.prepare_ramdisk(node)
        assert hw.management.get_boot_device(node) == BootDevice("pxe", False)
        hw.boot.clean_up_ramdisk(node)
        assert hw.management.get_boot_device(node) == BootDevice("pxe", False)
    hw.boot.prepare_instance(plain)
    assert hw.management.get_boot_device(plain) == BootDevice("disk", True)
    hw.boot.prepare_instance(ramdisk)  # a ramdisk instance boots over the network
    assert hw.management.get_boot_device(ramdisk) == BootDevice("pxe", True)
    hw.boot.clean_up_instance(ramdisk)
    assert hw.management.get_boot_device(ramdisk) == BootDevice("disk", True)


def test_ramdisk_deploy_sequence(hw: IPMIHardware, emulator: IPMIEmulator, bmcs: Any) -> None:
    """The steps ``workers.deploy.deploy`` runs, in its order."""
    node = make_node(
        emulator.driver_info(bmcs(1)[0]), instance_info={"image_source": "http://images/x.iso"}
    )
    emulator.press_power_button(index_of(node, emulator), "on")
    hw.power.set_power_state(node, states.POWER_OFF)
    hw.boot.prepare_ramdisk(node)
    assert hw.deploy.deploy(node) is None
    hw.boot.clean_up_ramdisk(node)
    hw.boot.prepare_instance(node)
    hw.power.set_power_state(node, states.POWER_ON)
    assert hw.power.get_power_state(node) == states.POWER_ON
    assert hw.management.get_boot_device(node) == BootDevice("pxe", True)
    hw.power.set_power_state(node, states.POWER_OFF)  # tear down
    hw.deploy.tear_down(node)
    hw.boot.clean_up_instance(node)
    assert hw.management.get_boot_device(node) == BootDevice("disk", True)


def test_sensors_data(hw: IPMIHardware, node: NodeView) -> None:
    data = hw.management.get_sensors_data(node)
    assert set(data) == {"Temperature", "Fan", "Voltage"}
    assert data["Temperature"]["CPU1 Temp"] == {
        "Sensor ID": "CPU1 Temp",
        "Sensor Reading": "40 C",
        "Units": "C",
        "Health": "OK",
        "State": "ok",
    }
    assert data["Fan"]["Fan1"]["Sensor Reading"] == "5200 RPM"
    assert data["Voltage"]["12V"]["Sensor Reading"] == "12.1 V"
    assert hw.management.get_sensors_data(node) == data  # the SDR cache gives the same answer


# -- inspection -------------------------------------------------------------------------------
def test_inspect_records_what_ipmi_knows(hw: IPMIHardware, node: NodeView) -> None:
    result = hw.inspect.inspect_hardware(node)
    assert isinstance(result, InspectResult)
    assert result.macs == []
    props = result.properties
    assert props["bmc_manufacturer_id"] == ipmi_bmc.MANUFACTURER_ID
    assert props["bmc_product_id"] == ipmi_bmc.PRODUCT_ID
    assert props["bmc_firmware_version"] == "2.17"
    assert props["ipmi_version"] == "2.0"
    assert uuid.UUID(props["system_uuid"])
    assert "boot_mode" not in props  # no valid boot flags yet: the BMC does not say
    hw.management.set_boot_device(node, "disk", persistent=True)
    again = hw.inspect.inspect_hardware(node)
    assert isinstance(again, InspectResult)
    assert again.properties["boot_mode"] == "bios"
    assert again.properties["system_uuid"] == props["system_uuid"]
