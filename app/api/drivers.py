"""``/v1/drivers``: hardware types loaded by live conductors, with their hosts."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource

from app import exceptions
from app.api import drivers_cache
from app.api.utils import resource_links
from app.hash_ring import get_ring_manager

ns = Namespace("drivers", description="Hardware types", path="/drivers")


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
class DriverCollection(Resource):
    def get(self) -> dict[str, Any]:
        """List hardware types that at least one live conductor has loaded."""
        hosts = _hosts_by_driver()
        return {"drivers": [driver_view(name, hosts[name]) for name in sorted(hosts)]}


@ns.route("/<string:name>")
class DriverItem(Resource):
    def get(self, name: str) -> dict[str, Any]:
        """Show one hardware type."""
        hosts = _hosts_by_driver()
        if name not in hosts:
            raise exceptions.NotFound(f"Driver {name} could not be found.")
        return driver_view(name, hosts[name])


@ns.route("/<string:name>/properties")
class DriverProperties(Resource):
    def get(self, name: str) -> dict[str, str]:
        """The ``driver_info`` keys the hardware type reads, with descriptions."""
        return drivers_cache.properties(name)
