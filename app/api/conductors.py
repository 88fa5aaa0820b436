"""``/v1/conductors``: the registered conductors and whether they are alive."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource

from app import exceptions
from app.api.utils import iso, resource_links
from app.config import get_settings
from app.db import conductors as conductor_db
from app.db.models import Conductor

ns = Namespace("conductors", description="Conductor services", path="/conductors")


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
class ConductorCollection(Resource):
    def get(self) -> dict[str, Any]:
        """List conductors (alive = online with a fresh heartbeat)."""
        rows = conductor_db.list_conductors(get_settings().heartbeat_timeout)
        return {"conductors": [conductor_view(row, alive) for row, alive in rows]}


@ns.route("/<string:hostname>")
class ConductorItem(Resource):
    def get(self, hostname: str) -> dict[str, Any]:
        """Show one conductor."""
        for row, alive in conductor_db.list_conductors(get_settings().heartbeat_timeout):
            if row.hostname == hostname:
                return conductor_view(row, alive)
        raise exceptions.ConductorNotFound(conductor=hostname)
