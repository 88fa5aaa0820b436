"""Node bodies in and out: field validation and Ironic's JSON shapes."""

from __future__ import annotations

from typing import Any

from app import exceptions, masking, states
from app.api.drivers_cache import interface_defaults
from app.api.utils import iso, resource_links
from app.api.versions import requested_at_least, url_base
from app.config import get_settings
from app.db.models import Node
from app.node_fields import CREATE_FIELDS, DICT_FIELDS, WRITABLE, check_values

LIST_FIELDS = ("uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance")


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """Check a node create body field by field; returns the values to store."""
    if not isinstance(body.get("driver"), str) or not body["driver"]:
        raise exceptions.MissingParameterValue(name="driver")
    values = check_values(body, CREATE_FIELDS)
    values.setdefault("conductor_group", "")
    values["provision_state"] = states.ENROLL if requested_at_least(11) else states.AVAILABLE
    return values


def patchable(node: Node) -> dict[str, Any]:
    """The node as JSON Patch sees it: real (unmasked) values of every exposed field."""
    doc = {field: getattr(node, field) for field in WRITABLE}
    for field in DICT_FIELDS:
        doc[field] = dict(doc[field] or {})
    return doc


#: Interfaces a node shows as its hardware type's defaults (``<kind>_interface``); the
#: node stores only its network and storage interfaces (:data:`INTERFACES` has all).
DEFAULTED_INTERFACES = (
    "power",
    "management",
    "boot",
    "deploy",
    "inspect",
    "rescue",
    "console",
    "bios",
    "raid",
    "vendor",
    "firmware",
)
INTERFACES = (*DEFAULTED_INTERFACES, "network", "storage")

#: Fields shown from their column alone: ``fields=`` made of these alone is served from those
#: columns only (no JSON columns decoded, no ring lookup); free texts are masked.
PLAIN_FIELDS = frozenset(
    (
        "uuid",
        "name",
        "driver",
        "instance_uuid",
        "conductor_group",
        "resource_class",
        "description",
        "owner",
        "lessee",
        "power_state",
        "target_power_state",
        "provision_state",
        "target_provision_state",
        "maintenance",
        "maintenance_reason",
        "fault",
        "last_error",
        "reservation",
    )
)


#: Free texts a user or a BMC writes, where a credential can hide (:func:`masking.mask_text`).
TEXT_FIELDS = frozenset(("description", "maintenance_reason", "last_error"))


def _text(value: str | None) -> str | None:
    return None if value is None else masking.mask_text(value)


def node_fields(node: Node, names: list[str], base: str | None = None) -> dict[str, Any]:
    """The ``names`` (all in :data:`PLAIN_FIELDS`) of ``node``, and its links."""
    data: dict[str, Any] = {
        name: _text(getattr(node, name)) if name in TEXT_FIELDS else getattr(node, name)
        for name in names
    }
    data["links"] = resource_links("nodes", node.uuid, base)
    return data


def node_summary(node: Node, base: str | None = None) -> dict[str, Any]:
    """The short form used by ``GET /v1/nodes``."""
    data: dict[str, Any] = {field: getattr(node, field) for field in LIST_FIELDS}
    data["links"] = resource_links("nodes", node.uuid, base)
    return data


def node_detail(node: Node, conductor: str | None, base: str | None = None) -> dict[str, Any]:
    """Every field, with secrets masked, as ``GET /v1/nodes/<id>`` returns it."""
    base = url_base() if base is None else base
    data: dict[str, Any] = {
        "uuid": node.uuid,
        "name": node.name,
        "driver": node.driver,
        "driver_info": masking.mask(node.driver_info or {}),
        "driver_internal_info": masking.mask(node.driver_internal_info or {}),
        "properties": masking.mask(node.properties or {}),
        "extra": masking.mask(node.extra or {}),
        "instance_info": masking.mask(node.instance_info or {}),
        "instance_uuid": node.instance_uuid,
        "conductor_group": node.conductor_group,
        "conductor": conductor,
        "resource_class": node.resource_class,
        "description": _text(node.description),
        "owner": node.owner,
        "lessee": node.lessee,
        "power_state": node.power_state,
        "target_power_state": node.target_power_state,
        "provision_state": node.provision_state,
        "target_provision_state": node.target_provision_state,
        "provision_updated_at": iso(node.provision_updated_at),
        "maintenance": node.maintenance,
        "maintenance_reason": _text(node.maintenance_reason),
        "fault": node.fault,
        "last_error": _text(node.last_error),
        "reservation": node.reservation,
        "console_enabled": False,
        "protected": False,
        "protected_reason": None,
        "retired": False,
        "retired_reason": None,
        "automated_clean": None,
        "traits": [],
        "network_data": {},
        "created_at": iso(node.created_at),
        "updated_at": iso(node.updated_at),
        "links": resource_links("nodes", node.uuid, base),
        "ports": resource_links("nodes", f"{node.uuid}/ports", base),
        "states": resource_links("nodes", f"{node.uuid}/states", base),
    }
    defaults = interface_defaults(node.driver)
    for kind in DEFAULTED_INTERFACES:
        data[f"{kind}_interface"] = defaults.get(kind)
    settings = get_settings()
    data["network_interface"] = node.network_interface or settings.enabled_network_interfaces[0]
    data["storage_interface"] = node.storage_interface or settings.enabled_storage_interfaces[0]
    return data


def node_states(node: Node) -> dict[str, Any]:
    """``GET /v1/nodes/<id>/states``."""
    return {
        "power_state": node.power_state,
        "target_power_state": node.target_power_state,
        "provision_state": node.provision_state,
        "target_provision_state": node.target_provision_state,
        "provision_updated_at": iso(node.provision_updated_at),
        "last_error": _text(node.last_error),
        "console_enabled": False,
        "raid_config": {},
        "target_raid_config": {},
    }
