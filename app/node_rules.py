"""What a node create or update may change, by Ironic's rules (its conductor's
``update_node``), checked before anything is written.

* ``maintenance`` turned off clears ``maintenance_reason`` and ``fault``.
* ``protected`` may be turned on only while the node is ``active`` or in ``rescue`` (409);
  turning it off clears ``protected_reason``; a reason without the flag is a 400. Likewise
  ``retired`` (refused in ``available``) and ``retired_reason``.
* ``<kind>_interface`` fields change only in the states where nothing runs on the node
  (``states.UPDATE_ALLOWED_STATES``) or in maintenance (409); each must be one the node's
  hardware type enables (400). A driver change checks the node's interfaces against the new
  hardware type; with ``reset_interfaces`` the interfaces it does not set go back to the
  defaults.
* ``resource_class`` of a node in use is refused (409): Nova would not notice the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app import exceptions, states
from app.db.models import Node
from app.node_fields import INTERFACE_FIELDS, check_interfaces

#: ``{hardware type: {interface type: [enabled names]}}``, as the API or a conductor knows it.
Enabled = Callable[[str], dict[str, list[str]]]


def check_create(values: dict[str, Any], enabled: Enabled) -> dict[str, Any]:
    """``values`` of a new node (in ``enroll``), checked, with the hardware type's default
    stored for each interface it does not choose, as Ironic does: a later driver change must
    then fit every interface, or reset them."""
    choices = enabled(values["driver"])
    check_interfaces(values, choices)
    _fill_defaults(values, choices, INTERFACE_FIELDS)
    if values.get("protected"):
        raise _not_now(values.get("uuid") or "new", "made protected", values["provision_state"])
    _reason_needs_flag(values, "protected")
    _reason_needs_flag(values, "retired")
    return values


def check_update(
    node: Node, values: dict[str, Any], enabled: Enabled, reset_interfaces: bool = False
) -> dict[str, Any]:
    """The ``values`` a user asked to write to ``node``, checked, with what follows from
    them added (cleared reasons, reset interfaces)."""
    values = dict(values)
    if values.get("maintenance") is False:
        values.update(maintenance_reason=None, fault=None)
    _flag_rules(
        node, values, "protected", refused=lambda s: s not in (states.ACTIVE, states.RESCUE)
    )
    _flag_rules(node, values, "retired", refused=lambda s: s == states.AVAILABLE)
    _interface_rules(node, values, enabled, reset_interfaces)
    if (
        "resource_class" in values
        and node.resource_class
        and node.provision_state not in states.UPDATE_ALLOWED_STATES
    ):
        raise _not_now(node.uuid, "have resource_class updated", node.provision_state)
    return values


def _flag_rules(
    node: Node, values: dict[str, Any], flag: str, refused: Callable[[str], bool]
) -> None:
    if flag in values:
        if not values[flag]:
            values[f"{flag}_reason"] = None
        elif refused(node.provision_state):
            raise _not_now(node.uuid, f"have {flag!r} set", node.provision_state)
    _reason_needs_flag({flag: getattr(node, flag), **values}, flag)


def _reason_needs_flag(values: dict[str, Any], flag: str) -> None:
    if values.get(f"{flag}_reason") and not values.get(flag):
        raise exceptions.InvalidParameterValue(
            reason=f"The {flag}_reason field can only be set when {flag} is True"
        )


def _interface_rules(
    node: Node, values: dict[str, Any], enabled: Enabled, reset_interfaces: bool
) -> None:
    driver = values.get("driver", node.driver)
    changing_driver = driver != node.driver
    if reset_interfaces and not changing_driver:
        raise exceptions.InvalidParameterValue(
            reason="reset_interfaces can only be used when the driver changes"
        )
    changed = [f for f in INTERFACE_FIELDS if f in values]
    if changed and not (node.provision_state in states.UPDATE_ALLOWED_STATES or node.maintenance):
        raise _not_now(node.uuid, f"have {changed[0]} updated", node.provision_state)
    if reset_interfaces:
        values.update({f: None for f in INTERFACE_FIELDS if f not in values})
    if changed or changing_driver:
        choices = enabled(driver)
        check_interfaces({f: values.get(f, getattr(node, f)) for f in INTERFACE_FIELDS}, choices)
        _fill_defaults(values, choices, [f for f in INTERFACE_FIELDS if f in values])


def _fill_defaults(values: dict[str, Any], choices: dict[str, list[str]], fields: Any) -> None:
    """Each of ``fields`` that ``values`` leaves unset becomes the hardware type's default."""
    for field in fields:
        names = choices.get(field.removesuffix("_interface"), [])
        if values.get(field) is None and names:
            values[field] = names[0]


def _not_now(node: str, action: str, state: str) -> exceptions.InvalidState:
    allowed = (
        ", ".join(states.UPDATE_ALLOWED_STATES)
        if "interface" in action or "resource" in action
        else ""
    )
    where = (
        f" unless it is in one of the allowed states ({allowed}) or in maintenance"
        if allowed
        else ""
    )
    return exceptions.InvalidState(
        reason=f"Node {node} can not {action}{where}; its provision state is {state!r}."
    )


def check_delete(node: Node) -> None:
    """A protected node is never deleted (403)."""
    if node.protected:
        raise exceptions.NodeProtected(node=node.uuid)


def check_provision(node: Node, verb: str) -> None:
    """A protected node is not undeployed or rebuilt (403); a retired one not provided."""
    if node.protected and verb in ("deleted", "undeploy", "rebuild"):
        raise exceptions.NodeProtected(node=node.uuid)
    if node.retired and verb == "provide":
        raise exceptions.NodeIsRetired(op=verb, node=node.uuid)
