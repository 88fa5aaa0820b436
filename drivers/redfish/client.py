"""Everything the Redfish interfaces share: ``driver_info``, connections, error sorting.

``driver_info`` keys (all strings unless said otherwise):

* ``redfish_address`` (required): the BMC's base URL, ``http(s)://host[:port]``; a bare
  ``host[:port]`` gets ``https://`` prepended, as Ironic does;
* ``redfish_system_id``: the system's path (``/redfish/v1/Systems/<id>``; a bare ``<id>`` is
  taken as that path); optional when the BMC has exactly one system;
* ``redfish_username`` / ``redfish_password``: optional, for a BMC without authentication;
* ``redfish_verify_ca``: a boolean (or ``true/false/yes/no/1/0``), or the path of a CA bundle
  file or directory that must exist; default true.

:func:`parse` checks all of that without talking to the BMC and never echoes the password.

:func:`run` is the only way the interfaces reach a BMC: it takes a connection from a process
wide cache and runs one operation through :func:`drivers.bmc.call` with :func:`classify`, so
timeouts are retried with backoff and every failure ends as ``BMCTimeout``, ``BMCAuthFailed``
or ``BMCProtocolError``. The cache holds one ``sushy.Sushy`` root per (address, username,
password hash, verify, timeout): interfaces are singletons used by many threads, so the cache
is guarded by a lock and never holds it while talking to the BMC (two threads that miss at
once both connect; the loser closes its connection). A connection whose credentials were
refused is dropped, so the next call authenticates again. sushy's own retries are reduced to
a single attempt and its timeouts set to ``IRONWORKS_BMC_TIMEOUT``, so a call is bounded by
about attempts x timeout plus the backoff.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests
import sushy
from sushy import auth as sushy_auth
from sushy import connector as sushy_connector
from sushy import exceptions as sushy_exc

from app import exceptions
from app.config import get_settings
from drivers import bmc
from drivers.base import NodeView

LOG = logging.getLogger(__name__)
T = TypeVar("T")

PROTOCOL = "Redfish"
SYSTEMS_PREFIX = "/redfish/v1/Systems/"
MAX_CONNECTIONS = 256

REQUIRED_PROPERTIES = {
    "redfish_address": "The BMC's URL, http(s)://host[:port], or host[:port] for https. Required.",
}
OPTIONAL_PROPERTIES = {
    "redfish_system_id": "Path of the system, e.g. /redfish/v1/Systems/<id>. Optional when "
    "the BMC has exactly one system.",
    "redfish_username": "User name of the BMC account. Optional.",
    "redfish_password": "Password of the BMC account. Optional.",
    "redfish_verify_ca": "true/false, or the path of a CA bundle to verify the BMC's TLS "
    "certificate with. Default true.",
}
COMMON_PROPERTIES = {**REQUIRED_PROPERTIES, **OPTIONAL_PROPERTIES}

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


@dataclass(frozen=True)
class DriverInfo:
    """What :func:`parse` makes of a node's ``driver_info``."""

    address: str
    system_id: str | None
    username: str | None
    password: str | None
    verify: bool | str

    def cache_key(self, timeout: float) -> tuple[Any, ...]:
        digest = hashlib.sha256((self.password or "").encode()).hexdigest()
        return (self.address, self.username, digest, self.verify, timeout)


# -- driver_info ------------------------------------------------------------------------------
def parse(node: NodeView) -> DriverInfo:
    """Check the node's ``driver_info``; raise Invalid/MissingParameterValue naming the key."""
    bmc.require(node, REQUIRED_PROPERTIES)
    info = node.driver_info
    for key in OPTIONAL_PROPERTIES:
        value = info.get(key)
        if value is not None and key != "redfish_verify_ca" and not isinstance(value, str):
            raise bmc.invalid(node, key, "must be a string")
    return DriverInfo(
        address=_address(node, info["redfish_address"]),
        system_id=_system_id(node, info.get("redfish_system_id")),
        username=info.get("redfish_username") or None,
        password=info.get("redfish_password") or None,
        verify=_verify(node, info.get("redfish_verify_ca", True)),
    )


def _address(node: NodeView, raw: Any) -> str:
    if not isinstance(raw, str):
        raise bmc.invalid(node, "redfish_address", "must be a string")
    address = raw.strip()
    if "://" not in address:
        address = f"https://{address}"
    parsed = urlparse(address)
    address = address.rstrip("/")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise bmc.invalid(node, "redfish_address", f"{raw!r} has an invalid port") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise bmc.invalid(node, "redfish_address", f"{raw!r} is not an http(s)://host[:port] URL")
    return address


def _system_id(node: NodeView, raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    system_id = str(raw).strip()
    if any(ch.isspace() for ch in system_id):
        raise bmc.invalid(node, "redfish_system_id", f"{raw!r} contains whitespace")
    return system_id if system_id.startswith("/") else SYSTEMS_PREFIX + system_id


def _verify(node: NodeView, raw: Any) -> bool | str:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        if os.path.isfile(raw) or os.path.isdir(raw):
            return raw
    raise bmc.invalid(
        node,
        "redfish_verify_ca",
        f"{raw!r} is neither a boolean nor the path of an existing CA bundle",
    )


def validate_url(node: NodeView, where: str, url: Any) -> str:
    """``url`` if it looks like an http(s) URL of an image, else InvalidParameterValue."""
    parsed = urlparse(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise exceptions.InvalidParameterValue(
            reason=f"Node {node.uuid}: {where} must be an http(s) URL, got {url!r}"
        )
    return str(url)


# -- errors ----------------------------------------------------------------------------------
def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it wraps (sushy raises without ``from``)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        hidden = current.__suppress_context__
        current = current.__cause__ or (None if hidden else current.__context__)
    return seen


def classify(exc: BaseException) -> bmc.Failure | None:
    """Sort an exception raised while talking to a Redfish BMC.

    ``timeout``: no answer or no connection (timeouts, refused, reset): retried.
    ``auth``: 401/403. ``protocol``: an answer that is not Redfish (not JSON, not HTTP, an
    unexpected status, missing attributes, a TLS failure). None: not a BMC failure.
    """
    if isinstance(exc, exceptions.IronworksError):
        return None  # our own verdict (e.g. a bad redfish_system_id), already clear
    chain = _chain(exc)
    if isinstance(exc, sushy_exc.AccessError):
        return "auth"
    if any(isinstance(e, ValueError) for e in chain):  # JSONDecodeError included
        return "protocol"
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain):
        return "protocol"
    if any(
        isinstance(e, http.client.BadStatusLine) and not isinstance(e, ConnectionError)
        for e in chain
    ):
        return "protocol"  # the peer spoke, but not HTTP (RemoteDisconnected excluded)
    if isinstance(exc, sushy_exc.InvalidParameterValueError):
        return None
    if isinstance(exc, sushy_exc.ConnectionError):
        transient = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
        return "timeout" if any(isinstance(e, transient) for e in chain) else "protocol"
    if isinstance(exc, sushy_exc.SushyError):
        return "protocol"
    if isinstance(exc, requests.exceptions.RequestException | socket.timeout | OSError):
        return "timeout"
    return None


# -- connections -----------------------------------------------------------------------------
class _NoAuth(sushy_auth.AuthBase):
    """For a BMC without authentication: send no Authorization header at all."""

    def _do_authenticate(self) -> None:
        return None

    def can_refresh_session(self) -> bool:
        return False


@dataclass
class _Connection:
    root: Any  # sushy.Sushy
    connector: Any  # sushy.connector.Connector
    auth: Any  # sushy.auth.AuthBase

    def close(self) -> None:
        try:
            self.auth.close()  # ends a Redfish session, if one was opened
        except Exception as exc:  # the BMC may be gone; nothing to retry
            LOG.debug("Ignoring %s while closing a Redfish session", type(exc).__name__)
        self.connector.close()


_connections: OrderedDict[tuple[Any, ...], _Connection] = OrderedDict()
_lock = threading.Lock()


def _connect(info: DriverInfo, timeout: float) -> _Connection:
    connector = sushy_connector.Connector(
        info.address,
        verify=info.verify,
        # One attempt per call: drivers.bmc.call owns retries and their bound.
        server_side_retries=1,
        server_side_retries_delay=0,
        default_request_timeout=timeout,
        connect_timeout=timeout,
    )
    auth: Any = (
        sushy_auth.SessionOrBasicAuth(username=info.username, password=info.password or "")
        if info.username
        else _NoAuth()
    )
    try:
        root = sushy.Sushy(info.address, auth=auth, connector=connector, verify=info.verify)
    except BaseException:
        connector.close()
        raise
    return _Connection(root=root, connector=connector, auth=auth)


def connection(info: DriverInfo) -> Any:
    """The cached ``sushy.Sushy`` root for ``info``, connecting on first use."""
    timeout = get_settings().bmc_timeout
    key = info.cache_key(timeout)
    with _lock:
        cached = _connections.get(key)
        if cached is not None:
            _connections.move_to_end(key)
            return cached.root
    fresh = _connect(info, timeout)  # network I/O: outside the lock
    evicted: list[_Connection] = []
    with _lock:
        kept = _connections.setdefault(key, fresh)
        _connections.move_to_end(key)
        while len(_connections) > MAX_CONNECTIONS:
            evicted.append(_connections.popitem(last=False)[1])
    if kept is not fresh:
        evicted.append(fresh)
    for conn in evicted:
        conn.close()
    return kept.root


def forget(info: DriverInfo) -> None:
    """Drop the cached connection of ``info`` (after refused credentials)."""
    key = info.cache_key(get_settings().bmc_timeout)
    with _lock:
        conn = _connections.pop(key, None)
    if conn is not None:
        conn.close()


def clear_connections() -> None:
    """Close and forget every cached connection (tests, shutdown)."""
    with _lock:
        conns = list(_connections.values())
        _connections.clear()
    for conn in conns:
        conn.close()


def get_system(node: NodeView, info: DriverInfo, root: Any) -> Any:
    """The node's ``sushy`` System; its id must be given when the BMC has several."""
    try:
        return root.get_system(info.system_id)
    except sushy_exc.UnknownDefaultError:
        raise bmc.invalid(
            node,
            "redfish_system_id",
            f"is required: the BMC at {info.address} does not have exactly one system",
        ) from None
    except sushy_exc.ResourceNotFoundError:
        raise bmc.invalid(
            node, "redfish_system_id", f"{info.system_id} was not found on {info.address}"
        ) from None


def run(node: NodeView, operation: str, fn: Callable[[Any], T]) -> T:
    """Run ``fn(system)`` on the node's system through :func:`drivers.bmc.call`."""
    info = parse(node)

    def attempt() -> T:
        try:
            return fn(get_system(node, info, connection(info)))
        except sushy_exc.AccessError:
            forget(info)
            raise

    return bmc.call(node, operation, info.address, PROTOCOL, attempt, classify)
