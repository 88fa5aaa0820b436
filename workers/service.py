"""The worker's life cycle: what turns a Celery worker into a conductor (Ironic's RPCService).

A conductor is ``celery -A workers.service worker -n NAME``. For that worker, the
``worker_init`` signal (once, in the main process, before anything is consumed) starts an
:class:`RPCService`, which

1. names the conductor in every log record and starts its metrics endpoint (a port that
   cannot be bound stops the worker);
2. makes the worker consume the conductor's own topic, ``conductor.<host>``;
3. builds the :class:`~workers.manager.ConductorManager` and runs ``init_host()`` (a
   configuration error, such as a hardware type that does not load, stops the worker with a
   clear message), logs "created RPC server", and hands the manager to the tasks;

and ``worker_shutdown`` stops it: ``del_host()``. The engine is disposed after start-up so no
pooled connection crosses a fork (children build their own, see ``app/db/engine.py``).

Also here, because only a conductor needs them: the heartbeat consumer (beat's heartbeats,
taken in the main process, outside the task pool, so a conductor whose threads are all busy
still stamps its row on time), the drain remote-control command, and the task signals that
bind each task's id and node to its log records and count it in the metrics.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from celery import bootsteps, signals
from celery.worker.control import control_command
from kombu.messaging import Consumer

from app import exceptions, logs
from app.config import get_settings
from app.db.engine import dispose_engine
from workers import drain, metrics, tasks
from workers.base_manager import PoolInfo
from workers.celery_app import app
from workers.control import DRAIN_COMMAND
from workers.manager import ConductorManager
from workers.queues import BROADCAST_QUEUE, HEARTBEAT_QUEUE, conductor_queue

__all__ = ["RPCService", "app", "tasks"]

LOG = logging.getLogger(__name__)
SERVICE = "ironworks-conductor"


class RPCService:
    """One conductor worker: its manager, its topic, its start and stop."""

    def __init__(self, worker: Any, manager_class: type[ConductorManager] = ConductorManager):
        self.worker = worker
        self.host: str = worker.hostname
        self.topic = conductor_queue(self.host)
        self.manager_class = manager_class
        self.manager: ConductorManager | None = None

    def start(self) -> None:
        """Start the conductor (see the module docstring); exits the process on a
        configuration error."""
        logs.set_conductor(self.host)
        _serve_metrics(self.host)
        queues = self.worker.app.amqp.queues
        queues.select_add(self.topic)

        def join_heartbeat() -> None:
            if BROADCAST_QUEUE.name not in queues.consume_from:
                queues.select_add(BROADCAST_QUEUE)

        pool = getattr(self.worker.pool_cls, "__name__", str(self.worker.pool_cls))
        manager = self.manager_class(
            self.host,
            PoolInfo(pool, int(self.worker.concurrency or 1)),
            join_heartbeat=join_heartbeat,
        )
        try:
            manager.init_host()
        except exceptions.ConfigurationError as exc:
            _exit(self.host, str(exc))
        LOG.info(
            "Created RPC server for service %s on host %s (topic %s)",
            SERVICE,
            self.host,
            self.topic.name,
        )
        self.manager = self.worker.app.conductor = manager
        dispose_engine()

    def stop(self) -> None:
        """Stop the conductor: ``del_host()``; tasks find no conductor afterwards."""
        if self.manager is None:
            return
        self.worker.app.conductor = None
        self.manager.del_host()
        self.manager = None


def _exit(host: str, message: str) -> None:
    LOG.critical("Conductor %s cannot start: %s", host, message)
    sys.stderr.write(f"ironworks: conductor {host} cannot start: {message}\n")
    raise SystemExit(2) from None


def _serve_metrics(host: str) -> None:
    try:
        metrics.serve(host, get_settings())
    except OSError as exc:
        _exit(host, f"metrics port {get_settings().conductor_metrics_port} cannot be bound: {exc}")


def _ours(sender: Any) -> bool:
    return getattr(sender, "app", None) is app


@signals.worker_init.connect
def on_worker_init(sender: Any, **_: Any) -> None:
    if not _ours(sender):
        return
    setup_logging = getattr(sender, "setup_logging", None)
    if setup_logging is not None:  # the `celery worker` CLI sets logging up only later
        setup_logging()
    if logs.json_enabled():
        sender.quiet = True  # no ASCII-art banner among the JSON lines
    sender.ironworks_service = RPCService(sender)
    sender.ironworks_service.start()


@signals.worker_shutdown.connect
def on_worker_shutdown(sender: Any, **_: Any) -> None:
    service = getattr(sender, "ironworks_service", None)
    if _ours(sender) and service is not None:
        service.stop()


class HeartbeatConsumer(bootsteps.ConsumerStep):
    """Stamps this conductor's row for every heartbeat beat sends (``conductor.heartbeat``)."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.app = parent.app

    def get_consumers(self, channel: Any) -> list[Consumer]:
        return [
            Consumer(  # type: ignore[no-untyped-call]
                channel, queues=[HEARTBEAT_QUEUE], callbacks=[self.on_heartbeat], accept=["json"]
            )
        ]

    def on_heartbeat(self, body: Any, message: Any) -> None:
        try:
            if self.app.conductor is not None:  # None: not a started conductor (yet)
                self.app.conductor.heartbeat()
        except Exception:
            LOG.exception("Heartbeat failed")
        finally:
            message.ack()


app.steps["consumer"].add(HeartbeatConsumer)


@control_command(name=DRAIN_COMMAND, args=[("timeout", float)], signature="[timeout]")
def ironworks_drain(state: Any, timeout: float = 1800.0, **_: Any) -> dict[str, str]:
    """Remote control: start draining this conductor (the reply comes at once)."""
    conductor = state.consumer.app.conductor
    if conductor is None:
        return {"error": "not a started conductor"}
    threading.Thread(target=drain.drain, args=(conductor, timeout), daemon=True).start()
    return {"ok": f"{conductor.host} draining"}


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
