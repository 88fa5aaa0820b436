"""The ``ipmi`` hardware type against real IPMI 2.0 BMCs (``tests/emulators/ipmi_bmc.py``).

The interfaces are called directly, as the conductor calls them: no Celery, no API. One
emulator process hosts every BMC of this module on its own loopback UDP port; each test
takes fresh BMCs so none depends on another's leftovers.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app import exceptions, states
from app.config import get_settings
from drivers.base import BOOT_DEVICES, BootDevice, InspectResult, NodeView
from drivers.factory import load_hardware_types
from drivers.ipmi import IPMIHardware, client
from tests.emulators import ipmi, ipmi_bmc
from tests.emulators.ipmi import IPMIEmulator

PASSWORD = "Sup3r-s3cret-pw"
BMC_COUNT = 40
CONCURRENT_BMCS = 10


@pytest.fixture(scope="module")
def emulator() -> Iterator[IPMIEmulator]:
    with IPMIEmulator(BMC_COUNT, user="admin", password=PASSWORD) as emu:
        yield emu


_next_bmc = itertools.count()


@pytest.fixture
def bmcs(emulator: IPMIEmulator) -> Callable[[int], list[int]]:
    """Hands out BMC indexes no other test has used."""

    def take(count: int = 1) -> list[int]:
        taken = [next(_next_bmc) for _ in range(count)]
        assert taken[-1] < BMC_COUNT, "raise BMC_COUNT"
        return taken

    return take


@pytest.fixture
def hw() -> IPMIHardware:
    return IPMIHardware()


def make_node(driver_info: dict[str, Any], **fields: Any) -> NodeView:
    return NodeView(uuid=str(uuid.uuid4()), driver="ipmi", driver_info=driver_info, **fields)


@pytest.fixture
def node(emulator: IPMIEmulator, bmcs: Callable[[int], list[int]]) -> NodeView:
    return make_node(emulator.driver_info(bmcs(1)[0]))


@pytest.fixture
def bmc_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Sets ``IRONWORKS_BMC_*`` for one test; the cached settings follow, then are restored."""

    def configure(**values: float) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"IRONWORKS_BMC_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()  # monkeypatch restores the environment after this


def index_of(node: NodeView, emulator: IPMIEmulator) -> int:
    return emulator.ports.index(node.driver_info["ipmi_port"])


# -- the hardware type and validation ---------------------------------------------------------
def test_hardware_type_is_a_registered_plugin() -> None:
    hw = load_hardware_types(["ipmi"])["ipmi"]
    assert isinstance(hw, IPMIHardware)
    assert hw.interface_names() == {
        "power": ["ipmi"],
        "management": ["ipmi"],
        "boot": ["pxe"],
        "deploy": ["ramdisk"],
        "inspect": ["ipmi"],
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


# -- failures ---------------------------------------------------------------------------------
@pytest.fixture
def garbage_server() -> Iterator[int]:
    """A UDP port on loopback that answers every datagram with random bytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                _, peer = sock.recvfrom(2048)
            except TimeoutError:
                continue
            sock.sendto(os.urandom(48), peer)

    thread = threading.Thread(target=serve, name="garbage-bmc", daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join()
    sock.close()


def _retries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "drivers.bmc" and "retrying" in r.message]


def test_silent_bmc_times_out_in_bounded_time(
    hw: IPMIHardware, bmc_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bmc_settings(timeout=1, attempts=2, retry_interval=0.1)
    port = ipmi.free_udp_ports(1)[0]  # nothing listens there
    node = make_node({"ipmi_address": "127.0.0.1", "ipmi_port": port, "ipmi_password": PASSWORD})
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG), pytest.raises(exceptions.BMCTimeout) as caught:
        hw.power.get_power_state(node)
    elapsed = time.monotonic() - started
    # two attempts of at most bmc_timeout + the probe, one backoff in between
    assert elapsed < 2 * (1 + client.PROBE_TIMEOUT) + 0.1 + 1.0, elapsed
    assert elapsed >= 1.0
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and node.uuid in message
    assert "2 attempts" in message
    assert len(_retries(caplog)) == 1
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)


def test_wrong_password_fails_fast_without_retry_or_leak(
    hw: IPMIHardware,
    emulator: IPMIEmulator,
    node: NodeView,
    bmc_settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bmc_settings(timeout=3, attempts=3, retry_interval=0.1)
    wrong = "Wr0ng-passw0rd"
    bad = make_node(emulator.driver_info(index_of(node, emulator), ipmi_password=wrong))
    for _ in range(2):  # twice: a failed login must not be handed back from pyghmi's cache
        started = time.monotonic()
        with caplog.at_level(logging.DEBUG), pytest.raises(exceptions.BMCAuthFailed) as caught:
            hw.power.set_power_state(bad, states.POWER_ON)
        # One login, refused: normally well under a second. Rarely (about 1 run in 10)
        # pyghmi reports that refusal only after its login timed out once, and the timeout
        # is retried; the answer is still BMCAuthFailed, within one timeout + one retry.
        assert time.monotonic() - started < 3 + client.PROBE_TIMEOUT + 1.5
        text = f"{caught.value} {caught.value.kwargs!r}"
        assert wrong not in text and PASSWORD not in text
        assert "refused the credentials" in str(caught.value)
    assert len(_retries(caplog)) <= 1  # see above: a refusal itself is never retried
    for record in caplog.records:
        assert wrong not in record.getMessage() and PASSWORD not in record.getMessage()
    # a good call after the bad ones still works, on the same BMC
    assert hw.power.set_power_state(node, states.POWER_ON) == states.POWER_ON
    assert hw.power.get_power_state(node) == states.POWER_ON
    # ...and a bad one after a good one still fails
    with pytest.raises(exceptions.BMCAuthFailed):
        hw.power.get_power_state(bad)


def test_unknown_user_is_refused(hw: IPMIHardware, emulator: IPMIEmulator, bmcs: Any) -> None:
    node = make_node(emulator.driver_info(bmcs(1)[0], ipmi_username="intruder"))
    with pytest.raises(exceptions.BMCAuthFailed):
        hw.management.get_boot_device(node)


def test_a_restarted_bmc_is_reached_again(hw: IPMIHardware, bmc_settings: Any) -> None:
    """A BMC that restarts forgets the driver's session; pyghmi alone would keep handing that
    session back for 20-30 s. Calls meanwhile time out in bounded time, and once the BMC is
    back the driver drops the dead session after one timed-out attempt and logs in again."""
    with IPMIEmulator(1, password=PASSWORD) as first:
        node = make_node(first.driver_info())
        assert hw.power.set_power_state(node, states.POWER_ON) == states.POWER_ON
    bmc_settings(timeout=1, attempts=1)
    started = time.monotonic()
    with pytest.raises(exceptions.BMCTimeout):
        hw.power.get_power_state(node)
    assert time.monotonic() - started < 1 + client.PROBE_TIMEOUT + 0.5
    bmc_settings(timeout=2, attempts=3, retry_interval=0.1)
    with IPMIEmulator(password=PASSWORD, ports=first.ports) as second:
        assert hw.power.get_power_state(node) == states.POWER_OFF  # a new machine: off
        assert hw.power.set_power_state(node, states.POWER_ON) == states.POWER_ON
    # a quick restart between two calls: the driver's next call meets its session dead
    with IPMIEmulator(password=PASSWORD, ports=second.ports):
        started = time.monotonic()
        assert hw.power.get_power_state(node) == states.POWER_OFF
        elapsed = time.monotonic() - started
        print(f"\nIPMI BMC restart: reached again after {elapsed:.1f} s")
        assert elapsed < 2 + client.PROBE_TIMEOUT + 1.5  # one timed-out attempt, one login
        assert hw.power.get_power_state(node) == states.POWER_OFF  # and stays reachable


def test_garbage_answers_are_a_protocol_error(
    hw: IPMIHardware, garbage_server: int, bmc_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bmc_settings(timeout=1, attempts=3, retry_interval=0.1)
    node = make_node({"ipmi_address": "127.0.0.1", "ipmi_port": garbage_server})
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), pytest.raises(exceptions.BMCProtocolError) as caught:
        hw.power.get_power_state(node)
    assert time.monotonic() - started < 1 + client.PROBE_TIMEOUT + 1.0
    assert "not valid IPMI" in str(caught.value)
    assert "not RMCP" in str(caught.value)
    assert _retries(caplog) == []  # garbage is not retried


# -- concurrency ------------------------------------------------------------------------------
def test_many_bmcs_at_once(hw: IPMIHardware, emulator: IPMIEmulator, bmcs: Any) -> None:
    nodes = [make_node(emulator.driver_info(index)) for index in bmcs(CONCURRENT_BMCS)]
    barrier = threading.Barrier(CONCURRENT_BMCS)

    def drive(node: NodeView) -> tuple[str, float]:
        barrier.wait()
        assert hw.power.set_power_state(node, states.POWER_ON) == states.POWER_ON
        hw.management.set_boot_device(node, "pxe", persistent=True)
        assert hw.power.set_power_state(node, states.REBOOT) == states.POWER_ON
        started = time.perf_counter()
        state = hw.power.get_power_state(node)
        return state, time.perf_counter() - started

    with ThreadPoolExecutor(CONCURRENT_BMCS) as pool:
        results = list(pool.map(drive, nodes))
    assert [state for state, _ in results] == [states.POWER_ON] * CONCURRENT_BMCS
    slowest = max(elapsed for _, elapsed in results)
    print(f"\n{CONCURRENT_BMCS} BMCs at once: slowest power-state read {slowest * 1000:.1f} ms")
    for node in nodes:
        assert hw.management.get_boot_device(node) == BootDevice("pxe", True)

    # the same BMC from many threads at once, including its first login
    shared = make_node(emulator.driver_info(bmcs(1)[0]))
    with ThreadPoolExecutor(CONCURRENT_BMCS) as pool:
        reads = list(pool.map(lambda _: hw.power.get_power_state(shared), range(30)))
    assert reads == [states.POWER_OFF] * 30


def test_classify_sorts_pyghmi_errors() -> None:
    from pyghmi import exceptions as pyghmi_exc

    cases: dict[BaseException, str | None] = {
        pyghmi_exc.IpmiException(None): "timeout",
        pyghmi_exc.IpmiException("timeout", 0xFFFF): "timeout",
        pyghmi_exc.IpmiException("Session no longer connected"): "timeout",
        pyghmi_exc.IpmiException("Node busy", 0xC0): "timeout",
        pyghmi_exc.IpmiException("Incorrect password provided"): "auth",
        pyghmi_exc.IpmiException("Unauthorized name in RAKP2"): "auth",
        pyghmi_exc.IpmiException("Invalid command", 0xC1): "protocol",
        pyghmi_exc.BmcErrorException("Incorrect SDR record id from BMC"): "protocol",
        client.NoAnswer("no answer"): "timeout",
        client.NotIPMI("garbage"): "protocol",
        socket.gaierror("Name or service not known"): "timeout",
        ValueError("a bug of ours"): None,
        exceptions.InvalidParameterValue(reason="x"): None,
    }
    assert {exc: client.classify(exc) for exc in cases} == cases
