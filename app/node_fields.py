"""Which node fields a user may set, and what values they take.

One check shared by the API (``POST /v1/nodes``, ``PATCH``) and the conductor
(``ConductorManager.create_node`` / ``update_node``), so a node is held to the same rules
whoever writes it. Every refusal is an :class:`~app.exceptions.InvalidParameterValue` (400)
naming the field.
"""

from __future__ import annotations

import functools
import re
import uuid as uuidlib
from collections.abc import Callable, Iterable
from typing import Any

from app import exceptions


def check_uuid(value: str, what: str) -> str:
    """``value`` as a canonical UUID string; a 400 naming ``what`` if it is none."""
    try:
        return str(uuidlib.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise exceptions.InvalidParameterValue(reason=f"{what} {value!r} is not a UUID") from None


_NAME_RE = re.compile(r"^[A-Za-z0-9\-._~]+$")
DICT_FIELDS = ("driver_info", "properties", "extra", "instance_info", "network_data")
_STR_FIELDS = {
    "driver": 255,
    "conductor_group": 255,
    "resource_class": 80,
    "description": 4096,
    "owner": 255,
    "lessee": 255,
    "maintenance_reason": 4096,
    "protected_reason": 4096,
    "retired_reason": 4096,
    "shard": 255,
}
#: Every interface type a node names an implementation of (``<kind>_interface``).
INTERFACE_KINDS = (
    "bios",
    "boot",
    "console",
    "deploy",
    "firmware",
    "inspect",
    "management",
    "network",
    "power",
    "raid",
    "rescue",
    "storage",
    "vendor",
)
INTERFACE_FIELDS = tuple(f"{kind}_interface" for kind in INTERFACE_KINDS)
#: Flags; ``automated_clean`` may also be null (the deployment's default applies).
BOOL_FIELDS = ("maintenance", "automated_clean", "protected", "retired", "disable_power_off")
#: Fields a user may set (on create and through PATCH).
WRITABLE = frozenset(
    (
        "name",
        "instance_uuid",
        "parent_node",
        "chassis_uuid",
        *DICT_FIELDS,
        *_STR_FIELDS,
        *INTERFACE_FIELDS,
        *BOOL_FIELDS,
    )
)
CREATE_FIELDS = WRITABLE | {"uuid"}

#: The microversion (1.N) that brought each node field, as Ironic gates them: a field
#: newer than the request's version is not shown, and asking for it or writing it is a 406.
FIELD_VERSIONS = {
    "driver_internal_info": 3,
    "name": 5,
    "inspection_finished_at": 6,
    "inspection_started_at": 6,
    "clean_step": 7,
    "raid_config": 12,
    "target_raid_config": 12,
    "network_interface": 20,
    "resource_class": 21,
    **{f"{kind}_interface": 31 for kind in ("boot", "console", "deploy", "inspect")},
    **{f"{kind}_interface": 31 for kind in ("management", "power", "raid", "vendor")},
    "storage_interface": 33,
    "traits": 37,
    "rescue_interface": 38,
    "bios_interface": 40,
    "fault": 42,
    "deploy_step": 44,
    "conductor_group": 46,
    "automated_clean": 47,
    "protected": 48,
    "protected_reason": 48,
    "conductor": 49,
    "owner": 50,
    "description": 51,
    "allocation_uuid": 52,
    "retired": 61,
    "retired_reason": 61,
    "lessee": 65,
    "network_data": 66,
    "boot_mode": 75,
    "secure_boot": 75,
    "shard": 82,
    "parent_node": 83,
    "firmware_interface": 86,
    "service_step": 87,
    "disable_power_off": 95,
}


@functools.cache
def hidden_at(minor: int) -> frozenset[str]:
    """The fields API version 1.``minor`` does not know yet."""
    return frozenset(name for name, since in FIELD_VERSIONS.items() if since > minor)


def newer_than(minor: int, names: Iterable[str]) -> list[str]:
    """The ``names`` that API version 1.``minor`` does not know yet."""
    return sorted(hidden_at(minor).intersection(names))


_TRUE = frozenset(("1", "t", "true", "on", "y", "yes"))
_FALSE = frozenset(("0", "f", "false", "off", "n", "no"))


def to_bool(field: str, value: Any) -> bool:
    """A JSON boolean, or a string Ironic accepts for one (``"true"``, ``"off"``...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise exceptions.InvalidParameterValue(reason=f"{field} must be a boolean, not {value!r}")


#: Names a node cannot be reached by: ``/v1/nodes/detail`` is the detailed list, and
#: ``.`` and ``..`` are path segments that clients and proxies resolve away.
UNREACHABLE_NAMES = frozenset(("detail", ".", ".."))


def check_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or len(name) > 255:
        raise exceptions.InvalidParameterValue(
            reason=f"name {name!r} is invalid: use 1-255 of the characters A-Z a-z 0-9 - . _ ~"
        )
    if name in UNREACHABLE_NAMES:
        raise exceptions.InvalidParameterValue(
            reason=f"name {name!r} is reserved: the node could not be reached by it"
        )
    try:
        check_uuid(name, "name")
    except exceptions.Invalid:
        return name
    raise exceptions.InvalidParameterValue(reason=f"name {name!r} must not be a UUID")


def _check_interface(field: str, value: Any) -> str | None:
    """The shape only: which names a node may use depends on its hardware type
    (:func:`check_interfaces`)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 255:
        raise exceptions.InvalidParameterValue(reason=f"{field} must be an interface name")
    return value


def check_interfaces(values: dict[str, Any], enabled: dict[str, list[str]]) -> None:
    """Each ``<kind>_interface`` in ``values`` is one ``enabled`` has for the node's
    hardware type (``{kind: [names]}``); a 400 naming the choices otherwise."""
    for kind in INTERFACE_KINDS:
        name = values.get(f"{kind}_interface")
        if name is not None and name not in enabled.get(kind, []):
            raise exceptions.InterfaceNotFound(
                interface=kind, name=name, available=", ".join(enabled.get(kind, [])) or "none"
            )


def _checker(field: str) -> Callable[[Any], Any]:
    if field == "name":
        return check_name
    if field in INTERFACE_FIELDS:
        return lambda v: _check_interface(field, v)
    if field in ("uuid", "instance_uuid"):
        return lambda v: None if v is None else check_uuid(v, field)
    if field in ("parent_node", "chassis_uuid"):
        return lambda v: _check_reference(field, v)
    if field in BOOL_FIELDS:
        return lambda v: _check_bool(field, v)
    if field in DICT_FIELDS:
        return lambda v: _check_dict(field, v)
    max_len = _STR_FIELDS[field]
    return lambda v: _check_str(field, v, max_len)


def _check_bool(field: str, value: Any) -> bool | None:
    if value is None:
        if field == "automated_clean":
            return None
        raise exceptions.InvalidParameterValue(reason=f"{field} cannot be null")
    return to_bool(field, value)


def _check_reference(field: str, value: Any) -> str | None:
    """A node (by UUID or name) or a chassis (by UUID); the API resolves which exists."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 255:
        raise exceptions.InvalidParameterValue(reason=f"{field} must be a UUID or a name")
    return value


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
