"""Thin Celery tasks: take ids, find the conductor of this worker, call it.

Every task reaches its conductor through :class:`ConductorTask` (the manager the worker's
life cycle started, ``workers/service.py``), never through a module global. Node tasks ack
late and are idempotent; all logic lives in the manager and its workflows. The periodic
tasks are derived from the declared jobs (``workers/periodic/``): one task per job, named
``ironworks.periodic.<job>``, that runs the job on this conductor once it is started.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task

from app import exceptions
from workers.celery_app import app
from workers.manager import ConductorManager
from workers.periodic.base import Periodic
from workers.periodic.schedule import JOBS

LOG = logging.getLogger(__name__)


class ConductorTask(Task):
    """A task of a conductor: ``self.conductor`` is the manager of this worker."""

    @property
    def conductor(self) -> ConductorManager:
        conductor = self.app.conductor
        if not isinstance(conductor, ConductorManager):
            raise RuntimeError("this process is not a started conductor")
        return conductor


@contextmanager
def _dropped_if_unrecorded(request_id: str | None) -> Iterator[None]:
    """A task whose request was never committed, or whose node another task is working on,
    is a duplicate: log it and finish (acked), rather than fail or retry."""
    try:
        yield
    except (exceptions.RequestNotRecorded, exceptions.NodeLocked) as exc:
        LOG.warning("Task %s dropped: %s", request_id, exc)


@app.task(name="ironworks.node.set_power_state", base=ConductorTask, bind=True, ignore_result=True)
def set_power_state(self: ConductorTask, node_uuid: str, target: str) -> None:
    """Apply a power request the API recorded and locked for this conductor."""
    LOG.info("Task %s: node %s power %r", self.request.id, node_uuid, target)
    with _dropped_if_unrecorded(self.request.id):
        self.conductor.change_power_state(node_uuid, target)


@app.task(name="ironworks.node.provision", base=ConductorTask, bind=True, ignore_result=True)
def do_provisioning_action(
    self: ConductorTask, node_uuid: str, event: str, options: dict[str, Any] | None = None
) -> None:
    """Run a provisioning verb the API recorded and locked for this conductor."""
    LOG.info("Task %s: node %s provisioning event %r", self.request.id, node_uuid, event)
    with _dropped_if_unrecorded(self.request.id):
        self.conductor.do_provisioning_action(node_uuid, event, options or {})


@app.task(name="ironworks.allocation.process", base=ConductorTask, bind=True, ignore_result=True)
def process_allocation(self: ConductorTask, allocation_uuid: str) -> None:
    """Process an allocation the API recorded (any conductor: the shared queue)."""
    LOG.info("Task %s: allocation %s", self.request.id, allocation_uuid)
    self.conductor.process_allocation(allocation_uuid)


def _periodic_task(job: Periodic) -> Task:
    def run(self: ConductorTask) -> None:
        if self.conductor.started:
            job.function(self.conductor)

    run.__name__ = run.__qualname__ = job.name
    run.__doc__ = f"From beat: {job.function.__doc__ or job.name}"
    return app.task(
        name=job.task_name, base=ConductorTask, bind=True, ignore_result=True, acks_late=False
    )(run)


PERIODIC_TASKS = {job.name: _periodic_task(job) for job in JOBS}
