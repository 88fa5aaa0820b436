"""Node bodies in and out: validation of a create request and Ironic's JSON shapes."""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from typing import Any

from app import exceptions, states
from app.api.utils import check_uuid, iso, mask_secrets, resource_links
from app.api.versions import requested_at_least
from app.db.models import Node

_NAME_RE = re.compile(r"^[A-Za-z0-9\-._~]+$")
_DICT_FIELDS = ("driver_info", "properties", "extra", "instance_info")
_STR_FIELDS = {"driver": 255, "conductor_group": 255, "resource_class": 80}
_INTERFACE_FIELDS = ("network_interface", "storage_interface")
CREATE_FIELDS = frozenset(
    ("uuid", "name", *_DICT_FIELDS, *_STR_FIELDS, *_INTERFACE_FIELDS, "instance_uuid")
)

LIST_FIELDS = ("uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance")


def _check_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 255:
        raise exceptions.InvalidParameterValue(
            reason=f"name {name!r} is invalid: use 1-255 of the characters A-Z a-z 0-9 - . _ ~"
        )
    if _looks_like_uuid(name):
        raise exceptions.InvalidParameterValue(reason=f"name {name!r} must not be a UUID")
    return name


def _looks_like_uuid(value: str) -> bool:
    try:
        check_uuid(value, "name")
    except exceptions.Invalid:
        return False
    return True


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


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """Check a node create body field by field; returns the values to store."""
    unknown = sorted(set(body) - CREATE_FIELDS)
    if unknown:
        raise exceptions.InvalidParameterValue(
            reason=f"unknown or read-only node fields: {', '.join(unknown)}"
        )
    if not isinstance(body.get("driver"), str) or not body["driver"]:
        raise exceptions.MissingParameterValue(name="driver")
    values: dict[str, Any] = {"name": _check_name(body.get("name"))}
    for field, max_len in _STR_FIELDS.items():
        value = body.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > max_len):
            raise exceptions.InvalidParameterValue(
                reason=f"{field} must be a string of at most {max_len} characters"
            )
        if value is not None:
            values[field] = value
    for field in _DICT_FIELDS:
        value = body.get(field, {})
        if not isinstance(value, dict):
            raise exceptions.InvalidParameterValue(reason=f"{field} must be a JSON object")
        values[field] = value
    for field in ("uuid", "instance_uuid"):
        if body.get(field) is not None:
            values[field] = check_uuid(body[field], field)
    for field in _INTERFACE_FIELDS:
        values[field] = _check_interface(field, body.get(field))
    values["conductor_group"] = values.get("conductor_group", "").lower()
    values["provision_state"] = states.ENROLL if requested_at_least(11) else states.AVAILABLE
    return values


def node_summary(node: Node) -> dict[str, Any]:
    """The short form used by ``GET /v1/nodes``."""
    data: dict[str, Any] = {field: getattr(node, field) for field in LIST_FIELDS}
    data["links"] = resource_links("nodes", node.uuid)
    return data


def node_detail(node: Node, conductor: str | None) -> dict[str, Any]:
    """Every field, with secrets masked, as ``GET /v1/nodes/<id>`` returns it."""
    return {
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
        "network_interface": node.network_interface,
        "storage_interface": node.storage_interface,
        "power_state": node.power_state,
        "target_power_state": node.target_power_state,
        "provision_state": node.provision_state,
        "target_provision_state": node.target_provision_state,
        "provision_updated_at": iso(node.provision_updated_at),
        "maintenance": node.maintenance,
        "maintenance_reason": node.maintenance_reason,
        "last_error": node.last_error,
        "reservation": node.reservation,
        "console_enabled": False,
        "created_at": iso(node.created_at),
        "updated_at": iso(node.updated_at),
        "links": resource_links("nodes", node.uuid),
    }


def node_states(node: Node) -> dict[str, Any]:
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
