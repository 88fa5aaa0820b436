"""Drain a conductor: take no new work, finish what it holds, then stop by itself.

``python -m workers.drain <conductor>`` (or ``app.control.broadcast("ironworks_drain",
destination=[name])``) asks a conductor to drain. It leaves the ring at once (marked
offline, and its heartbeat no longer brings it back), so no new request is routed to it; it
keeps running the tasks already queued for it until its queue is empty, no task of it runs
and it holds no node lock (or ``--timeout`` passes), then it shuts down warmly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from celery.worker.control import control_command

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)


def queue_depth(host: str) -> int:
    """Messages waiting in ``conductor.<host>`` (Redis and AMQP alike)."""
    from workers.celery_app import app
    from workers.queues import conductor_queue

    with app.connection_for_write() as conn:
        queue: Any = conductor_queue(host)(conn.default_channel)
        try:
            _name, count, _consumers = queue.queue_declare(passive=True)
        except conn.channel_errors:
            return 0  # Redis keeps no empty queue: "not found" means empty
        return int(count)


def settled(manager: ConductorManager) -> bool:
    from app.db import nodes as node_db

    return (
        not manager.busy_nodes()
        and not node_db.locked_by(manager.host)
        and queue_depth(manager.host) == 0
    )


def drain(manager: ConductorManager, timeout: float, stop: bool = True) -> bool:
    """Leave the ring and wait until everything held is done; True if it settled in time."""
    from app.db import conductors

    manager.draining = True
    conductors.set_online(manager.host, False)
    LOG.warning("Conductor %s draining: no new work; finishing what it holds", manager.host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not settled(manager):
        time.sleep(0.5)
    done = settled(manager)
    LOG.warning("Conductor %s drained%s; stopping", manager.host, "" if done else " (timed out)")
    if stop:
        os.kill(os.getpid(), signal.SIGTERM)  # a warm shutdown: del_host runs as usual
    return done


@control_command(args=[("timeout", float)], signature="[timeout]")
def ironworks_drain(state: Any, timeout: float = 1800.0, **_: Any) -> dict[str, str]:
    """Remote control: start draining this conductor (the reply comes at once)."""
    from workers import manager

    conductor = manager.current()
    threading.Thread(target=drain, args=(conductor, timeout), daemon=True).start()
    return {"ok": f"{conductor.host} draining"}


def request(conductor: str, timeout: float = 1800.0) -> bool:
    """Ask ``conductor`` to drain (broadcast); True if it answered."""
    from workers.celery_app import app

    replies = app.control.broadcast(
        "ironworks_drain",
        arguments={"timeout": timeout},
        destination=[conductor],
        reply=True,
        timeout=5,
    )
    return bool(replies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conductor", help="conductor name, e.g. conductor-a@host")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    if not request(args.conductor, args.timeout):
        print(f"no conductor called {args.conductor} answered", file=sys.stderr)
        return 1
    print(f"{args.conductor}: draining; it stops by itself when done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
