"""Port binding around an instance's life: the node's network interface attaches its ports
when the instance is deployed and detaches them when it is torn down; the conductor records
each binding in the port's ``internal_info`` so the API shows what is wired where."""

from __future__ import annotations

import logging
from typing import Any

from app.db import ports as port_db
from app.db.models import utcnow
from drivers.base import PortView
from workers.task_manager import NodeTask

LOG = logging.getLogger(__name__)


def _views(node_uuid: str) -> list[PortView]:
    return [
        PortView(
            uuid=p.uuid,
            address=p.address,
            physical_network=p.physical_network,
            pxe_enabled=p.pxe_enabled,
        )
        for p in port_db.of_node(node_uuid)
    ]


def bind(task: NodeTask) -> None:
    """Attach the instance's ports and record the bindings."""
    if task.network is None:
        return
    ports = _views(task.node.uuid)
    if not ports:
        return
    bindings = task.network.bind(task.view, ports)
    stamped: dict[str, dict[str, Any] | None] = {
        uuid: {**binding, "bound_at": utcnow().isoformat(), "conductor": task.host}
        for uuid, binding in bindings.items()
    }
    if stamped:
        port_db.set_bindings(task.node.uuid, stamped)
        LOG.info(
            "Node %s: %d ports bound by network interface %s",
            task.node.uuid,
            len(stamped),
            task.network.name,
        )


def unbind(task: NodeTask) -> None:
    """Detach the ports and forget their bindings."""
    ports = _views(task.node.uuid)
    if not ports:
        return
    if task.network is not None:
        task.network.unbind(task.view, ports)
    port_db.set_bindings(task.node.uuid, {p.uuid: None for p in ports})
