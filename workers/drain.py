"""Draining a conductor: take no new work, finish what it holds, then stop by itself.

``ironworks conductor drain NAME`` asks a conductor to drain (the remote-control command of
``workers/control.py``, handled in ``workers/service.py``). It leaves the ring at once
(marked offline, and its heartbeat no longer brings it back), so no new request is routed to
it; it keeps running the tasks already queued for it until its queue is empty, no task of it
runs and it holds no node lock (or the timeout passes), then it shuts down warmly.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from app.db import conductors
from app.db import nodes as node_db
from workers.base_manager import BaseConductorManager
from workers.control import queue_depth

LOG = logging.getLogger(__name__)


def settled(conductor: BaseConductorManager) -> bool:
    """Nothing left: no task running, no lock held, nothing queued."""
    return (
        not conductor.busy_nodes()
        and not node_db.locked_by(conductor.host)
        and queue_depth(conductor.host) == 0
    )


def drain(conductor: BaseConductorManager, timeout: float, stop: bool = True) -> bool:
    """Leave the ring and wait until everything held is done; True if it settled in time."""
    conductor.draining = True
    conductors.set_online(conductor.host, False)
    LOG.warning("Conductor %s draining: no new work; finishing what it holds", conductor.host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not settled(conductor):
        time.sleep(0.5)
    done = settled(conductor)
    LOG.warning("Conductor %s drained%s; stopping", conductor.host, "" if done else " (timed out)")
    if stop:
        os.kill(os.getpid(), signal.SIGTERM)  # a warm shutdown: del_host runs as usual
    return done
