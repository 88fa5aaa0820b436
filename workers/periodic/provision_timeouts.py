"""Callback timeouts: wait states are states with timeouts, never sleeping tasks.

A node that waited for a callback longer than its state's timeout (measured from
``provision_updated_at``) is moved to the matching failed state with a ``last_error`` that
says so. Nodes that are locked or in maintenance are left alone, as in Ironic.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from app import states
from app.db.models import Node, utcnow
from workers import task_manager
from workers.conductor import Conductor
from workers.periodic.base import WRITERS, for_each_owned_node, periodic

LOG = logging.getLogger(__name__)


@periodic(interval=lambda settings: settings.check_provision_state_interval)
def provision_timeouts(conductor: Conductor) -> int:
    """Fail this conductor's nodes that waited too long; returns how many were failed."""
    failed = 0
    for state, timeout in conductor.settings.callback_timeouts.items():
        cutoff = utcnow() - dt.timedelta(seconds=timeout)
        failed += sum(
            for_each_owned_node(
                conductor,
                functools.partial(_fail_one, conductor, state=state, timeout=timeout),
                WRITERS,
                keep=functools.partial(_expired, cutoff=cutoff),
                provision_state=state,
                maintenance=False,
            )
        )
    return failed


def _expired(node: Node, cutoff: dt.datetime) -> bool:
    changed = node.provision_updated_at or node.updated_at or node.created_at
    return node.reservation is None and changed < cutoff


def _fail_one(conductor: Conductor, node: Node, state: str, timeout: float) -> bool:
    with task_manager.acquire(conductor, node.uuid) as task:
        if task.provision_state != state:  # it moved on while we looked
            return False
        task.fail(
            states.EV_FAIL,
            f"Timeout reached while waiting for callback in {state!r} (after {timeout:g} s)",
        )
    LOG.warning("Node %s: %s timed out after %gs on %s", node.uuid, state, timeout, conductor.host)
    return True
