"""Node bodies in and out: field validation and Ironic's JSON shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from app import exceptions, states
from app.api.drivers_cache import interface_defaults
from app.api.utils import check_uuid, iso, mask_secrets, resource_links
from app.api.versions import requested_at_least, url_base
from app.config import get_settings
from app.db.nodes import NodeRecord

_NAME_RE = re.compile(r"^[A-Za-z0-9\-._~]+$")
_DICT_FIELDS = ("driver_info", "properties", "extra", "instance_info")
_STR_FIELDS = {
    "driver": 255,
    "conductor_group": 255,
    "resource_class": 80,
    "description": 4096,
    "owner": 255,
    "lessee": 255,
}
_INTERFACE_FIELDS = ("network_interface", "storage_interface")
#: Fields a user may set (on create and through PATCH).
WRITABLE = frozenset(("name", "instance_uuid", *_DICT_FIELDS, *_STR_FIELDS, *_INTERFACE_FIELDS))
CREATE_FIELDS = WRITABLE | {"uuid"}
LIST_FIELDS = ("uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance")


def _check_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or len(name) > 255:
        raise exceptions.InvalidParameterValue(
            reason=f"name {name!r} is invalid: use 1-255 of the characters A-Z a-z 0-9 - . _ ~"
        )
    try:
        check_uuid(name, "name")
    except exceptions.Invalid:
        return name
    raise exceptions.InvalidParameterValue(reason=f"name {name!r} must not be a UUID")


def _check_interface(field: str, value: Any) -> str | None:
    if value is None:
        return None
    kind = field.removesuffix("_interface")
    known = sorted(ep.name for ep in entry_points(group=f"ironworks.hardware.interfaces.{kind}"))
    if value not in known:
        raise exceptions.InvalidParameterValue(
            reason=f"{field} {value!r} is not available; available: {', '.join(known)}"
        )
    return str(value)


def _checker(field: str) -> Callable[[Any], Any]:
    if field == "name":
        return _check_name
    if field in _INTERFACE_FIELDS:
        return lambda v: _check_interface(field, v)
    if field in ("uuid", "instance_uuid"):
        return lambda v: None if v is None else check_uuid(v, field)
    if field in _DICT_FIELDS:
        return lambda v: _check_dict(field, v)
    max_len = _STR_FIELDS[field]
    return lambda v: _check_str(field, v, max_len)


def _check_dict(field: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise exceptions.InvalidParameterValue(reason=f"{field} must be a JSON object")
    return value


def _check_str(field: str, value: Any, max_len: int) -> str | None:
    if value is None:
        if field == "driver":
            raise exceptions.MissingParameterValue(name="driver")
        return "" if field == "conductor_group" else None
    if not isinstance(value, str) or len(value) > max_len:
        raise exceptions.InvalidParameterValue(
            reason=f"{field} must be a string of at most {max_len} characters"
        )
    return value.lower() if field == "conductor_group" else value


def check_values(values: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Validate the given fields; unknown or read-only ones are a 400 naming them."""
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise exceptions.InvalidParameterValue(
            reason=f"unknown or read-only node fields: {', '.join(unknown)}"
        )
    return {field: _checker(field)(value) for field, value in values.items()}


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """Check a node create body field by field; returns the values to store."""
    if not isinstance(body.get("driver"), str) or not body["driver"]:
        raise exceptions.MissingParameterValue(name="driver")
    values = check_values(body, CREATE_FIELDS)
    values.setdefault("conductor_group", "")
    values["provision_state"] = states.ENROLL if requested_at_least(11) else states.AVAILABLE
    return values


def patchable(node: NodeRecord) -> dict[str, Any]:
    """The node as JSON Patch sees it: real (unmasked) values of every exposed field."""
    doc = {field: getattr(node, field) for field in WRITABLE}
    for field in _DICT_FIELDS:
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

#: Fields shown exactly as stored: ``fields=`` made of these alone is served from those
#: columns only (no JSON columns decoded, nothing masked, no ring lookup).
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


def node_fields(node: NodeRecord, names: list[str], base: str | None = None) -> dict[str, Any]:
    """The ``names`` (all in :data:`PLAIN_FIELDS`) of ``node``, and its links."""
    data: dict[str, Any] = {name: getattr(node, name) for name in names}
    data["links"] = resource_links("nodes", node.uuid, base)
    return data


def node_summary(node: NodeRecord, base: str | None = None) -> dict[str, Any]:
    """The short form used by ``GET /v1/nodes``."""
    data: dict[str, Any] = {field: getattr(node, field) for field in LIST_FIELDS}
    data["links"] = resource_links("nodes", node.uuid, base)
    return data


def node_detail(node: NodeRecord, conductor: str | None, base: str | None = None) -> dict[str, Any]:
    """Every field, with secrets masked, as ``GET /v1/nodes/<id>`` returns it."""
    base = url_base() if base is None else base
    data: dict[str, Any] = {
        "uuid": node.uuid,
        "name": node.name,
        "driver": node.driver,
        "driver_info": mask_secrets(node.driver_info or {}),
        "driver_internal_info": mask_secrets(node.driver_internal_info or {}),
        "properties": node.properties or {},
        "extra": node.extra or {},
        "instance_info": mask_secrets(node.instance_info or {}),
        "instance_uuid": node.instance_uuid,
        "conductor_group": node.conductor_group,
        "conductor": conductor,
        "resource_class": node.resource_class,
        "description": node.description,
        "owner": node.owner,
        "lessee": node.lessee,
        "power_state": node.power_state,
        "target_power_state": node.target_power_state,
        "provision_state": node.provision_state,
        "target_provision_state": node.target_provision_state,
        "provision_updated_at": iso(node.provision_updated_at),
        "maintenance": node.maintenance,
        "maintenance_reason": node.maintenance_reason,
        "fault": node.fault,
        "last_error": node.last_error,
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


def node_states(node: NodeRecord) -> dict[str, Any]:
    """``GET /v1/nodes/<id>/states``."""
    return {
        "power_state": node.power_state,
        "target_power_state": node.target_power_state,
        "provision_state": node.provision_state,
        "target_provision_state": node.target_provision_state,
        "provision_updated_at": iso(node.provision_updated_at),
        "last_error": node.last_error,
        "console_enabled": False,
        "raid_config": {},
        "target_raid_config": {},
    }
