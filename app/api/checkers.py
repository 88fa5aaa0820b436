"""Field checks for the plain resources: each takes the value a client sent and returns the
value to store, or raises a 400 naming the field (never echoing a long value)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app import exceptions
from app.node_fields import check_uuid, to_bool

Checker = Callable[[Any], Any]


def text(name: str, max_len: int, nullable: bool = True) -> Checker:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value or len(value) > max_len:
            raise exceptions.InvalidParameterValue(
                reason=f"{name} must be a string of 1 to {max_len} characters"
            )
        return value

    return check


def one_of(name: str, allowed: tuple[str, ...]) -> Checker:
    def check(value: Any) -> str:
        if value not in allowed:
            raise exceptions.InvalidParameterValue(
                reason=f"{name} must be one of: {', '.join(allowed)}"
            )
        return str(value)

    return check


def json_object(name: str) -> Checker:
    def check(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise exceptions.InvalidParameterValue(reason=f"{name} must be a JSON object")
        return value

    return check


def integer(name: str, minimum: int = 0) -> Checker:
    def check(value: Any) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise exceptions.InvalidParameterValue(
                reason=f"{name} must be an integer of at least {minimum}"
            )
        return value

    return check


def boolean(name: str) -> Checker:
    return lambda value: to_bool(name, value)


def uuid(name: str) -> Checker:
    return lambda value: check_uuid(value, name)


def node_ref(value: Any) -> str:
    """A node's UUID or name; the write's transaction resolves it (400 if there is none)."""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise exceptions.InvalidParameterValue(reason="node_uuid must be a node UUID or name")
    return value
