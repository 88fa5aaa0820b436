"""Worker life-cycle signals that turn a Celery worker into a conductor.

``worker_init`` runs once in the worker's main process, before it consumes anything and
before prefork children exist: it adds the conductor's own queue, builds the
:class:`ConductorManager` and runs ``init_host()``. A configuration error (for instance a
hardware type that does not load) stops the worker with a clear message. The engine is
disposed afterwards so no pooled connection crosses a fork (children build their own, see
``app/db/engine.py``). ``worker_shutdown`` runs ``del_host()``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from celery import signals

from app import exceptions
from workers.queues import BROADCAST_QUEUE, conductor_queue

LOG = logging.getLogger(__name__)


def _ours(sender: Any) -> bool:
    from workers.celery_app import app

    return getattr(sender, "app", None) is app


@signals.worker_init.connect
def on_worker_init(sender: Any, **_: Any) -> None:
    if not _ours(sender):
        return
    from app.db.engine import dispose_engine
    from workers import manager as manager_mod

    setup_logging = getattr(sender, "setup_logging", None)
    if setup_logging is not None:  # the `celery worker` CLI sets logging up only later
        setup_logging()
    queues = sender.app.amqp.queues
    queues.select_add(conductor_queue(sender.hostname))

    def join_heartbeat() -> None:
        if BROADCAST_QUEUE.name not in queues.consume_from:
            queues.select_add(BROADCAST_QUEUE)

    pool = getattr(sender.pool_cls, "__name__", str(sender.pool_cls))
    manager = manager_mod.ConductorManager(
        sender.hostname,
        manager_mod.PoolInfo(pool, int(sender.concurrency or 1)),
        join_heartbeat=join_heartbeat,
    )
    try:
        manager.init_host()
    except exceptions.ConfigurationError as exc:
        LOG.critical("Conductor %s cannot start: %s", sender.hostname, exc)
        sys.stderr.write(f"ironworks: conductor {sender.hostname} cannot start: {exc}\n")
        raise SystemExit(2) from None
    manager_mod.set_current(manager)
    dispose_engine()


@signals.worker_shutdown.connect
def on_worker_shutdown(sender: Any, **_: Any) -> None:
    if not _ours(sender):
        return
    from workers import manager as manager_mod

    try:
        manager = manager_mod.current()
    except RuntimeError:
        return
    manager.del_host()
    manager_mod.set_current(None)
