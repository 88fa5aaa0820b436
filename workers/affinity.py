"""Takeover of deployed nodes whose ring owner changed (Ironic's ``_sync_local_state``).

When the ring moves an ``active`` node to this conductor (a peer died, or joined), the new
owner must become responsible for it: the deploy interface's ``take_over`` rebuilds what the
old owner had set up, then ``conductor_affinity`` records the new owner. Ironic moves at most
8 nodes every 180 s; here every such node moves in one pass, ``sync_power_state_workers`` at
a time (at most 8: each one writes), so a thousand nodes move in seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from app import exceptions, states
from workers import task_manager

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)
WRITERS = 8
_running = threading.Lock()


def take_over_active_nodes(manager: ConductorManager) -> list[str] | None:
    """Take over this conductor's active nodes that another conductor set up.

    Returns the UUIDs taken over (None when a pass is already running).
    """
    if not _running.acquire(blocking=False):
        return None
    started = time.monotonic()
    try:
        nodes = [
            n.uuid
            for n in manager.iter_nodes(provision_state=states.ACTIVE, maintenance=False)
            if n.conductor_affinity != manager.host and n.reservation is None
        ]
        if not nodes:
            return []
        # Every takeover writes its node: more than a few writers at once only queue on the
        # database (SQLite's one write lock, the connection pool), long enough to starve this
        # conductor's own heartbeat write (measured: 32 threads, 1,000 nodes, both databases).
        workers = max(1, min(manager.settings.sync_power_state_workers, len(nodes), WRITERS))
        with ThreadPoolExecutor(workers, thread_name_prefix="takeover") as pool:
            done = [uuid for uuid in pool.map(lambda u: _take_over(manager, u), nodes) if uuid]
    finally:
        _running.release()
    LOG.info(
        "Conductor %s took over %d active nodes in %.2fs",
        manager.host,
        len(done),
        time.monotonic() - started,
    )
    return done


def _take_over(manager: ConductorManager, uuid: str) -> str | None:
    try:
        with task_manager.acquire(manager, uuid) as task:
            previous = task.node.conductor_affinity
            if task.provision_state != states.ACTIVE or previous == manager.host:
                return None
            task.driver.deploy.take_over(task.view)
            task.record(conductor_affinity=manager.host)
            task.history(
                f"Taken over from {previous or 'no conductor'} by {manager.host}",
                event_type="takeover",
            )
    except (exceptions.NodeLocked, exceptions.NodeNotFound):
        return None  # busy with a user's request, or gone: the next pass tries again
    except Exception as exc:
        LOG.error("Node %s: takeover by %s failed: %s", uuid, manager.host, exc)
        return None
    return uuid
