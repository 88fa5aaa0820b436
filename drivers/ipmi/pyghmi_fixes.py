"""Three fixes to pyghmi 1.x internals, applied once per process before the first session.

pyghmi serves every session of a process from one I/O thread and keeps its bookkeeping in
module globals. Driven from many threads at once (a conductor's workers, the power-sync
pool) three of its internals fail; each fix below replaces as little as possible and
relies on pyghmi 1.x names, which is why pyproject pins ``pyghmi<2``.

* **Lost wake-ups.** ``session._io_wait`` blocks on an event that only the I/O thread
  sets, with no timeout. That thread can miss a waiter: an answer that arrived just before
  the caller started waiting leaves it asleep until its retransmit timer (0.5-1 s, about
  one exchange in a hundred on loopback), and under concurrency with failing sessions we
  saw it sit in ``select`` for 300 s with callers blocked forever (all 10 BMCs of the
  concurrency test hung, a few runs in ten). pyghmi's callers all wait in loops that check
  their session again, so the function is replaced with a copy whose wait lasts at most
  :data:`IO_WAIT_SLICE` seconds: a lost wake-up costs a few milliseconds and cannot hang.
  It uses ``ioqueue``, ``selectdeadline``, ``iosockets`` and ``myself``.
* **A lock-order deadlock.** ``Session.wait_for_rsp`` holds ``WAITING_SESSIONS`` while it
  times sessions out, and a timed-out session logs in again from there, which takes
  ``KEEPALIVE_SESSIONS`` (in ``send_payload``); any other thread sending a packet holds
  ``KEEPALIVE_SESSIONS`` and then takes ``WAITING_SESSIONS`` (in ``_xmit_packet``). Two
  such threads wait for each other forever: every IPMI call of the process then hangs
  (seen in the 10-BMC concurrency test: all 20 threads parked on these two locks). Both
  names are looked up at each use, so they are made one re-entrant lock: there is no
  order left to invert. It only guards dictionary updates, so sharing it costs nothing
  measurable.
* **An unguarded lazy lock.** ``Session.socketchecking`` is created on first use without
  a guard: two first logins at once could each make one and start two I/O threads. It is
  created here, before any session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: Longest single wait of a caller inside pyghmi before it checks its session again.
IO_WAIT_SLICE = 0.05
_guard = threading.Lock()
_applied = False


def _bounded_io_wait(session: Any) -> Callable[..., None]:
    """pyghmi's ``session._io_wait``, except that a caller waits at most
    :data:`IO_WAIT_SLICE` seconds before its loop looks again."""

    def _io_wait(timeout: float, myaddr: Any = None, evq: Any = None) -> None:
        evt = threading.Event()
        if evq is not None:
            evq.append(evt)
        deadline = timeout + session._monotonic_time()
        session.ioqueue.append((deadline, evt, myaddr))
        if deadline < session.selectdeadline:  # wake the I/O thread, as pyghmi does
            wake = session.iosockets[0]
            wake.sendto(b"\x01", (session.myself, wake.getsockname()[1]))
        evt.wait(max(0.0, min(timeout, IO_WAIT_SLICE)))

    return _io_wait


def apply() -> None:
    """Apply the fixes (idempotent; call before the process opens its first session)."""
    global _applied
    with _guard:
        if _applied:
            return
        from pyghmi.ipmi.private import session

        if session.Session.socketchecking is None:
            session.Session.socketchecking = threading.Lock()
        session._io_wait = _bounded_io_wait(session)
        session.KEEPALIVE_SESSIONS = session.WAITING_SESSIONS
        _applied = True
