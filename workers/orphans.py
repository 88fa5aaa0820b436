"""Locks no task will ever release: find them and free them.

A node is locked for a conductor when the API hands it a request. If that message is lost
(a broker restarted without persistence, say), nothing would ever release the lock. So each
conductor periodically looks at the locks held in its name that are older than
``orphan_lock_grace`` seconds: if, in two scans in a row, no task of this process is working
on or holding the node and no message for it waits in the conductor's queue, its work is sent
again when it can start from the top (``workers/takeover.py``); otherwise the lock is
released and a node left mid-work is failed with a ``last_error`` that says why.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING

from app.db import nodes as node_db
from app.db.models import utcnow
from workers import requeue, takeover

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)
_running = threading.Lock()
_suspects: set[str] = set()


def _held_by_this_worker() -> set[str]:
    """Nodes of the tasks this worker has received and not finished (running or prefetched)."""
    from celery.worker import state

    held = set()
    for request in list(state.reserved_requests):
        args = getattr(request, "args", None) or []
        if args and isinstance(args[0], str):
            held.add(args[0])
    return held


def release_orphaned_locks(manager: ConductorManager) -> list[str]:
    """Free this conductor's locks that no task will release; returns their node UUIDs.

    One scan at a time per process: two concurrent scans would each see the queue the other
    had taken, and free locks whose tasks were only in the other's hands.
    """
    if not _running.acquire(blocking=False):
        return []
    try:
        return _scan(manager)
    finally:
        _running.release()


def _scan(manager: ConductorManager) -> list[str]:
    cutoff = utcnow() - dt.timedelta(seconds=manager.settings.orphan_lock_grace)
    busy = manager.busy_nodes() | _held_by_this_worker()
    candidates = [
        n.uuid
        for n in node_db.locked_by(manager.host)
        if n.uuid not in busy and (n.updated_at or n.created_at) < cutoff
    ]
    if not candidates:
        return []
    queued = {m.node_uuid for m in requeue.drain(manager.host, lambda _uuid: manager.host)}
    time.sleep(0.5)  # a message the worker took during the scan is registered by now
    suspects = set(candidates) - queued - manager.busy_nodes() - _held_by_this_worker()
    # Two strikes: a lock is an orphan only if the previous scan suspected it too. A message
    # caught in flight between the queue and the worker during one scan cannot be in flight
    # for a whole check interval.
    orphans = suspects & _suspects
    _suspects.clear()
    _suspects.update(suspects - orphans)
    if not orphans:
        return []
    reason = "its task was lost (no message for it was queued or running)"
    report = takeover.release_orphans(
        manager.host,
        set(),
        reason,
        manager.host,
        only=orphans,
        resume_on=lambda _node: manager.host,
    )
    LOG.warning(
        "Conductor %s found %d orphaned locks: %d resumed, %d released (%d nodes failed)",
        manager.host,
        len(orphans),
        len(report.resumed),
        report.released,
        len(report.failed),
    )
    return sorted(orphans)
