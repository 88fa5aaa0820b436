"""Fixtures shared by the Redfish driver tests (a plugin: ``pytest_plugins`` in conftest).

The emulators and the small servers that misbehave on purpose all listen on 127.0.0.1.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from app.config import get_settings
from drivers.base import NodeView
from drivers.redfish import RedfishHardware, client
from tests.emulators import http as loopback_http


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    """Image files for virtual media, non-JSON answers for the driver."""
    with loopback_http.serving() as url:
        yield url


@pytest.fixture(scope="module")
def close_connections() -> Iterator[None]:
    """Drops the driver's cached sushy connections after the module."""
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


@pytest.fixture(scope="module")
def hardware() -> RedfishHardware:
    return RedfishHardware()


def node_view(driver_info: dict[str, Any], **fields: Any) -> NodeView:
    """A node of the ``redfish`` driver, as the conductor hands it to the interfaces."""
    return NodeView(
        uuid=fields.pop("uuid", "node-under-test"),
        driver="redfish",
        driver_info=driver_info,
        **fields,
    )
