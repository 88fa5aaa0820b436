"""Thin Celery tasks: take ids, find the conductor of this process, call it.

Tasks ack late and are idempotent; all logic lives in the manager and its workflows. The
manager is imported inside each task so that beat and Flower, which load this module only to
know the task names, stay light.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task

LOG = logging.getLogger(__name__)


@contextmanager
def _dropped_if_unrecorded(request_id: str | None) -> Iterator[None]:
    """A task whose request was never committed, or whose node another task is working on,
    is a duplicate: log it and finish (acked), rather than fail or retry."""
    from app import exceptions

    try:
        yield
    except (exceptions.RequestNotRecorded, exceptions.NodeLocked) as exc:
        LOG.warning("Task %s dropped: %s", request_id, exc)


@shared_task(name="ironworks.node.set_power_state", bind=True, ignore_result=True)
def set_power_state(self: object, node_uuid: str, target: str) -> None:
    """Apply a power request the API recorded and locked for this conductor."""
    request_id = getattr(getattr(self, "request", None), "id", None)
    LOG.info("Task %s: node %s power %r", request_id, node_uuid, target)
    from workers import manager

    with _dropped_if_unrecorded(request_id):
        manager.current().change_power_state(node_uuid, target)


@shared_task(name="ironworks.node.provision", bind=True, ignore_result=True)
def do_provisioning_action(
    self: object, node_uuid: str, event: str, options: dict[str, Any] | None = None
) -> None:
    """Run a provisioning verb the API recorded and locked for this conductor."""
    request_id = getattr(getattr(self, "request", None), "id", None)
    LOG.info("Task %s: node %s provisioning event %r", request_id, node_uuid, event)
    from workers import manager

    with _dropped_if_unrecorded(request_id):
        manager.current().do_provisioning_action(node_uuid, event, options or {})


def _on_this_conductor(module: str, function: str) -> None:
    """Run ``workers.<module>.<function>(conductor)`` if this conductor is started."""
    import importlib

    from workers import manager

    conductor = manager.current()
    if conductor.started:
        getattr(importlib.import_module(f"workers.{module}"), function)(conductor)


_PERIODIC = {"ignore_result": True, "acks_late": False}


@shared_task(name="ironworks.periodic.provision_timeouts", **_PERIODIC)
def provision_timeouts() -> None:
    """Broadcast by beat: every conductor fails its nodes whose callback wait timed out."""
    _on_this_conductor("periodic", "provision_timeouts")


@shared_task(name="ironworks.periodic.release_orphaned_locks", **_PERIODIC)
def release_orphaned_locks() -> None:
    """Broadcast by beat: every conductor frees locks in its name that no task will release."""
    _on_this_conductor("orphans", "release_orphaned_locks")


@shared_task(name="ironworks.periodic.takeover", **_PERIODIC)
def takeover() -> None:
    """From beat, on the shared queue (one conductor per run): recover dead conductors."""
    _on_this_conductor("takeover", "recover_dead")


@shared_task(name="ironworks.periodic.sync_power_states", **_PERIODIC)
def sync_power_states() -> None:
    """Broadcast by beat: every conductor syncs the power state of its nodes."""
    _on_this_conductor("power_sync", "sync_power_states")


@shared_task(name="ironworks.periodic.take_over_active_nodes", **_PERIODIC)
def take_over_active_nodes() -> None:
    """Broadcast by beat: every conductor takes over the active nodes the ring moved to it."""
    _on_this_conductor("affinity", "take_over_active_nodes")


@shared_task(name="ironworks.periodic.send_sensor_data", **_PERIODIC)
def send_sensor_data() -> None:
    """Broadcast by beat (when enabled): every conductor publishes its nodes' sensor data."""
    _on_this_conductor("sensors", "send_sensor_data")
