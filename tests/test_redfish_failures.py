"""The ``redfish`` hardware type against BMCs that fail: refused credentials, silence,
garbage, and machines slower than the power-state change timeout."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app import exceptions, states
from app.config import get_settings
from drivers.redfish import RedfishHardware
from tests.emulators.redfish import FakeSystem, RedfishEmulator
from tests.redfish_fixtures import node_view

PASSWORD = "Sup3r-s3cret-pa55"
pytestmark = pytest.mark.usefixtures("close_connections")


@pytest.fixture(scope="module")
def auth_emulator() -> Iterator[RedfishEmulator]:
    """One system behind HTTP basic auth (so ``redfish_system_id`` may be left out)."""
    system = FakeSystem(
        uuid="9a9a9a9a-0000-4000-8000-00000000a001", name="lonely", macs=("52:54:00:cc:00:01",)
    )
    with RedfishEmulator([system], username="admin", password=PASSWORD) as emu:
        yield emu


def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)


def test_credentials(
    hardware: RedfishHardware, auth_emulator: RedfishEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = node_view(auth_emulator.driver_info())  # one system: no redfish_system_id needed
    assert hardware.power.get_power_state(good) == states.POWER_OFF

    wrong = node_view(auth_emulator.driver_info(redfish_password=PASSWORD + "-wrong"))
    started = time.monotonic()
    with pytest.raises(exceptions.BMCAuthFailed) as err:
        hardware.power.get_power_state(wrong)
    assert time.monotonic() - started < 2
    assert PASSWORD not in str(err.value)
    assert auth_emulator.url in str(err.value)
    assert "retrying" not in caplog.text  # refused credentials are not retried
    assert PASSWORD not in _all_log_text(caplog)

    anonymous = node_view({"redfish_address": auth_emulator.url})
    with pytest.raises(exceptions.BMCAuthFailed):
        hardware.power.get_power_state(anonymous)
    assert hardware.power.get_power_state(good) == states.POWER_OFF


def test_nothing_listening_is_a_timeout(
    hardware: RedfishHardware, fast_bmc: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    node = node_view({"redfish_address": f"http://127.0.0.1:{port}", "redfish_password": PASSWORD})
    started = time.monotonic()
    with pytest.raises(exceptions.BMCTimeout) as err:
        hardware.power.get_power_state(node)
    assert time.monotonic() - started < 3
    assert "retrying" in caplog.text  # connection refused is retried
    assert PASSWORD not in str(err.value)


def test_a_bmc_that_never_answers_is_a_bounded_timeout(
    hardware: RedfishHardware, fast_bmc: Any, silent_port: int
) -> None:
    node = node_view({"redfish_address": f"http://127.0.0.1:{silent_port}"})
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
    node = node_view({"redfish_address": http_server})
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
        node = node_view({"redfish_address": f"http://127.0.0.1:{server.getsockname()[1]}"})
        with pytest.raises(exceptions.BMCProtocolError):
            hardware.power.get_power_state(node)
        server.shutdown(socket.SHUT_RDWR)
    thread.join(timeout=5)


def test_a_machine_slower_than_the_power_timeout_fails_the_change(
    hardware: RedfishHardware, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait for a new power state has its own timeout, not the BMC's: a machine that
    takes 2 s to change, behind 0.5 s BMC exchanges, powers on under a 10 s power timeout,
    and a power off under a 1 s one fails naming the state it did not reach."""
    slow = FakeSystem(
        uuid="9a9a9a9a-0000-4000-8000-00000000a002", name="slow", macs=("52:54:00:cc:00:02",)
    )
    monkeypatch.setenv("IRONWORKS_BMC_TIMEOUT", "0.5")
    try:
        with RedfishEmulator([slow], power_delay=2.0) as emulator:
            node = node_view(emulator.driver_info())
            monkeypatch.setenv("IRONWORKS_POWER_STATE_CHANGE_TIMEOUT", "10")
            get_settings.cache_clear()
            started = time.monotonic()
            assert hardware.power.set_power_state(node, states.POWER_ON) == states.POWER_ON
            assert time.monotonic() - started >= 1.5  # far past one 0.5 s exchange

            monkeypatch.setenv("IRONWORKS_POWER_STATE_CHANGE_TIMEOUT", "1")
            get_settings.cache_clear()
            started = time.monotonic()
            with pytest.raises(exceptions.DriverOperationFailed) as err:
                hardware.power.set_power_state(node, states.POWER_OFF)
            assert time.monotonic() - started < 1 + 1.5
            assert "did not reach power off within 1s" in str(err.value)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
