"""``ironworks conductor drain``: draining a conductor (:mod:`workers.drain`), with progress.

The request is a remote-control broadcast to that conductor alone
(:func:`workers.control.request_drain`): the conductor leaves the ring at once, finishes the
tasks queued for it and stops by itself once it holds no lock (or its ``--timeout`` passes).
With ``--wait`` the command then watches it (messages still in its queue, node locks it
holds) until it no longer answers a ping, i.e. it has stopped.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from app.cli.output import CommandFailed, Progress

#: Seconds ``--wait`` allows beyond the drain timeout for the warm shutdown itself.
SHUTDOWN_GRACE = 60.0
POLL_INTERVAL = 1.0


def register(commands: Any) -> None:
    conductor = commands.add_parser("conductor", help="conductor operations (broker + database)")
    sub = conductor.add_subparsers(dest="conductor_command", required=True, metavar="COMMAND")
    p = sub.add_parser("drain", help="take no new work, finish what it holds, then stop")
    p.add_argument("name", help="conductor name, e.g. conductor-a@host")
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds the conductor may take to finish its work before it stops anyway",
    )
    p.add_argument("--wait", action="store_true", help="show progress until it has stopped")
    p.set_defaults(func=drain)


def answers_ping(name: str) -> bool:
    from workers.celery_app import app

    return bool(app.control.ping(destination=[name], timeout=1.0))


def holdings(name: str) -> tuple[int, int]:
    """(messages waiting in its queue, node locks it holds)."""
    from app.db import nodes as node_db
    from workers.control import queue_depth

    return queue_depth(name), len(node_db.locked_by(name))


def wait_until_stopped(name: str, deadline: float) -> None:
    progress = Progress()
    misses = 0
    while misses < 2:  # a busy worker may miss one ping: two in a row mean it is gone
        queued, locks = holdings(name)
        if progress.elapsed > deadline:
            progress.done(f"{name}: still running; {queued} queued, {locks} locks held")
            raise CommandFailed(f"{name} did not stop within {deadline:g}s")
        progress.update(f"{name}: draining; {queued} queued, {locks} locks held")
        misses = 0 if answers_ping(name) else misses + 1
        if misses == 0:
            time.sleep(POLL_INTERVAL)
    queued, locks = holdings(name)
    progress.done(f"{name}: stopped; {queued} queued, {locks} locks held")


def drain(args: argparse.Namespace) -> int:
    from workers.control import request_drain

    if not request_drain(args.name, args.timeout):
        raise CommandFailed(f"no conductor called {args.name} answered")
    print(f"{args.name}: draining; it stops by itself when done")
    if args.wait:
        wait_until_stopped(args.name, args.timeout + SHUTDOWN_GRACE)
    return 0
