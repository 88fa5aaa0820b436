"""The ``redfish`` hardware type against a real sushy-emulator on loopback.

The interfaces are called directly (no Celery, no API); the emulators and the small servers
that misbehave on purpose all listen on 127.0.0.1. See ``tests/emulators/redfish.py`` for
what the emulator serves.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from sushy import connector as sushy_connector

from app import exceptions, states
from app.config import get_settings
from drivers.base import BootDevice, NodeView
from drivers.redfish import RedfishHardware, client
from tests.emulators import http as loopback_http
from tests.emulators.redfish import FakeSystem, RedfishEmulator, default_systems

PASSWORD = "Sup3r-s3cret-pa55"


# -- servers ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    """Image files for virtual media, non-JSON answers for the driver."""
    with loopback_http.serving() as url:
        yield url


@pytest.fixture(scope="module")
def emulator() -> Iterator[RedfishEmulator]:
    with RedfishEmulator(default_systems(8)) as emu:
        yield emu


@pytest.fixture(scope="module")
def auth_emulator() -> Iterator[RedfishEmulator]:
    """One system behind HTTP basic auth (so ``redfish_system_id`` may be left out)."""
    system = FakeSystem(
        uuid="9a9a9a9a-0000-4000-8000-00000000a001", name="lonely", macs=("52:54:00:cc:00:01",)
    )
    with RedfishEmulator([system], username="admin", password=PASSWORD) as emu:
        yield emu


@pytest.fixture(scope="module", autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    client.clear_connections()


@pytest.fixture
def fast_bmc(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Short BMC timeouts (0.5 s, 2 attempts, 0.1 s backoff) for the failure tests."""
    monkeypatch.setenv("IRONWORKS_BMC_TIMEOUT", "0.5")
    monkeypatch.setenv("IRONWORKS_BMC_ATTEMPTS", "2")
    monkeypatch.setenv("IRONWORKS_BMC_RETRY_INTERVAL", "0.1")
    get_settings.cache_clear()
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def _node(driver_info: dict[str, Any], **fields: Any) -> NodeView:
    return NodeView(
        uuid=fields.pop("uuid", "node-under-test"),
        driver="redfish",
        driver_info=driver_info,
        **fields,
    )


@pytest.fixture(scope="module")
def hardware() -> RedfishHardware:
    return RedfishHardware()


# -- validation ------------------------------------------------------------------------------
def test_hardware_type_lists_its_interfaces_and_properties(hardware: RedfishHardware) -> None:
    assert hardware.interface_names() == {
        "power": ["redfish"],
        "management": ["redfish"],
        "boot": ["redfish-virtual-media"],
        "deploy": ["ramdisk"],
        "inspect": ["redfish"],
    }
    props = hardware.get_properties()
    assert "Required" in props["redfish_address"]
    assert {"redfish_system_id", "redfish_username", "redfish_password"} <= set(props)
    assert {"redfish_verify_ca", "redfish_deploy_iso"} <= set(props)


def test_missing_address_names_the_key_and_node(hardware: RedfishHardware) -> None:
    node = _node({"redfish_password": PASSWORD}, uuid="node-without-address")
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
    node = _node({"redfish_address": address, "redfish_password": PASSWORD})
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
    assert client.parse(_node({"redfish_address": address})).address == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), ("no", False), ("Yes", True), ("0", False), (False, False)]
)
def test_verify_ca_booleans(raw: Any, expected: bool) -> None:
    info = client.parse(_node({"redfish_address": "bmc", "redfish_verify_ca": raw}))
    assert info.verify is expected


def test_verify_ca_must_be_a_boolean_or_an_existing_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    info = client.parse(_node({"redfish_address": "bmc", "redfish_verify_ca": str(bundle)}))
    assert info.verify == str(bundle)
    for bad in ("maybe", str(tmp_path / "missing.pem"), 3):
        node = _node(
            {"redfish_address": "bmc", "redfish_verify_ca": bad, "redfish_password": PASSWORD}
        )
        with pytest.raises(exceptions.InvalidParameterValue) as err:
            client.parse(node)
        assert "redfish_verify_ca" in str(err.value)
        assert PASSWORD not in str(err.value)


def test_a_password_that_is_not_a_string_is_not_echoed() -> None:
    secret = 987654321987
    with pytest.raises(exceptions.InvalidParameterValue) as err:
        client.parse(_node({"redfish_address": "bmc", "redfish_password": secret}))
    assert "redfish_password" in str(err.value)
    assert str(secret) not in str(err.value)


def test_iso_urls_must_be_http(hardware: RedfishHardware) -> None:
    info = {"redfish_address": "bmc", "redfish_deploy_iso": "file:///srv/deploy.iso"}
    with pytest.raises(exceptions.InvalidParameterValue, match="redfish_deploy_iso"):
        hardware.boot.validate(_node(info))
    node = _node({"redfish_address": "bmc"}, instance_info={"boot_iso": "nfs://srv/a.iso"})
    with pytest.raises(exceptions.InvalidParameterValue, match="boot_iso"):
        hardware.boot.validate(node)
    hardware.boot.validate(
        _node({**info, "redfish_deploy_iso": "https://images.example/deploy.iso"})
    )


def test_validate_never_talks_to_the_bmc(hardware: RedfishHardware, silent_port: int) -> None:
    node = _node({"redfish_address": f"http://127.0.0.1:{silent_port}"})
    started = time.monotonic()
    for iface in hardware.interfaces.values():
        iface.validate(node)
    assert time.monotonic() - started < 0.5


def test_system_id_is_required_when_the_bmc_has_several(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    with pytest.raises(exceptions.InvalidParameterValue, match="redfish_system_id"):
        hardware.power.get_power_state(_node(emulator.driver_info()))
    unknown = emulator.driver_info(redfish_system_id="/redfish/v1/Systems/no-such-system")
    with pytest.raises(exceptions.InvalidParameterValue, match="no-such-system"):
        hardware.power.get_power_state(_node(unknown))


# -- power -----------------------------------------------------------------------------------
def test_power_round_trips(hardware: RedfishHardware, emulator: RedfishEmulator) -> None:
    uuid = emulator.system_ids[0]
    node = _node(emulator.driver_info(uuid))
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
    node = _node(emulator.driver_info(uuid))
    emulator.press_power_button(uuid, "ForceOff")
    assert hardware.power.get_power_state(node) == states.POWER_OFF
    emulator.press_power_button(uuid, "On")
    assert hardware.power.get_power_state(node) == states.POWER_ON
    emulator.press_power_button(uuid, "ForceOff")


def test_unknown_power_target_is_refused(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    node = _node(emulator.driver_info(emulator.system_ids[0]))
    with pytest.raises(exceptions.InvalidPowerTarget):
        hardware.power.set_power_state(node, "sideways")


def test_power_on_from_eight_threads_at_once(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    client.clear_connections()  # the threads race to open the connection, too
    nodes = [_node(emulator.driver_info(uuid), uuid=f"node-{uuid}") for uuid in emulator.system_ids]
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
    node = _node(emulator.driver_info(emulator.system_ids[1]))
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
    node = _node(emulator.driver_info(emulator.system_ids[1]))
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
    hardware.management.set_boot_device(_node(emulator.driver_info(uuid)), "disk", True)
    with pytest.raises(exceptions.InvalidParameterValue, match=device):
        hardware.management.set_boot_device(_node(emulator.driver_info(uuid)), device)
    assert emulator.system(uuid)["Boot"]["BootSourceOverrideTarget"] == "Hdd"


def test_sensors(hardware: RedfishHardware, emulator: RedfishEmulator) -> None:
    """The emulator's Thermal: a CPU Temp per system, the intake, two fans; no Power."""
    node = _node(emulator.driver_info(emulator.system_ids[0]))
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
    node = _node(emulator.driver_info(uuid, redfish_deploy_iso=iso))
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
    node = _node(emulator.driver_info(uuid), instance_info={"boot_iso": iso})
    hardware.boot.prepare_instance(node)
    assert emulator.virtual_media(uuid)["Image"] == iso
    assert hardware.management.get_boot_device(node) == BootDevice("cdrom", True)
    hardware.boot.clean_up_instance(node)
    assert emulator.virtual_media(uuid)["Inserted"] is False

    no_image = _node(emulator.driver_info(uuid))
    hardware.boot.prepare_instance(no_image)
    assert hardware.management.get_boot_device(no_image) == BootDevice("disk", True)
    assert emulator.virtual_media(uuid)["Inserted"] is False


def test_an_image_url_that_is_not_http_is_refused_before_the_bmc(
    hardware: RedfishHardware, emulator: RedfishEmulator
) -> None:
    node = _node(
        emulator.driver_info(emulator.system_ids[2]),
        instance_info={"image_source": "glance://1234"},
    )
    with pytest.raises(exceptions.InvalidParameterValue, match="http"):
        hardware.boot.prepare_instance(node)


# -- inspect ---------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [3, 7])
def test_inspect(hardware: RedfishHardware, emulator: RedfishEmulator, index: int) -> None:
    system = emulator.systems[index]
    result = hardware.inspect.inspect_hardware(_node(emulator.driver_info(system.uuid)))
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


# -- failures --------------------------------------------------------------------------------
def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)


def test_credentials(
    hardware: RedfishHardware, auth_emulator: RedfishEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = _node(auth_emulator.driver_info())  # one system: no redfish_system_id needed
    assert hardware.power.get_power_state(good) == states.POWER_OFF

    wrong = _node(auth_emulator.driver_info(redfish_password=PASSWORD + "-wrong"))
    started = time.monotonic()
    with pytest.raises(exceptions.BMCAuthFailed) as err:
        hardware.power.get_power_state(wrong)
    assert time.monotonic() - started < 2
    assert PASSWORD not in str(err.value)
    assert auth_emulator.url in str(err.value)
    assert "retrying" not in caplog.text  # refused credentials are not retried
    assert PASSWORD not in _all_log_text(caplog)

    anonymous = _node({"redfish_address": auth_emulator.url})
    with pytest.raises(exceptions.BMCAuthFailed):
        hardware.power.get_power_state(anonymous)
    assert hardware.power.get_power_state(good) == states.POWER_OFF


def test_nothing_listening_is_a_timeout(
    hardware: RedfishHardware, fast_bmc: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    node = _node({"redfish_address": f"http://127.0.0.1:{port}", "redfish_password": PASSWORD})
    started = time.monotonic()
    with pytest.raises(exceptions.BMCTimeout) as err:
        hardware.power.get_power_state(node)
    assert time.monotonic() - started < 3
    assert "retrying" in caplog.text  # connection refused is retried
    assert PASSWORD not in str(err.value)


def test_a_bmc_that_never_answers_is_a_bounded_timeout(
    hardware: RedfishHardware, fast_bmc: Any, silent_port: int
) -> None:
    node = _node({"redfish_address": f"http://127.0.0.1:{silent_port}"})
    started = time.monotonic()
    with pytest.raises(exceptions.BMCTimeout) as err:
        hardware.power.get_power_state(node)
    elapsed = time.monotonic() - started
    bound = fast_bmc.bmc_attempts * fast_bmc.bmc_timeout + fast_bmc.bmc_retry_interval
    assert bound * 0.9 <= elapsed < bound + 1.5
    assert "did not answer" in str(err.value)


def test_garbage_is_a_protocol_error(
    hardware: RedfishHardware, fast_bmc: Any, http_server: str
) -> None:
    node = _node({"redfish_address": http_server})
    started = time.monotonic()
    with pytest.raises(exceptions.BMCProtocolError, match="Redfish"):
        hardware.power.get_power_state(node)
    assert time.monotonic() - started < 1  # not retried


def test_a_peer_that_does_not_speak_http_is_a_protocol_error(
    hardware: RedfishHardware, fast_bmc: Any
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)

        def babble() -> None:
            for _ in range(4):
                try:
                    conn, _addr = server.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        thread = threading.Thread(target=babble, daemon=True)
        thread.start()
        node = _node({"redfish_address": f"http://127.0.0.1:{server.getsockname()[1]}"})
        with pytest.raises(exceptions.BMCProtocolError):
            hardware.power.get_power_state(node)
        server.shutdown(socket.SHUT_RDWR)
    thread.join(timeout=5)
