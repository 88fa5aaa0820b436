"""Orphaned locks: locks no task will ever release, found and freed.

A node is locked for a conductor when the API hands it a request. If that message is lost
(a broker restarted without persistence, say), nothing would ever release the lock. So each
conductor periodically looks at the locks held in its name that are older than
``orphan_lock_grace`` seconds: if, in two scans in a row, no task of this process is working
on or holding the node and no message for it waits in the conductor's queue, its work is sent
again when it can start from the top (``workers/recovery.py``); otherwise the lock is
released and a node left mid-work is failed with a ``last_error`` that says why.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Protocol

from celery.worker import state

from app.db import nodes as node_db
from app.db.models import utcnow
from workers import recovery, requeue
from workers.conductor import Conductor
from workers.periodic.base import periodic

LOG = logging.getLogger(__name__)


class OrphanScanner(Conductor, Protocol):
    #: The locks the previous scan suspected (a lock is an orphan on its second strike).
    orphan_suspects: set[str]


def _held_by_this_worker() -> set[str]:
    """Nodes of the tasks this worker has received and not finished (running or prefetched)."""
    held = set()
    for request in list(state.reserved_requests):
        args = getattr(request, "args", None) or []
        if args and isinstance(args[0], str):
            held.add(args[0])
    return held


@periodic(interval=lambda settings: settings.orphan_check_interval)
def release_orphaned_locks(conductor: OrphanScanner) -> list[str]:
    """Free this conductor's locks that no task will release; returns their node UUIDs.

    One scan at a time per conductor (``@periodic``): two concurrent scans would each see the
    queue the other had taken, and free locks whose tasks were only in the other's hands.
    """
    cutoff = utcnow() - dt.timedelta(seconds=conductor.settings.orphan_lock_grace)
    busy = conductor.busy_nodes() | _held_by_this_worker()
    candidates = [
        n.uuid
        for n in node_db.locked_by(conductor.host)
        if n.uuid not in busy and (n.updated_at or n.created_at) < cutoff
    ]
    if not candidates:
        return []
    queued = {m.node_uuid for m in requeue.drain(conductor.host, lambda _uuid: conductor.host)}
    time.sleep(0.5)  # a message the worker took during the scan is registered by now
    suspects = set(candidates) - queued - conductor.busy_nodes() - _held_by_this_worker()
    # Two strikes: a lock is an orphan only if the previous scan suspected it too. A message
    # caught in flight between the queue and the worker during one scan cannot be in flight
    # for a whole check interval.
    orphans = suspects & conductor.orphan_suspects
    conductor.orphan_suspects = suspects - orphans
    if not orphans:
        return []
    reason = "its task was lost (no message for it was queued or running)"
    report = recovery.release_orphans(
        conductor.host,
        set(),
        reason,
        conductor.host,
        only=orphans,
        resume_on=lambda _node: conductor.host,
    )
    LOG.warning(
        "Conductor %s found %d orphaned locks: %d resumed, %d released (%d nodes failed)",
        conductor.host,
        len(orphans),
        len(report.resumed),
        report.released,
        len(report.failed),
    )
    return sorted(orphans)
