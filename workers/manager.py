"""ConductorManager: the node operations a conductor's tasks call.

Built on :class:`~workers.base_manager.BaseConductorManager` (identity, start and stop,
drivers, ring), as Ironic's conductor is. Each operation opens the node's task
(``workers/task_manager.py``) and hands it to a workflow (``workers/power.py``,
``workers/provisioning.py``...), which works on the task and never calls back up here. The
Celery tasks (``workers/tasks.py``) only find this object and call it.

Per-conductor state of the periodic jobs lives here too: ``power_state_sync_count`` (BMC
reads that failed in a row, per node) and ``orphan_suspects`` (locks the last orphan scan
suspected).
"""

from __future__ import annotations

import logging
from typing import Any

from app import exceptions, node_fields, node_rules, states
from app.db import allocations as allocation_db
from app.db import nodes as node_db
from app.db.models import Node
from workers import power, provisioning, task_manager
from workers.base_manager import BaseConductorManager

LOG = logging.getLogger(__name__)


class ConductorManager(BaseConductorManager):
    """A conductor and its node operations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.power_state_sync_count: dict[str, int] = {}
        self.orphan_suspects: set[str] = set()

    def create_node(self, values: dict[str, Any]) -> Node:
        """Create a node (``enroll``) for a hardware type this conductor has loaded; its
        fields are checked as the API checks them (``app/node_fields.py``)."""
        values = node_fields.check_values(values, node_fields.CREATE_FIELDS)
        self._check_driver(values.get("driver"))
        values.setdefault("conductor_group", self.settings.conductor_group)
        values["provision_state"] = states.ENROLL
        return node_db.create(node_rules.check_create(values, self.enabled_interfaces))

    def update_node(self, node_uuid: str, values: dict[str, Any]) -> Node:
        """Write a user's fields to an unlocked node under this conductor's lock, checked
        as the API checks a PATCH; returns the node as written."""
        values = node_fields.check_values(values, node_fields.WRITABLE)
        if "driver" in values:
            self._check_driver(values["driver"])
        with task_manager.acquire(self, node_uuid) as task:
            task.record(**node_rules.check_update(task.node, values, self.enabled_interfaces))
        return node_db.get(node_uuid)

    def _check_driver(self, driver: Any) -> None:
        if driver not in self.hardware_types:
            raise exceptions.UnknownDriver(driver=driver, known=sorted(self.hardware_types))

    def process_allocation(self, allocation_uuid: str) -> str | None:
        """Choose and reserve a node for an allocation the API recorded
        (``app/db/allocations.py``); its new state, None if it was already processed."""
        state = allocation_db.process(allocation_uuid)
        if state is not None:
            LOG.info("Allocation %s: %s on %s", allocation_uuid, state, self.host)
        return state

    def change_power_state(self, node_uuid: str, target: str) -> None:
        """Apply a power request the API locked the node for (``workers/power.py``)."""
        with task_manager.acquire(self, node_uuid, handed_over=True) as task:
            power.set_power_state(task, target)

    def do_provisioning_action(self, node_uuid: str, event: str, options: dict[str, Any]) -> None:
        """Run a provisioning verb the API locked the node for (``workers/provisioning.py``)."""
        with task_manager.acquire(self, node_uuid, handed_over=True) as task:
            provisioning.run(task, event, options)

    def nodes_mapped(self) -> list[str]:
        """UUIDs of the nodes this conductor owns."""
        return [node.uuid for node in self.iter_nodes()]
