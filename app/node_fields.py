"""Which node fields a user may set, and what values they take.

One check shared by the API (``POST /v1/nodes``, ``PATCH``) and the conductor
(``ConductorManager.create_node`` / ``update_node``), so a node is held to the same rules
whoever writes it. Every refusal is an :class:`~app.exceptions.InvalidParameterValue` (400)
naming the field.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from app import exceptions


def check_uuid(value: str, what: str) -> str:
    """``value`` as a canonical UUID string; a 400 naming ``what`` if it is none."""
    try:
        return str(uuidlib.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise exceptions.InvalidParameterValue(reason=f"{what} {value!r} is not a UUID") from None


_NAME_RE = re.compile(r"^[A-Za-z0-9\-._~]+$")
DICT_FIELDS = ("driver_info", "properties", "extra", "instance_info")
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
WRITABLE = frozenset(("name", "instance_uuid", *DICT_FIELDS, *_STR_FIELDS, *_INTERFACE_FIELDS))
CREATE_FIELDS = WRITABLE | {"uuid"}


#: Names a node cannot be reached by: ``/v1/nodes/detail`` is the detailed list, and
#: ``.`` and ``..`` are path segments that clients and proxies resolve away.
UNREACHABLE_NAMES = frozenset(("detail", ".", ".."))


def _check_name(name: Any) -> str | None:
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
    if field in DICT_FIELDS:
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
