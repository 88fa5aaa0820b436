"""Worker life-cycle signals that turn a Celery worker into a conductor.

``worker_init`` runs once in the worker's main process, before it consumes anything and
before prefork children exist: it adds the conductor's own queue, builds the
:class:`ConductorManager` and runs ``init_host()``. A configuration error (for instance a
hardware type that does not load) stops the worker with a clear message. The engine is
disposed afterwards so no pooled connection crosses a fork (children build their own, see
``app/db/engine.py``). ``worker_shutdown`` runs ``del_host()``.

Before ``init_host()``, ``worker_init`` also names the conductor in every log record and
starts its metrics endpoint (``workers/metrics.py``; a port that cannot be bound stops the
worker like a configuration error). The logging signals give Celery's handlers (workers
and beat) the Ironworks format (``app/logs.py``); the task signals bind each task's id and
node to the log records of the thread running it and count it in the metrics.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from celery import signals

from app import exceptions, logs
from workers import metrics
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
    logs.set_conductor(sender.hostname)
    if logs.json_enabled():
        sender.quiet = True  # no ASCII-art banner among the JSON lines
    _serve_metrics(sender.hostname)
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


def _serve_metrics(hostname: str) -> None:
    from app.config import get_settings

    try:
        metrics.serve(hostname, get_settings())
    except OSError as exc:
        port = get_settings().conductor_metrics_port
        message = f"metrics port {port} cannot be bound: {exc}"
        LOG.critical("Conductor %s cannot start: %s", hostname, message)
        sys.stderr.write(f"ironworks: conductor {hostname} cannot start: {message}\n")
        raise SystemExit(2) from None


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def on_setup_logger(logger: logging.Logger, **_: Any) -> None:
    """Celery set a logger up (worker, beat): add the ids and the configured format."""
    logs.configure_handlers([logger])


def _node_of(task: Any, args: Any) -> str | None:
    name = getattr(task, "name", "") or ""
    if name.startswith("ironworks.node.") and args:
        return str(args[0])
    return None


@signals.task_prerun.connect
def on_task_prerun(sender: Any, task_id: str, args: Any = None, **_: Any) -> None:
    logs.set_task(task_id, _node_of(sender, args))
    metrics.task_started(task_id)


@signals.task_postrun.connect
def on_task_postrun(sender: Any, task_id: str, **_: Any) -> None:
    metrics.task_finished(getattr(sender, "name", "?"), task_id)
    logs.set_task(None)


@signals.task_success.connect
def on_task_success(sender: Any, **_: Any) -> None:
    metrics.task_outcome(getattr(sender, "name", "?"), "success")


@signals.task_failure.connect
def on_task_failure(sender: Any, **_: Any) -> None:
    metrics.task_outcome(getattr(sender, "name", "?"), "failure")
