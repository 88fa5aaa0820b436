"""``/v1/drivers``: hardware types loaded by live conductors, with their hosts."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from app import exceptions
from app.api import drivers_cache, schemas
from app.api.utils import resource_links
from app.hash_ring import get_ring_manager

ns = Namespace("drivers", description="Hardware types", path="/drivers")
driver_model = ns.model(
    "Driver",
    {
        "name": fields.String(required=True),
        "hosts": fields.List(fields.String, required=True),
        "type": fields.String(),
        "links": schemas.links(),
        "properties": schemas.links("The driver's properties"),
    },
)
driver_list = ns.model(
    "DriverList", {"drivers": fields.List(fields.Nested(driver_model), required=True)}
)
schemas.register(ns, schemas.DRIVER_PROPERTIES)


def _hosts_by_driver() -> dict[str, set[str]]:
    hosts: dict[str, set[str]] = {}
    for (_group, driver), members in get_ring_manager().members().items():
        hosts.setdefault(driver, set()).update(members)
    return hosts


def driver_view(name: str, hosts: set[str]) -> dict[str, Any]:
    return {
        "name": name,
        "hosts": sorted(hosts),
        "type": "dynamic",
        "links": resource_links("drivers", name),
        "properties": resource_links("drivers", f"{name}/properties"),
    }


@ns.route("")
@schemas.documented(ns)
class DriverCollection(Resource):
    @ns.response(200, "The hardware types", driver_list)
    def get(self) -> dict[str, Any]:
        """List hardware types that at least one live conductor has loaded."""
        hosts = _hosts_by_driver()
        return {"drivers": [driver_view(name, hosts[name]) for name in sorted(hosts)]}


@ns.route("/<string:name>")
@schemas.documented(ns, 404)
class DriverItem(Resource):
    @ns.response(200, "The hardware type", driver_model)
    def get(self, name: str) -> dict[str, Any]:
        """Show one hardware type."""
        hosts = _hosts_by_driver()
        if name not in hosts:
            raise exceptions.NotFound(f"Driver {name} could not be found.")
        return driver_view(name, hosts[name])


@ns.route("/<string:name>/properties")
@schemas.documented(ns, 404)
class DriverProperties(Resource):
    @ns.response(200, "driver_info keys and their descriptions", schemas.DRIVER_PROPERTIES)
    def get(self, name: str) -> dict[str, str]:
        """The ``driver_info`` keys the hardware type reads, with descriptions."""
        return drivers_cache.properties(name)
