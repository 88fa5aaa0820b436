"""What the OpenAPI document (``/v1/swagger.json``) says the API answers.

The models here only document: resources build their answers themselves (Ironic's shapes,
``node_views``), and ``tests/test_schemathesis.py`` checks every answer against these
schemas, so they must stay true. Swagger 2.0 has no ``null`` type: fields that can be
``null`` carry ``x-nullable``. No field of a node or port is marked required because
``fields=`` may select any subset.

Every operation can answer, in Ironic's error format (:data:`ERROR`): 400 (a NUL in the
URL, a bad query argument), 406 (an unsupported microversion) and 503 (the database is
unavailable); :func:`documented` declares those and the operation's own error codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_restx import Model, Namespace, SchemaModel, fields

from app import node_fields

T = TypeVar("T")

_REASONS = {
    400: "Invalid request (body, URL or query argument)",
    401: "No valid credentials (http_basic); answered with WWW-Authenticate",
    403: "The caller's role does not allow this (http_basic), or noauth off loopback",
    404: "No such resource",
    406: "Unsupported API microversion",
    409: "Conflict: the resource is locked, busy or already exists",
    413: "Request body larger than the limit",
    415: "Request body is not application/json",
    429: "Too many failed logins from this client or for this user; see Retry-After",
    503: "Temporarily unavailable (no live conductor, broker or database); retry",
}
#: Answers any operation can give.
COMMON_ERRORS = (400, 401, 403, 406, 429, 503)
#: Answers any operation that reads a request body can add.
BODY_ERRORS = (413, 415)


class _Nullable(fields.Raw):
    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().schema()
        schema["x-nullable"] = True
        return schema


class NullableString(_Nullable, fields.String):
    """A string or ``null``."""


class NullableBoolean(_Nullable, fields.Boolean):
    """A boolean or ``null``."""


class AnyValue(fields.Raw):
    """Any JSON value (Swagger 2.0: a schema without ``type``)."""

    __schema_type__ = None


ERROR = Model(
    "Error",
    {
        "error_message": fields.String(
            required=True,
            description='JSON text: {"faultstring": ..., "faultcode": ..., "debuginfo": null}',
        )
    },
    strict=True,
)
LINK = Model("Link", {"href": fields.String(required=True), "rel": fields.String(required=True)})


def links(description: str = "Links") -> fields.List:
    return fields.List(fields.Nested(LINK), description=description)


PATCH_OP = Model(
    "PatchOperation",
    {
        "op": fields.String(
            required=True, enum=["add", "replace", "remove", "move", "copy", "test"]
        ),
        "path": fields.String(required=True, example="/extra/rack"),
        "from": fields.String(description="For move and copy"),
        "value": AnyValue(),
    },
)


def register(ns: Namespace, *models: Model | SchemaModel) -> None:
    """Make ``models`` (and the shared error and link models) known to ``ns``'s API."""
    for model in (ERROR, LINK, *models):
        ns.add_model(model.name, model)


def documented(ns: Namespace, *codes: int) -> Callable[[T], T]:
    """Declare the error answers ``codes`` (and :data:`COMMON_ERRORS`) on a resource class
    or method."""

    def decorate(target: T) -> T:
        for code in sorted({*COMMON_ERRORS, *codes}):
            target = ns.response(code, _REASONS[code], ERROR)(target)
        return target

    return decorate


def query(**params: tuple[str, str]) -> dict[str, dict[str, str]]:
    """``@ns.doc(params=query(limit=("integer", "..."), ...))``: query parameters."""
    return {
        name: {"in": "query", "type": kind, "description": text}
        for name, (kind, text) in params.items()
    }


LIST_QUERY = query(
    limit=("integer", f"Page size (at most {1000}; 0 means the maximum)"),
    marker=("string", "UUID of the last item of the previous page"),
    fields=("string", "Comma-separated fields to return"),
    detail=("boolean", "Every field of each item"),
)

_NODE_STRINGS = ("uuid", "driver", "conductor_group", "provision_state")
_NODE_NULLABLE = (
    "name",
    "instance_uuid",
    "conductor",
    "resource_class",
    "description",
    "owner",
    "lessee",
    "power_state",
    "target_power_state",
    "target_provision_state",
    "provision_updated_at",
    "maintenance_reason",
    "fault",
    "last_error",
    "reservation",
    "protected_reason",
    "retired_reason",
    "created_at",
    "updated_at",
    "boot_mode",
    "shard",
    "parent_node",
    "chassis_uuid",
    "allocation_uuid",
    "inspection_started_at",
    "inspection_finished_at",
)
_NODE_OBJECTS = (
    "driver_info",
    "driver_internal_info",
    "properties",
    "extra",
    "instance_info",
    "network_data",
    "clean_step",
    "deploy_step",
    "service_step",
    "raid_config",
    "target_raid_config",
)


def _node_fields() -> dict[str, fields.Raw]:
    spec: dict[str, fields.Raw] = {name: fields.String() for name in _NODE_STRINGS}
    spec.update({name: NullableString() for name in _NODE_NULLABLE})
    spec.update({name: fields.Raw() for name in _NODE_OBJECTS})
    spec.update({name: NullableString() for name in node_fields.INTERFACE_FIELDS})
    spec.update(
        {
            name: fields.Boolean()
            for name in ("maintenance", "console_enabled", "protected", "disable_power_off")
        }
    )
    spec.update(
        retired=fields.Boolean(),
        automated_clean=NullableBoolean(),
        secure_boot=NullableBoolean(),
        traits=fields.List(fields.String),
        links=links(),
        ports=links("The node's ports"),
        states=links("The node's states"),
    )
    return spec


NODE = Model("Node", _node_fields())
NODE_LIST = Model(
    "NodeList",
    {"nodes": fields.List(fields.Nested(NODE), required=True), "next": fields.String()},
)
NODE_STATES = Model(
    "NodeStates",
    {
        **{
            name: NullableString()
            for name in (
                "power_state",
                "target_power_state",
                "target_provision_state",
                "provision_updated_at",
                "last_error",
                "boot_mode",
            )
        },
        "provision_state": fields.String(required=True),
        "console_enabled": fields.Boolean(),
        "secure_boot": NullableBoolean(),
        "raid_config": fields.Raw(),
        "target_raid_config": fields.Raw(),
    },
)
# A map of names to values is a raw schema: flask-restx renders a Wildcard field as a
# property literally named "*".
NODE_VALIDATE = SchemaModel(
    "NodeValidation",
    {
        "type": "object",
        "description": "One entry per interface type",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "result": {"type": "boolean", "x-nullable": True},
                "reason": {"type": "string", "x-nullable": True},
            },
        },
    },
)
DRIVER_PROPERTIES = SchemaModel(
    "DriverProperties",
    {
        "type": "object",
        "description": "driver_info keys and what each means",
        "additionalProperties": {"type": "string"},
    },
)
EVENT = Model(
    "NodeEvent",
    {
        "uuid": fields.String(),
        "created_at": NullableString(),
        "severity": fields.String(),
        "event_type": fields.String(),
        "event": fields.String(),
        "conductor": NullableString(),
        "user": NullableString(),
        "links": fields.Raw(),
    },
)
NODE_HISTORY = Model("NodeHistory", {"history": fields.List(fields.Nested(EVENT))})
NODE_SENSORS = Model(
    "NodeSensors",
    {
        "node_uuid": fields.String(required=True),
        "sensors": fields.Raw(required=True),
        "collected_at": NullableString(),
        "conductor": NullableString(),
    },
)
