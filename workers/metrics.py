"""Prometheus metrics of one conductor, served on its own port.

A conductor serves them when ``IRONWORKS_CONDUCTOR_METRICS_PORT`` is not 0, on
``IRONWORKS_CONDUCTOR_METRICS_HOST`` (127.0.0.1 by default), from a thread of the worker's
main process: :func:`serve` is called from ``worker_init`` (``workers/service.py``) before
``init_host()``, so a port that cannot be bound stops the start before anything is
registered. The conductor runs its tasks in threads of that process (the ``threads`` pool
of the Procfile and the tests), so every count is visible there; under a prefork pool the
children's counts would not be.

Metrics (the registry is this module's own, not prometheus_client's global one):

* ``ironworks_conductor_info{conductor}`` - 1, names the conductor behind the port;
* ``ironworks_conductor_tasks_total{task, outcome}`` - Celery tasks finished, ``success``
  or ``failure`` (a task dropped as a duplicate is a success: it did what it should);
* ``ironworks_conductor_task_duration_seconds{task}`` - histogram of task run times;
* ``ironworks_conductor_lock_wait_seconds`` - histogram of the time taken to take (or
  adopt) a node lock, conflicts included;
* ``ironworks_conductor_lock_conflicts_total{reason}`` - ``NodeLocked`` raised: ``held``
  (the node is reserved by another holder) or ``busy`` (another task of this conductor is
  working on it);
* ``ironworks_conductor_power_sync_duration_seconds`` - histogram of power-sync passes;
* ``ironworks_conductor_power_sync_drift_total``,
  ``ironworks_conductor_power_sync_bmc_failures_total`` and
  ``ironworks_conductor_power_sync_maintenance_total`` - nodes found drifted, BMC reads
  that failed, and nodes put in maintenance by power sync.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
    from app.config import Settings

LOG = logging.getLogger(__name__)
REGISTRY = CollectorRegistry()

INFO = Gauge(
    "ironworks_conductor_info",
    "The conductor this endpoint belongs to.",
    ["conductor"],
    registry=REGISTRY,
)
TASKS = Counter(
    "ironworks_conductor_tasks",
    "Celery tasks this conductor finished, by task name and outcome.",
    ["task", "outcome"],
    registry=REGISTRY,
)
TASK_DURATION = Histogram(
    "ironworks_conductor_task_duration_seconds",
    "Seconds a task ran on this conductor.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0),
    registry=REGISTRY,
)
LOCK_WAIT = Histogram(
    "ironworks_conductor_lock_wait_seconds",
    "Seconds taken to take or adopt a node lock (conflicts included).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
    registry=REGISTRY,
)
LOCK_CONFLICTS = Counter(
    "ironworks_conductor_lock_conflicts",
    "Node locks refused: 'held' by another holder, or 'busy' with another task here.",
    ["reason"],
    registry=REGISTRY,
)
SYNC_DURATION = Histogram(
    "ironworks_conductor_power_sync_duration_seconds",
    "Seconds one power-state sync pass took on this conductor.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
    registry=REGISTRY,
)
SYNC_DRIFT = Counter(
    "ironworks_conductor_power_sync_drift",
    "Nodes whose hardware power state differed from the recorded one (and was corrected).",
    registry=REGISTRY,
)
SYNC_BMC_FAILURES = Counter(
    "ironworks_conductor_power_sync_bmc_failures",
    "Power state reads that failed during power sync.",
    registry=REGISTRY,
)
SYNC_MAINTENANCE = Counter(
    "ironworks_conductor_power_sync_maintenance",
    "Nodes power sync put in maintenance with fault 'power failure'.",
    registry=REGISTRY,
)

_task_started: dict[str, float] = {}  # task id -> perf_counter at task_prerun
_served: list[int] = []
_serve_lock = threading.Lock()


def task_started(task_id: str) -> None:
    _task_started[task_id] = time.perf_counter()


def task_finished(task_name: str, task_id: str) -> None:
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(task_name).observe(time.perf_counter() - started)


def task_outcome(task_name: str, outcome: str) -> None:
    TASKS.labels(task_name, outcome).inc()


def observe_power_sync(seconds: float, drift: int, failed: int, maintenance: int) -> None:
    """Count one power-sync pass: its time and the nodes it found in each case."""
    SYNC_DURATION.observe(seconds)
    SYNC_DRIFT.inc(drift)
    SYNC_BMC_FAILURES.inc(failed)
    SYNC_MAINTENANCE.inc(maintenance)


def serve(conductor: str, settings: Settings) -> int | None:
    """Start the HTTP endpoint of this conductor's metrics; returns its port (None: off).

    Raises ``OSError`` when the port cannot be bound. A second call is a no-op.
    """
    port = settings.conductor_metrics_port
    if port <= 0:
        return None
    with _serve_lock:
        if not _served:
            INFO.labels(conductor).set(1)
            start_http_server(port, settings.conductor_metrics_host, registry=REGISTRY)
            _served.append(port)
            LOG.info(
                "Conductor %s metrics at http://%s:%d/metrics",
                conductor,
                settings.conductor_metrics_host,
                port,
            )
    return _served[0]
