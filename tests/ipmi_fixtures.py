"""Fixtures shared by the IPMI driver tests (a plugin: ``pytest_plugins`` in conftest).

Each test module that asks for ``emulator`` gets one emulator process hosting
:data:`BMC_COUNT` BMCs on loopback UDP ports; each test takes fresh BMCs (``bmcs``) so none
depends on another's leftovers.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.config import get_settings
from drivers.base import NodeView
from drivers.ipmi import IPMIHardware
from tests.emulators.ipmi import IPMIEmulator

PASSWORD = "Sup3r-s3cret-pw"
BMC_COUNT = 40


@pytest.fixture(scope="module")
def emulator() -> Iterator[IPMIEmulator]:
    with IPMIEmulator(BMC_COUNT, user="admin", password=PASSWORD) as emu:
        yield emu


_handed_out: dict[int, itertools.count[int]] = {}


@pytest.fixture
def bmcs(emulator: IPMIEmulator) -> Callable[[int], list[int]]:
    """Hands out BMC indexes of the module's emulator that no other test has used."""
    counter = _handed_out.setdefault(id(emulator), itertools.count())

    def take(count: int = 1) -> list[int]:
        taken = [next(counter) for _ in range(count)]
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
