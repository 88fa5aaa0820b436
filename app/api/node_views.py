"""Node bodies in and out: field validation and Ironic's JSON shapes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g

from app import exceptions, masking, node_fields, node_rules, states
from app.api.drivers_cache import enabled_interfaces
from app.api.utils import iso, resource_links
from app.api.versions import MIN_VERSION, requested_at_least, url_base
from app.db import nodes as node_db
from app.db import stores
from app.db import traits as trait_db
from app.db.models import Node

LIST_FIELDS = ("uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance")


def api_minor() -> int:
    return int(getattr(g, "api_version", MIN_VERSION)[1])


def check_version(names: Iterable[str]) -> None:
    """A node field newer than the request's microversion is a 406, as in Ironic."""
    newer = node_fields.newer_than(api_minor(), names)
    if newer:
        raise exceptions.NotAcceptable(
            reason=f"{', '.join(newer)} need a newer API version than 1.{api_minor()}"
        )


def validate_create(body: dict[str, Any]) -> dict[str, Any]:
    """Check a node create body field by field; returns the values to store."""
    if not isinstance(body.get("driver"), str) or not body["driver"]:
        raise exceptions.MissingParameterValue(name="driver")
    check_version(body)
    values = node_fields.check_values(body, node_fields.CREATE_FIELDS)
    values.setdefault("conductor_group", "")
    values["provision_state"] = states.ENROLL if requested_at_least(11) else states.AVAILABLE
    return node_rules.check_create(resolve_references(values), enabled_interfaces)


def resolve_references(values: dict[str, Any]) -> dict[str, Any]:
    """``parent_node`` (a UUID or name) as the parent's UUID, ``chassis_uuid`` as the
    chassis's; either missing is a 400, as in Ironic."""
    if values.get("chassis_uuid") is not None:
        values["chassis_uuid"] = stores.chassis_uuid(values["chassis_uuid"])
    parent = values.get("parent_node")
    if parent is not None:
        try:
            values["parent_node"] = node_db.get(parent).uuid
        except exceptions.NodeNotFound:
            raise exceptions.InvalidParameterValue(
                reason=f"parent_node {parent!r} is not a node"
            ) from None
    return values


def patchable(node: Node) -> dict[str, Any]:
    """The node as JSON Patch sees it: real (unmasked) values of every exposed field."""
    doc = {field: getattr(node, field, None) for field in node_fields.WRITABLE}
    for field in node_fields.DICT_FIELDS:
        doc[field] = dict(doc[field] or {})
    return doc


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
        "reservation",
        "automated_clean",
        "protected",
        "retired",
        "disable_power_off",
        "boot_mode",
        "secure_boot",
        "shard",
        "parent_node",
        "chassis_uuid",
        "allocation_uuid",
    )
)


#: Free texts a user or a BMC writes, where a credential can hide (:func:`masking.mask_text`).
TEXT_FIELDS = frozenset(
    ("description", "maintenance_reason", "last_error", "protected_reason", "retired_reason")
)
#: JSON documents shown with their secrets masked, and those shown as they are.
_MASKED_DOCUMENTS = ("driver_info", "driver_internal_info", "properties", "extra", "instance_info")
_DOCUMENTS = (
    "network_data",
    "clean_step",
    "deploy_step",
    "service_step",
    "raid_config",
    "target_raid_config",
)
_TIMES = (
    "created_at",
    "updated_at",
    "provision_updated_at",
    "inspection_started_at",
    "inspection_finished_at",
)


def _text(value: str | None) -> str | None:
    return None if value is None else masking.mask_text(value)


def node_columns(node: Node, names: list[str], base: str | None = None) -> dict[str, Any]:
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


_INTERFACES = tuple(zip(node_fields.INTERFACE_KINDS, node_fields.INTERFACE_FIELDS, strict=True))
_PLAIN_SHOWN = tuple(PLAIN_FIELDS - TEXT_FIELDS)


def interfaces_of(node: Node) -> dict[str, str | None]:
    """``{<kind>_interface: name}``: the node's choice, else its hardware type's default."""
    defaults = enabled_interfaces(node.driver)
    stored = node.__dict__
    return {
        field: stored.get(field) or next(iter(defaults.get(kind, [])), None)
        for kind, field in _INTERFACES
    }


def node_detail(
    node: Node, conductor: str | None, base: str | None = None, traits: list[str] | None = None
) -> dict[str, Any]:
    """Every field the request's microversion knows, with secrets masked, as
    ``GET /v1/nodes/<id>`` returns it. ``traits`` are read here unless given (listings read
    them for every node at once)."""
    base = url_base() if base is None else base
    # The columns as read (``app/db/nodes.as_node`` fills ``__dict__``): going through the
    # ORM's attribute descriptors for ~70 fields cost a third of a 1,000-node listing.
    row = node.__dict__
    data: dict[str, Any] = {
        **{name: row.get(name) for name in _PLAIN_SHOWN},
        **{name: _text(row.get(name)) for name in TEXT_FIELDS},
        **{name: masking.mask(row.get(name) or {}) for name in _MASKED_DOCUMENTS},
        **{name: row.get(name) or {} for name in _DOCUMENTS},
        **{name: iso(row.get(name)) for name in _TIMES},
        **interfaces_of(node),
        "conductor": conductor,
        "console_enabled": False,
        "traits": trait_db.of_nodes([node.id])[node.id] if traits is None else traits,
        "links": resource_links("nodes", node.uuid, base),
        "ports": resource_links("nodes", f"{node.uuid}/ports", base),
        "states": resource_links("nodes", f"{node.uuid}/states", base),
    }
    return gated(data)


def gated(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the fields newer than the request's microversion."""
    for name in node_fields.hidden_at(api_minor()) & data.keys():
        del data[name]
    return data


def node_states(node: Node) -> dict[str, Any]:
    """``GET /v1/nodes/<id>/states``."""
    return gated(
        {
            "power_state": node.power_state,
            "target_power_state": node.target_power_state,
            "provision_state": node.provision_state,
            "target_provision_state": node.target_provision_state,
            "provision_updated_at": iso(node.provision_updated_at),
            "last_error": _text(node.last_error),
            "console_enabled": False,
            "raid_config": node.raid_config or {},
            "target_raid_config": node.target_raid_config or {},
            "boot_mode": node.boot_mode,
            "secure_boot": node.secure_boot,
        }
    )
