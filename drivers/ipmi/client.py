"""Talking to an IPMI BMC through pyghmi: ``driver_info``, sessions, bounds and error kinds.

Every exchange goes through :func:`run`, which parses ``driver_info``, opens (or reuses) a
pyghmi session and hands a ``pyghmi.ipmi.command.Command`` to the caller's function, inside
``drivers.bmc.call`` with :func:`classify` (so timeouts are retried and credentials never).

pyghmi facts this module is built around:

* **Sessions are cached process-wide** (``Session.__new__``) by (address, user, password,
  port, Kg), and one I/O thread serves them all. Credentials are passed as *bytes*: pyghmi
  stores them encoded and compares the cache key with what it is given, so ``str``
  credentials never hit the cache, and a session that failed to log in (a wrong password)
  stays registered under the ``str`` key and is handed back, broken, to the next caller.
* **One exchange per BMC at a time**: two sessions created at once for the same BMC may be
  routed to one socket and steal each other's answers, and pyghmi's queueing of concurrent
  commands on one session loses wake-ups (below). So a lock per BMC (address, port) covers
  each exchange, login included; different BMCs are talked to concurrently. An exchange
  whose caller gave up before its turn is never started.
* **Time bounds**: pyghmi retransmits on its own schedule (0.5-1 s, then +1 s per retry,
  then one re-login) and none of it is configurable per call: it gives up on a silent BMC
  after about 5 s for a login, and after about 29 s for a command on an established session
  whose BMC went away (measured with pyghmi 1.6). So each attempt runs in a helper thread
  and the caller stops waiting after ``settings.bmc_timeout`` seconds; the abandoned
  exchange ends on pyghmi's schedule in the background, and until it does, further calls to
  that BMC time out too (they queue behind it, see above). One attempt therefore takes at
  most ``bmc_timeout`` plus, after a timeout, a probe of at most :data:`PROBE_TIMEOUT`;
  ``drivers.bmc.call`` multiplies that by ``bmc_attempts`` and adds its backoff. A BMC that
  restarts under an established session is reached again once pyghmi has re-logged in on
  its own schedule (about 20 s after the session broke, measured).
* **pyghmi's internals need three fixes** to survive many BMCs from many threads (lost
  wake-ups, a lock-order deadlock, an unguarded lazy lock): :mod:`drivers.ipmi.pyghmi_fixes`
  applies them once, before the first session.
* **A session that stops answering** (the BMC restarted and forgot it, or pyghmi lost track
  of it) is not healed by pyghmi until its own retries and re-login run out, about 20-30 s
  later; meanwhile it is handed back from the cache to every caller. So after a timed-out
  attempt :func:`forget` breaks pyghmi's sessions to that BMC (and so ends the abandoned
  exchange), and the next attempt logs in afresh: a restarted BMC is reached again within
  one ``bmc_timeout`` plus one login.
* **Garbage is silence to pyghmi**: it drops datagrams that are not RMCP. After a timeout
  :func:`drivers.ipmi.rmcp.probe` sends one sessionless request on a plain socket; if
  something answers with bytes that are not RMCP, the failure is a protocol error, not a
  timeout.

Passwords never reach a log record or a message: pyghmi's own messages do not contain them,
and ``drivers.bmc.call`` scrubs whatever it reports.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.config import get_settings
from drivers import bmc
from drivers.base import NodeView
from drivers.ipmi import pyghmi_fixes, rmcp

LOG = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PORT = 623
PROTOCOL = "IPMI"
#: IPMI 2.0 limits (user name: 16 bytes; RAKP key K_UID: 20 bytes).
MAX_USERNAME = 16
MAX_PASSWORD = 20
#: Seconds the garbage probe waits for an answer (never more than ``bmc_timeout``).
PROBE_TIMEOUT = 0.5

PROPERTIES = {
    "ipmi_address": "IP address or host name of the node's BMC. Required.",
    "ipmi_port": f"UDP port of the BMC's IPMI service (1-65535). Optional, default {DEFAULT_PORT}.",
    "ipmi_username": f"User name on the BMC (at most {MAX_USERNAME} bytes). Optional.",
    "ipmi_password": f"Password of that user (at most {MAX_PASSWORD} bytes). Optional.",
}
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")

#: Completion codes that mean "busy, ask again" (node busy, timeout, out of space).
_BUSY_CODES = frozenset({0xC0, 0xC3, 0xC4})
#: pyghmi's texts for a session that got no answer.
_SILENCE = ("timeout", "session no longer connected", "unable to transmit")
#: pyghmi's texts for refused credentials (RAKP 2 HMAC mismatch, RMCP+ status codes).
_REFUSED = (
    "incorrect password",
    "unauthorized name",
    "invalid role",
    "unauthorized role",
    "insufficient privilege",
    "wrong kg",
    "invalid username length",
    "unauthorized guid",
)


class NoAnswer(Exception):
    """The BMC did not answer within ``bmc_timeout`` seconds."""


class NotIPMI(Exception):
    """Something answered on the BMC's port, but not in RMCP/IPMI."""


@dataclass(frozen=True)
class IPMIInfo:
    """The parsed ``driver_info`` of a node (the password is left out of ``repr``)."""

    address: str
    port: int = DEFAULT_PORT
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def label(self) -> str:
        """How messages name the BMC."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def _valid_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(part) for part in name.split("."))


def _text(node: NodeView, key: str, limit: int | None = None) -> str:
    raw: Any = node.driver_info.get(key)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise bmc.invalid(node, key, f"must be a string, not {type(raw).__name__}")
    if limit is not None and len(raw.encode("utf-8")) > limit:
        raise bmc.invalid(node, key, f"is longer than {limit} bytes, the IPMI 2.0 limit")
    return raw


def parse(node: NodeView) -> IPMIInfo:
    """Check ``node.driver_info`` without talking to the BMC; never echoes the password."""
    bmc.require(node, {"ipmi_address": PROPERTIES["ipmi_address"]})
    address = node.driver_info["ipmi_address"]
    if not isinstance(address, str) or not _valid_host(address.strip()):
        raise bmc.invalid(node, "ipmi_address", f"{address!r} is not an IP address or host name")
    return IPMIInfo(
        address=address.strip(),
        port=bmc.port_number(node, "ipmi_port", DEFAULT_PORT),
        username=_text(node, "ipmi_username", MAX_USERNAME),
        password=_text(node, "ipmi_password", MAX_PASSWORD),
    )


def classify(exc: BaseException) -> bmc.Failure | None:
    """Sort what an exchange with pyghmi raised; None for anything that is not the BMC's doing
    (a bug here, a validation error), which then propagates unchanged."""
    from pyghmi import exceptions as pyghmi_exc

    if isinstance(exc, NoAnswer | OSError):  # OSError: unresolvable or unreachable address
        return "timeout"
    if isinstance(exc, NotIPMI):
        return "protocol"
    if isinstance(exc, pyghmi_exc.IpmiException):
        text = str(exc.args[0] if exc.args else "").lower()
        if any(marker in text for marker in _REFUSED):
            return "auth"
        # pyghmi reports a silent BMC as "timeout", "Session no longer connected" or no text.
        if getattr(exc, "ipmicode", 0) in _BUSY_CODES or text in ("", "none"):
            return "timeout"
        return "timeout" if text.startswith(_SILENCE) else "protocol"
    if isinstance(exc, struct.error) or (
        isinstance(exc, IndexError | KeyError | AssertionError | ValueError | TypeError)
        and _raised_in_pyghmi(exc)
    ):
        return "protocol"  # pyghmi choked on an answer it could not parse
    return None


def _raised_in_pyghmi(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and "/pyghmi/" in tb.tb_frame.f_code.co_filename.replace("\\", "/")


# -- sessions ---------------------------------------------------------------------------------
_LOCKS_GUARD = threading.Lock()
_BMC_LOCKS: dict[tuple[str, int], threading.Lock] = {}
#: The Command last made per BMC and credentials (one entry per BMC and user).
_COMMANDS: dict[tuple[str, int, str, str], Any] = {}


def _bmc_lock(info: IPMIInfo) -> threading.Lock:
    with _LOCKS_GUARD:
        pyghmi_fixes.apply()
        return _BMC_LOCKS.setdefault((info.address, info.port), threading.Lock())


def _command(command: Any, info: IPMIInfo) -> Any:
    return command.Command(
        bmc=info.address,
        userid=info.username.encode("utf-8"),
        password=info.password.encode("utf-8"),
        port=info.port,
    )


def connect(info: IPMIInfo) -> Any:
    """A ``pyghmi.ipmi.command.Command`` on the session pyghmi picks for the BMC (its cached
    one while valid, else a new login). The Command made first on a session is reused with
    it: it has already identified the BMC (Get Device ID) and read its SDR. Callers hold
    the BMC's lock."""
    from pyghmi.ipmi import command

    key = (info.address, info.port, info.username, info.password)
    try:
        fresh = _command(command, info)
    except AttributeError as exc:
        # A failed login is marked broken a moment before pyghmi records why; when another
        # waiting thread processed the refusal (pyghmi lets any waiter handle any session's
        # packets), the caller may look in between. The next login fails again, with its
        # reason.
        if "errormsg" not in str(exc):
            raise
        fresh = _command(command, info)
    known = _COMMANDS.get(key)
    if known is not None and known.ipmi_session is fresh.ipmi_session:
        return known
    _COMMANDS[key] = fresh
    return fresh


def _sessions_to(info: IPMIInfo) -> list[Any]:
    """pyghmi's live sessions to the BMC under ``info``'s credentials (logging in or in)."""
    from pyghmi.ipmi.private import session

    user, password = info.username.encode("utf-8"), info.password.encode("utf-8")
    found = [
        candidate
        for handlers in list(session.Session.bmc_handlers.values())
        for candidate in list(handlers.values())
        if getattr(candidate, "bmc", None) == info.address
        and getattr(candidate, "port", None) == info.port
        and getattr(candidate, "userid", None) == user
        and getattr(candidate, "password", None) == password
    ]
    pending = session.Session.initting_sessions.get((info.address, user, password, info.port, None))
    return found + ([pending] if pending is not None else [])


def forget(info: IPMIInfo) -> int:
    """Break pyghmi's sessions to the BMC so that the next attempt logs in afresh; returns how
    many were broken (see "A session that stops answering" above).

    ``logged`` is cleared first: pyghmi's logout would otherwise send Close Session, which
    waits behind the very command that is stuck. Breaking the session also ends the loops in
    which an abandoned exchange still waits (they check ``logged``/``logging`` each
    ``pyghmi_fixes.IO_WAIT_SLICE``), so it lets go of the BMC's lock at once."""
    _COMMANDS.pop((info.address, info.port, info.username, info.password), None)
    broken = 0
    for stale in _sessions_to(info):
        if stale.broken:
            continue
        stale.logged = 0
        stale.logging = False
        stale.onlogpayload = None
        stale._mark_broken("abandoned: no answer in time")
        broken += 1
    return broken


def _serialised(
    info: IPMIInfo, fn: Callable[[Any], T], deadline: float, abandoned: threading.Event
) -> T:
    """``fn(command)`` alone with the BMC (see "One exchange per BMC at a time" above)."""
    lock = _bmc_lock(info)
    if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise NoAnswer("no answer in time: an earlier exchange with it still waits for one")
    try:
        if abandoned.is_set():
            raise NoAnswer("the caller stopped waiting")
        return fn(connect(info))
    finally:
        lock.release()


def _within(timeout: float, fn: Callable[[threading.Event], T]) -> T:
    """``fn(abandoned)`` in a helper thread; after ``timeout`` seconds the caller stops
    waiting (:class:`NoAnswer`) and sets ``abandoned``."""
    done, abandoned = threading.Event(), threading.Event()
    outcome: list[tuple[bool, Any]] = []

    def attempt() -> None:
        try:
            outcome.append((True, fn(abandoned)))
        except BaseException as exc:
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=attempt, name="ipmi-exchange", daemon=True).start()
    if not done.wait(timeout):
        abandoned.set()
        raise NoAnswer(f"no answer within {timeout:g}s")
    ok, value = outcome[0]
    if not ok:
        raise value
    result: T = value
    return result


def _exchange(info: IPMIInfo, fn: Callable[[Any], T]) -> T:
    """One attempt: connect and run ``fn``, bounded; tell silence from garbage on timeout."""
    settings = get_settings()
    try:
        deadline = time.monotonic() + settings.bmc_timeout
        return _within(
            settings.bmc_timeout, lambda abandoned: _serialised(info, fn, deadline, abandoned)
        )
    except Exception as exc:
        if classify(exc) != "timeout":
            raise
        if forget(info):
            LOG.info(
                "IPMI BMC %s: dropped its silent session; the next attempt logs in again",
                info.label,
            )
        answer = rmcp.probe(info.address, info.port, min(PROBE_TIMEOUT, settings.bmc_timeout))
        if answer is not None and not answer.startswith(rmcp.RMCP_HEADER):
            raise NotIPMI(
                f"no IPMI answer; the port answers {len(answer)} bytes that are not RMCP"
            ) from None
        raise


def run(node: NodeView, operation: str, fn: Callable[[Any], T]) -> T:
    """``fn(command)`` against the node's BMC, with ``drivers.bmc.call``'s retry policy."""
    info = parse(node)
    LOG.debug("Node %s: %s on IPMI BMC %s", node.uuid, operation, info.label)
    return bmc.call(node, operation, info.label, PROTOCOL, lambda: _exchange(info, fn), classify)
