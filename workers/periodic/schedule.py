"""Every periodic job, and beat's schedule derived from their declarations.

Importing this module imports each job module, whose ``@periodic`` declarations fill
:data:`~workers.periodic.base.JOBS`. A job is sent to every conductor through the fanout
``conductor.broadcast`` (a conductor that is down misses it, which suits periodic work), or
to one conductor per run through ``conductor.shared``; either way a late copy is worthless,
so it expires.
"""

from __future__ import annotations

from typing import Any

from app.config import Settings
from workers.periodic import (  # noqa: F401  (imported for their declarations)
    active_nodes,
    allocations,
    dead_conductors,
    orphaned_locks,
    power_sync,
    provision_timeouts,
    sensor_data,
)
from workers.periodic.base import JOBS, Periodic
from workers.queues import BROADCAST_OPTIONS, HEARTBEAT_OPTIONS, SHARED_QUEUE

__all__ = ["JOBS", "beat_schedule"]

#: The message beat sends to ``conductor.heartbeat``. A consumer step outside the task pool
#: takes it (``workers/service.py``): no task of that name runs, beat only needs a name.
HEARTBEAT_TASK = "ironworks.heartbeat"


def _entry(job: Periodic, settings: Settings) -> dict[str, Any]:
    seconds = job.interval(settings)
    if job.every_conductor:
        options = {**BROADCAST_OPTIONS, "expires": seconds}
    else:
        options = {"queue": SHARED_QUEUE.name, "expires": seconds * 2}
    return {"task": job.task_name, "schedule": seconds, "options": options}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat's schedule: the heartbeat, then every enabled periodic job."""
    heartbeat = settings.heartbeat_interval
    schedule: dict[str, dict[str, Any]] = {
        "conductor-heartbeat": {
            "task": HEARTBEAT_TASK,
            "schedule": heartbeat,
            "options": {**HEARTBEAT_OPTIONS, "expires": heartbeat},
        }
    }
    for job in JOBS:
        if job.enabled(settings):
            schedule[f"conductor-{job.name.replace('_', '-')}"] = _entry(job, settings)
    return schedule
