"""When a port may change, as Ironic's conductor decides (``update_port``, ``destroy_port``).

A port is part of its node's hardware description; while the node is in use that description
is what the network was configured from, so:

* nothing changes a port of a **locked** node (409 NodeLocked naming the holder): the lock's
  holder may be reading the ports right now;
* a port's **address**, or the node it belongs to, changes only while the node is neither
  ``active`` nor holding an instance, unless it is in maintenance;
* its **connectivity** (``pxe_enabled``, ``local_link_connection``, ``physical_network``)
  changes only in ``enroll``, ``inspecting``, ``inspect wait`` or ``manageable``, or in
  maintenance;
* a port is **deleted** only while the node is not ``active``, and not bound for an instance
  (``internal_info.binding``), unless the node is in maintenance.

Creating a port is always allowed (Ironic takes a shared lock for it).
"""

from __future__ import annotations

from typing import Any

from app import exceptions, states

CONNECTIVITY = frozenset(("pxe_enabled", "local_link_connection", "physical_network"))
CONNECTIVITY_STATES = (states.ENROLL, states.INSPECTING, states.INSPECTWAIT, states.MANAGEABLE)


def _unlocked(node: Any) -> None:
    if node.reservation is not None:
        raise exceptions.NodeLocked(node=node.uuid, host=node.reservation)


def _in_use(node: Any) -> bool:
    return not node.maintenance and (
        node.provision_state == states.ACTIVE or node.instance_uuid is not None
    )


def check_update(port: str, node: Any, changed: set[str], new_node: Any | None) -> None:
    """Refuse (409) the change of ``changed`` fields of ``port`` of ``node`` (moving it to
    ``new_node`` when given) that Ironic refuses."""
    _unlocked(node)
    if new_node is not None:
        _unlocked(new_node)
    if ("address" in changed or new_node is not None) and _in_use(node):
        raise exceptions.PortChangeRefused(
            port=port,
            reason=f"its address and node cannot change while node {node.uuid} is active or "
            "has an instance, unless the node is in maintenance",
        )
    touched = sorted(changed & CONNECTIVITY)
    if touched and not node.maintenance and node.provision_state not in CONNECTIVITY_STATES:
        raise exceptions.PortChangeRefused(
            port=port,
            reason=f"{', '.join(touched)} can only change while node {node.uuid} is in "
            f"{', '.join(CONNECTIVITY_STATES)} or in maintenance; it is "
            f"{node.provision_state}",
        )


def check_delete(port: str, node: Any, internal_info: dict[str, Any] | None) -> None:
    """Refuse (409) deleting ``port`` of ``node`` when Ironic does."""
    _unlocked(node)
    if node.maintenance:
        return
    if (internal_info or {}).get("binding") or node.provision_state == states.ACTIVE:
        raise exceptions.PortChangeRefused(
            port=port,
            reason=f"it cannot be deleted while node {node.uuid} is active or the port is "
            "bound for an instance, unless the node is in maintenance",
        )
