"""``/v1/conductors``: the registered conductors and whether they are alive."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_restx import Namespace, Resource, fields

from app import exceptions
from app.api import schemas
from app.api.utils import bool_arg, fields_arg, iso, limit_arg, resource_links, select_fields
from app.config import get_settings
from app.db import conductors as conductor_db
from app.db.models import Conductor

ns = Namespace("conductors", description="Conductor services", path="/conductors")
conductor_model = ns.model(
    "Conductor",
    {
        "hostname": fields.String(required=True),
        "conductor_group": fields.String(required=True),
        "alive": fields.Boolean(required=True),
        "drivers": fields.List(fields.String),
        "last_heartbeat": schemas.NullableString(),
        "created_at": schemas.NullableString(),
        "updated_at": schemas.NullableString(),
        "links": schemas.links(),
    },
)
conductor_list = ns.model(
    "ConductorList", {"conductors": fields.List(fields.Nested(conductor_model), required=True)}
)
schemas.register(ns)


def conductor_view(row: Conductor, alive: bool) -> dict[str, Any]:
    return {
        "hostname": row.hostname,
        "conductor_group": row.conductor_group,
        "alive": alive,
        "drivers": row.hardware_types,
        "last_heartbeat": iso(row.heartbeat_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.heartbeat_at),
        "links": resource_links("conductors", row.hostname),
    }


_SORT_KEYS = ("hostname", "conductor_group", "created_at", "updated_at")


def _timeout() -> float:
    return get_settings().heartbeat_timeout


def _page(views: list[dict[str, Any]], limit: int, marker: str | None) -> list[dict[str, Any]]:
    """``sort_key``/``sort_dir`` order, after the conductor ``marker``, at most ``limit``."""
    key = request.args.get("sort_key", "hostname")
    if key not in _SORT_KEYS:
        raise exceptions.InvalidParameterValue(
            reason=f"cannot sort conductors on {key!r}; sortable: {', '.join(_SORT_KEYS)}"
        )
    direction = request.args.get("sort_dir", "asc")
    if direction not in ("asc", "desc"):
        raise exceptions.InvalidParameterValue(reason="sort_dir must be 'asc' or 'desc'")
    views.sort(key=lambda v: (v[key] or "", v["hostname"]), reverse=direction == "desc")
    if marker is not None:
        names = [v["hostname"] for v in views]
        if marker not in names:
            raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not a conductor")
        views = views[names.index(marker) + 1 :]
    return views[:limit]


@ns.route("")
@schemas.documented(ns)
class ConductorCollection(Resource):
    @ns.doc(
        params={
            **schemas.LIST_QUERY,
            **schemas.query(
                sort_key=("string", "hostname, conductor_group, created_at or updated_at"),
                sort_dir=("string", "asc or desc"),
            ),
        }
    )
    @ns.response(200, "The conductors", conductor_list)
    def get(self) -> dict[str, Any]:
        """List conductors (alive = online with a fresh heartbeat), by hostname; every field
        is shown, ``detail`` or not; ``fields`` selects."""
        bool_arg("detail")  # checked; the shape is always the detailed one
        views = [conductor_view(r, up) for r, up in conductor_db.list_conductors(_timeout())]
        views = _page(views, limit_arg(), request.args.get("marker"))
        wanted = fields_arg()
        return {"conductors": [select_fields(view, wanted) for view in views]}


@ns.route("/<string:hostname>")
@schemas.documented(ns, 404)
class ConductorItem(Resource):
    @ns.doc(params={"fields": schemas.LIST_QUERY["fields"]})
    @ns.response(200, "The conductor", conductor_model)
    def get(self, hostname: str) -> dict[str, Any]:
        """Show one conductor (``fields`` selects)."""
        for row, alive in conductor_db.list_conductors(_timeout()):
            if row.hostname == hostname:
                return select_fields(conductor_view(row, alive), fields_arg())
        raise exceptions.ConductorNotFound(conductor=hostname)
