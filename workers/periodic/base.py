"""Declaring a periodic job, and the one loop over a conductor's nodes that jobs share.

``@periodic(interval=...)`` declares a job next to its function: how often beat sends it
(read from the settings), whether every conductor runs it (a fanout) or one conductor per
run (the shared queue), and whether it is on at all. The declared function is wrapped so
that one pass at a time runs per conductor: a pass still running when the next one arrives
makes the next one a no-op (it returns None). The task name is
``ironworks.periodic.<function name>``.

:func:`for_each_owned_node` is the skeleton of the per-node jobs (Ironic's
``@node_periodic``): each node the ring gives this conductor that the job's predicate keeps,
at most N at once, every call logging with its node; a node that is locked (a user's
request got there first) or gone is skipped, and a failure on one node is logged and does
not stop the pass.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from app import exceptions, logs
from app.config import Settings
from workers.conductor import Conductor

if TYPE_CHECKING:
    from app.db.models import Node

LOG = logging.getLogger(__name__)
#: Jobs that write every node they visit run at most this many at once: more writers only
#: queue on the database (SQLite's one write lock, the connection pool), long enough to
#: starve the conductor's own heartbeat write (measured: 32 threads, 1,000 nodes).
WRITERS = 8

C = TypeVar("C", bound=Conductor)
R = TypeVar("R")


@dataclass(frozen=True)
class Periodic:
    """One periodic job, as declared."""

    function: Callable[[Any], object]
    interval: Callable[[Settings], float]
    every_conductor: bool
    enabled: Callable[[Settings], bool]

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def task_name(self) -> str:
        return f"ironworks.periodic.{self.name}"


#: Every declared job, in declaration order (filled as the job modules are imported).
JOBS: list[Periodic] = []


def _always(_settings: Settings) -> bool:
    return True


def periodic(
    interval: Callable[[Settings], float],
    every_conductor: bool = True,
    enabled: Callable[[Settings], bool] = _always,
) -> Callable[[Callable[[C], R]], Callable[[C], R | None]]:
    """Declare the decorated function a periodic job (see the module docstring)."""

    def declare(function: Callable[[C], R]) -> Callable[[C], R | None]:
        @functools.wraps(function)
        def one_pass_at_a_time(conductor: C) -> R | None:
            with conductor.periodic_pass(function.__name__) as mine:
                if not mine:
                    LOG.info("%s: a pass is still running on %s", function.__name__, conductor.host)
                    return None
                return function(conductor)

        JOBS.append(Periodic(one_pass_at_a_time, interval, every_conductor, enabled))
        return one_pass_at_a_time

    return declare


def for_each_owned_node(
    conductor: Conductor,
    work: Callable[[Node], R],
    workers: int,
    keep: Callable[[Node], bool] | None = None,
    order: Callable[[Node], Any] | None = None,
    **filters: Any,
) -> list[R]:
    """Run ``work`` on each node the ring gives ``conductor`` (matching ``filters`` and
    ``keep``; sorted by ``order``, else by id), ``workers`` at a time; the results of the
    nodes not skipped."""
    nodes = [node for node in conductor.iter_nodes(**filters) if keep is None or keep(node)]
    if order is not None:
        nodes.sort(key=order)
    if not nodes:
        return []

    def visit(node: Node) -> list[R]:
        with logs.bound(node=node.uuid):
            try:
                return [work(node)]
            except (exceptions.NodeLocked, exceptions.NodeNotFound) as exc:
                LOG.debug("Node %s skipped: %s", node.uuid, exc)
            except Exception as exc:
                LOG.error(
                    "Node %s: %s failed on %s: %s", node.uuid, _name(work), conductor.host, exc
                )
        return []

    size = max(1, min(workers, len(nodes)))
    with ThreadPoolExecutor(size, thread_name_prefix="periodic") as pool:
        # Each node's call runs in a copy of this context: it logs with the pass's task id.
        futures = [pool.submit(contextvars.copy_context().run, visit, node) for node in nodes]
        return [result for future in futures for result in future.result()]


def _name(work: Callable[..., object]) -> str:
    return getattr(getattr(work, "func", work), "__name__", "periodic work")
