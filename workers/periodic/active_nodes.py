"""Taking over deployed nodes whose ring owner changed (Ironic's ``_sync_local_state``).

When the ring moves an ``active`` node to this conductor (a peer died, or joined), the new
owner must become responsible for it: the deploy interface's ``take_over`` rebuilds what the
old owner had set up, then ``conductor_affinity`` records the new owner. Ironic moves at most
8 nodes every 180 s; here every such node moves in one pass, ``sync_power_state_workers`` at
a time (at most 8: each one writes), so a thousand nodes move in seconds.
"""

from __future__ import annotations

import functools
import logging
import time

from app import states
from app.db.models import Node
from workers import task_manager
from workers.conductor import Conductor
from workers.periodic.base import WRITERS, for_each_owned_node, periodic

LOG = logging.getLogger(__name__)


@periodic(interval=lambda settings: settings.sync_local_state_interval)
def take_over_active_nodes(conductor: Conductor) -> list[str]:
    """Take over this conductor's active nodes that another conductor set up.

    Returns the UUIDs taken over (None when a pass is already running).
    """
    started = time.monotonic()
    taken = for_each_owned_node(
        conductor,
        functools.partial(_take_over, conductor),
        min(conductor.settings.sync_power_state_workers, WRITERS),
        keep=lambda node: node.conductor_affinity != conductor.host and node.reservation is None,
        provision_state=states.ACTIVE,
        maintenance=False,
    )
    done = [uuid for uuid in taken if uuid]
    if done:
        LOG.info(
            "Conductor %s took over %d active nodes in %.2fs",
            conductor.host,
            len(done),
            time.monotonic() - started,
        )
    return done


def _take_over(conductor: Conductor, node: Node) -> str | None:
    with task_manager.acquire(conductor, node.uuid) as task:
        previous = task.node.conductor_affinity
        if task.provision_state != states.ACTIVE or previous == conductor.host:
            return None
        task.driver.deploy.take_over(task.view)
        task.record(conductor_affinity=conductor.host)
        task.history(
            f"Taken over from {previous or 'no conductor'} by {conductor.host}",
            event_type="takeover",
        )
    return node.uuid
