"""Periodic work a conductor does over the nodes the ring gives it (driven by beat).

Wait states are states with timeouts, never sleeping tasks: a node that waited for a
callback longer than its state's timeout (measured from ``provision_updated_at``) is moved to
the matching failed state with a ``last_error`` that says so. Nodes that are locked or in
maintenance are left alone, as in Ironic.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING

from app import exceptions, states
from app.db.models import Node, utcnow
from workers import task_manager

if TYPE_CHECKING:
    from workers.manager import ConductorManager

LOG = logging.getLogger(__name__)
_running = threading.Lock()


def provision_timeouts(manager: ConductorManager) -> int:
    """Fail this conductor's nodes that waited too long; returns how many were failed.

    A pass that is still running when the next one arrives makes the next one a no-op.
    """
    if not _running.acquire(blocking=False):
        return 0
    try:
        failed = 0
        for state, timeout in manager.settings.callback_timeouts.items():
            cutoff = utcnow() - dt.timedelta(seconds=timeout)
            for node in manager.iter_nodes(provision_state=state, maintenance=False):
                if _expired(node, cutoff) and _fail_one(manager, node.uuid, state, timeout):
                    failed += 1
        return failed
    finally:
        _running.release()


def _expired(node: Node, cutoff: dt.datetime) -> bool:
    changed = node.provision_updated_at or node.updated_at or node.created_at
    return node.reservation is None and changed < cutoff


def _fail_one(manager: ConductorManager, uuid: str, state: str, timeout: float) -> bool:
    try:
        with task_manager.acquire(manager, uuid) as task:
            if task.provision_state != state:  # it moved on while we looked
                return False
            task.fail(
                states.EV_FAIL,
                f"Timeout reached while waiting for callback in {state!r} (after {timeout:g} s)",
            )
    except (exceptions.NodeLocked, exceptions.NodeNotFound):
        return False
    LOG.warning("Node %s: %s timed out after %gs on %s", uuid, state, timeout, manager.host)
    return True
