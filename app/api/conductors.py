"""``/v1/conductors``: the registered conductors and whether they are alive."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from app import exceptions
from app.api import schemas
from app.api.utils import iso, resource_links
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


@ns.route("")
@schemas.documented(ns)
class ConductorCollection(Resource):
    @ns.response(200, "The conductors", conductor_list)
    def get(self) -> dict[str, Any]:
        """List conductors (alive = online with a fresh heartbeat)."""
        rows = conductor_db.list_conductors(get_settings().heartbeat_timeout)
        return {"conductors": [conductor_view(row, alive) for row, alive in rows]}


@ns.route("/<string:hostname>")
@schemas.documented(ns, 404)
class ConductorItem(Resource):
    @ns.response(200, "The conductor", conductor_model)
    def get(self, hostname: str) -> dict[str, Any]:
        """Show one conductor."""
        for row, alive in conductor_db.list_conductors(get_settings().heartbeat_timeout):
            if row.hostname == hostname:
                return conductor_view(row, alive)
        raise exceptions.ConductorNotFound(conductor=hostname)
