"""The ``ipmi`` hardware type against BMCs that fail (silent, refusing, restarting, answering
garbage) and against many BMCs at once."""

from __future__ import annotations

import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app import exceptions, states
from drivers.base import BootDevice, NodeView
from drivers.ipmi import IPMIHardware, client, pyghmi_fixes
from tests.emulators import ipmi
from tests.emulators.ipmi import IPMIEmulator
from tests.ipmi_fixtures import PASSWORD, index_of, make_node

CONCURRENT_BMCS = 10


# -- failures ---------------------------------------------------------------------------------
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


def _taken_while_held(module: Any, held_name: str, other_name: str) -> bool:
    """Whether this thread can take lock ``other_name`` while another holds ``held_name``."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with getattr(module, held_name):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(5)
    other = getattr(module, other_name)
    took = bool(other.acquire(timeout=0.2))
    if took:
        other.release()
    release.set()
    holder.join(5)
    return took


def test_pyghmi_bookkeeping_locks_leave_no_order_to_invert() -> None:
    """pyghmi takes WAITING_SESSIONS then KEEPALIVE_SESSIONS when a timed-out session logs
    in again from ``wait_for_rsp``, and KEEPALIVE_SESSIONS then WAITING_SESSIONS when it
    sends; two threads doing both at once deadlocked every IPMI call of the process. After
    the driver's fixes, while one thread holds either, no other thread can take the other,
    so neither order can meet its inverse."""
    from pyghmi.ipmi.private import session

    pyghmi_fixes.apply()
    assert not _taken_while_held(session, "WAITING_SESSIONS", "KEEPALIVE_SESSIONS")
    assert not _taken_while_held(session, "KEEPALIVE_SESSIONS", "WAITING_SESSIONS")
