"""The ``redfish`` hardware type against a real sushy-emulator on loopback.

The interfaces are called directly (no Celery, no API). See ``tests/emulators/redfish.py`` for
what the emulator serves; ``tests/test_redfish_failures.py`` has the BMCs that fail.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from sushy import connector as sushy_connector

from app import exceptions, states
from drivers.base import BootDevice
from drivers.redfish import RedfishHardware, client
from tests.emulators.redfish import RedfishEmulator, default_systems
from tests.redfish_fixtures import node_view

PASSWORD = "Sup3r-s3cret-pa55"
pytestmark = pytest.mark.usefixtures("close_connections")


# -- servers ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def emulator() -> Iterator[RedfishEmulator]:
    with RedfishEmulator(default_systems(8)) as emu:
        yield emu


# -- validation ------------------------------------------------------------------------------
def test_hardware_type_lists_its_interfaces_and_properties(hardware: RedfishHardware) -> None:
    assert hardware.interface_names() == {
        "power": ["redfish"],
        "management": ["redfish"],
        "boot": ["redfish-virtual-media"],
        "deploy": ["ramdisk"],
        "inspect": ["redfish", "no-inspect"],
        "bios": ["no-bios"],
        "console": ["no-console"],
        "raid": ["no-raid"],
        "vendor": ["no-vendor"],
        "firmware": ["no-firmware"],
        "rescue": ["no-rescue"],
    }
    props = hardware.get_properties()
    assert "Required" in props["redfish_address"]
    assert {"redfish_system_id", "redfish_username", "redfish_password"} <= set(props)
    assert {"redfish_verify_ca", "redfish_deploy_iso"} <= set(props)


def test_missing_address_names_the_key_andnode_view(hardware: RedfishHardware) -> None:
    node = node_view({"redfish_password": PASSWORD}, uuid="node-without-address")
    with pytest.raises(exceptions.MissingParameterValue) as err:
        hardware.power.validate(node)
    assert "redfish_address" in str(err.value)
    assert "node-without-address" in str(err.value)


@pytest.mark.parametrize(
    "address", ["ftp://bmc.example", "http://", "bmc.example:99999", "https:///redfish"]
)
def test_bad_address_is_rejected_without_echoing_the_password(
    hardware: RedfishHardware, address: str
) -> None:
    node = node_view({"redfish_address": address, "redfish_password": PASSWORD})
    with pytest.raises(exceptions.InvalidParameterValue) as err:
        hardware.management.validate(node)
    assert "redfish_address" in str(err.value)
    assert PASSWORD not in str(err.value)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("bmc.example", "https://bmc.example"),
        ("10.0.0.5:8443", "https://10.0.0.5:8443"),
        ("http://10.0.0.5:8000/", "http://10.0.0.5:8000"),
    ],
)
def test_address_without_scheme_gets_https(address: str, expected: str) -> None:
    assert client.parse(node_view({"redfish_address": address})).address == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), ("no", False), ("Yes", True), ("0", False), (False, False)]
)
def test_verify_ca_booleans(raw: Any, expected: bool) -> None:
    info = client.parse(node_view({"redfish_address": "bmc", "redfish_verify_ca": raw}))
    assert info.verify is expected


def test_verify_ca_must_be_a_boolean_or_an_existing_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    info = client.parse(node_view({"redfish_address": "bmc", "redfish_verify_ca": str(bundle)}))
    assert info.verify == str(bundle)
    for bad in ("maybe", str(tmp_path / "missing.pem"), 3):
        node = node_view(
            {"redfish_address": "bmc", "redfish_verify_ca": bad, "redfish_password": PASSWORD}
        )
        with pytest.raises(exceptions.InvalidParameterValue) as err:
            client.parse(node)
        assert "redfish_verify_ca" in str(err.value)
        assert PASSWORD not in str(err.value)


def test_a_password_that_is_not_a_string_is_not_echoed() -> None:
    secret = 987654321987
    with pytest.raises(exceptions.InvalidParameterValue) as err:
        client.parse(node_view({"redfish_address": "bmc", "redfish_password": secret}))
    assert "redfish_password" in str(err.value)
    assert str(secret) not in str(err.value)


def test_iso_urls_must_be_http(hardware: RedfishHardware) -> None:
    info = {"redfish_address": "bmc", "redfish_deploy_iso": "file:///srv/deploy.iso"}
    with pytest.raises(exceptions.InvalidParameterValue, match="redfish_deploy_iso"):
        hardware.boot.validate(node_view(info))
    node = node_view({"redfish_address": "bmc"}, instance_info={"boot_iso": "nfs://srv/a.iso"})
    with pytest.raises(exceptions.InvalidParameterValue, match="boot_iso"):
        hardware.boot.validate(node)
    hardware.boot.validate(
        node_view({**info, "redfish_deploy_iso": "https://images.example/deploy.iso"})
    )


def test_validate_never_talks_to_the_bmc(hardware: RedfishHardware, silent_port: int) -> None:
    node = node_view({"redfish_address": f"http://127.0.0.1:{silent_port}"})
    started = time.monotonic()
    for iface in hardware.interfaces.values():
        iface.validate(node)
    assert time.monotonic() - started < 0.5


def test_system_id_is_required_when_the_bmc_has_several(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    with pytest.raises(exceptions.InvalidParameterValue, match="redfish_system_id"):
        hardware.power.get_power_state(node_view(emulator.driver_info()))
    unknown = emulator.driver_info(redfish_system_id="/redfish/v1/Systems/no-such-system")
    with pytest.raises(exceptions.InvalidParameterValue, match="no-such-system"):
        hardware.power.get_power_state(node_view(unknown))


# -- power -----------------------------------------------------------------------------------
def test_power_round_trips(hardware: RedfishHardware, emulator: RedfishEmulator) -> None:
    uuid = emulator.system_ids[0]
    node = node_view(emulator.driver_info(uuid))
    power = hardware.power
    emulator.press_power_button(uuid, "ForceOff")
    assert power.get_power_state(node) == states.POWER_OFF

    assert power.set_power_state(node, states.POWER_ON) == states.POWER_ON
    assert emulator.power_state(uuid) == "On"
    assert power.set_power_state(node, states.REBOOT) == states.POWER_ON
    assert power.set_power_state(node, states.SOFT_REBOOT) == states.POWER_ON
    assert power.set_power_state(node, states.SOFT_POWER_OFF) == states.POWER_OFF
    assert emulator.power_state(uuid) == "Off"
    assert power.set_power_state(node, states.POWER_OFF) == states.POWER_OFF  # already off
    assert power.set_power_state(node, states.REBOOT) == states.POWER_ON  # from off: on
    assert power.set_power_state(node, states.POWER_OFF) == states.POWER_OFF
    assert power.get_power_state(node) == states.POWER_OFF


def test_power_state_read_sees_a_change_behind_the_drivers_back(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    uuid = emulator.system_ids[0]
    node = node_view(emulator.driver_info(uuid))
    emulator.press_power_button(uuid, "ForceOff")
    assert hardware.power.get_power_state(node) == states.POWER_OFF
    emulator.press_power_button(uuid, "On")
    assert hardware.power.get_power_state(node) == states.POWER_ON
    emulator.press_power_button(uuid, "ForceOff")


def test_unknown_power_target_is_refused(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    node = node_view(emulator.driver_info(emulator.system_ids[0]))
    with pytest.raises(exceptions.InvalidPowerTarget):
        hardware.power.set_power_state(node, "sideways")


def test_power_on_from_eight_threads_at_once(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    client.clear_connections()  # the threads race to open the connection, too
    nodes = [
        node_view(emulator.driver_info(uuid), uuid=f"node-{uuid}") for uuid in emulator.system_ids
    ]
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        started = time.monotonic()
        results = list(
            pool.map(lambda n: hardware.power.set_power_state(n, states.POWER_ON), nodes)
        )
        elapsed = time.monotonic() - started
        assert results == [states.POWER_ON] * len(nodes)
        assert [emulator.power_state(uuid) for uuid in emulator.system_ids] == ["On"] * len(nodes)
        # In parallel: about one power delay, not eight of them.
        assert elapsed < 4 * emulator.power_delay + 2
        results = list(
            pool.map(lambda n: hardware.power.set_power_state(n, states.POWER_OFF), nodes)
        )
    assert results == [states.POWER_OFF] * len(nodes)


# -- management ------------------------------------------------------------------------------
def test_boot_device_set_and_get(hardware: RedfishHardware, emulator: RedfishEmulator) -> None:
    node = node_view(emulator.driver_info(emulator.system_ids[1]))
    mgmt = hardware.management
    assert mgmt.get_supported_boot_devices(node) == ["pxe", "disk", "cdrom"]
    mgmt.set_boot_device(node, "pxe", persistent=True)
    assert mgmt.get_boot_device(node) == BootDevice("pxe", True)
    mgmt.set_boot_device(node, "cdrom", persistent=True)
    assert mgmt.get_boot_device(node) == BootDevice("cdrom", True)
    mgmt.set_boot_device(node, "disk", persistent=True)
    assert emulator.system(emulator.system_ids[1])["Boot"]["BootSourceOverrideTarget"] == "Hdd"


def test_boot_device_persistence_is_sent(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    """sushy-tools always reports Continuous, so look at what the driver sends instead."""
    node = node_view(emulator.driver_info(emulator.system_ids[1]))
    original = sushy_connector.Connector.patch
    with mock.patch.object(
        sushy_connector.Connector, "patch", autospec=True, side_effect=original
    ) as spy:
        hardware.management.set_boot_device(node, "pxe", persistent=False)
        hardware.management.set_boot_device(node, "disk", persistent=True)
    sent = [call.kwargs["data"]["Boot"] for call in spy.call_args_list]
    assert [
        (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideEnabled"]) for boot in sent
    ] == [
        ("Pxe", "Once"),
        ("Hdd", "Continuous"),
    ]


@pytest.mark.parametrize("device", ["floppy", "bios"])
def test_boot_device_the_bmc_does_not_offer_is_rejected(
    hardware: RedfishHardware, emulator: RedfishEmulator, device: str
) -> None:
    uuid = emulator.system_ids[1]
    hardware.management.set_boot_device(node_view(emulator.driver_info(uuid)), "disk", True)
    with pytest.raises(exceptions.InvalidParameterValue, match=device):
        hardware.management.set_boot_device(node_view(emulator.driver_info(uuid)), device)
    assert emulator.system(uuid)["Boot"]["BootSourceOverrideTarget"] == "Hdd"


def test_sensors(hardware: RedfishHardware, emulator: RedfishEmulator) -> None:
    """The emulator's Thermal: a CPU Temp per system, the intake, two fans; no Power."""
    node = node_view(emulator.driver_info(emulator.system_ids[0]))
    data = hardware.management.get_sensors_data(node)
    temps, fans = data["Temperature"], data["Fan"]
    assert len(temps) == len(emulator.systems) + 1
    assert all(t["Sensor Reading"].endswith(" C") and t["Health"] == "OK" for t in temps.values())
    assert any(
        t["Sensor Reading"] == "41 C" and t["Physical Context"] == "CPU" for t in temps.values()
    )
    assert sorted(f["Sensor Reading"] for f in fans.values()) == ["2050 RPM", "2100 RPM"]
    assert data["Power"] == {}
    assert data["Voltage"] == {}


# -- boot (virtual media) --------------------------------------------------------------------
def test_virtual_media_for_the_ramdisk(
    hardware: RedfishHardware, emulator: RedfishEmulator, http_server: str
) -> None:
    uuid = emulator.system_ids[2]
    iso = f"{http_server}/deploy.iso"
    node = node_view(emulator.driver_info(uuid, redfish_deploy_iso=iso))
    hardware.boot.prepare_ramdisk(node)
    media = emulator.virtual_media(uuid)
    assert media["Inserted"] is True
    assert media["Image"] == iso
    assert emulator.system(uuid)["Boot"]["BootSourceOverrideTarget"] == "Cd"
    hardware.boot.prepare_ramdisk(node)  # again, e.g. after a retry: still one image
    assert emulator.virtual_media(uuid)["Image"] == iso

    hardware.boot.clean_up_ramdisk(node)
    media = emulator.virtual_media(uuid)
    assert media["Inserted"] is False
    assert media["Image"] == ""


def test_virtual_media_for_the_instance(
    hardware: RedfishHardware, emulator: RedfishEmulator, http_server: str
) -> None:
    uuid = emulator.system_ids[2]
    iso = f"{http_server}/instance.iso"
    node = node_view(emulator.driver_info(uuid), instance_info={"boot_iso": iso})
    hardware.boot.prepare_instance(node)
    assert emulator.virtual_media(uuid)["Image"] == iso
    assert hardware.management.get_boot_device(node) == BootDevice("cdrom", True)
    hardware.boot.clean_up_instance(node)
    assert emulator.virtual_media(uuid)["Inserted"] is False

    no_image = node_view(emulator.driver_info(uuid))
    hardware.boot.prepare_instance(no_image)
    assert hardware.management.get_boot_device(no_image) == BootDevice("disk", True)
    assert emulator.virtual_media(uuid)["Inserted"] is False


def test_an_image_url_that_is_not_http_is_refused_before_the_bmc(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    node = node_view(
        emulator.driver_info(emulator.system_ids[2]),
        instance_info={"image_source": "glance://1234"},
    )
    with pytest.raises(exceptions.InvalidParameterValue, match="http"):
        hardware.boot.prepare_instance(node)


# -- inspect ---------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [3, 7])
def test_inspect(hardware: RedfishHardware, emulator: RedfishEmulator, index: int) -> None:
    system = emulator.systems[index]
    result = hardware.inspect.inspect_hardware(node_view(emulator.driver_info(system.uuid)))
    assert not isinstance(result, str)
    mode = "uefi" if system.boot_mode == "UEFI" else "bios"
    assert result.properties == {
        "cpus": system.cpus,
        "cpu_arch": "x86_64",
        "memory_mb": system.memory_gb * 1024,
        "boot_mode": mode,
        "capabilities": f"boot_mode:{mode}",
        "local_gb": system.disk_gb - 1,
    }
    assert result.macs == [mac.lower() for mac in system.macs]
