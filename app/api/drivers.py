"""``/v1/drivers``: hardware types loaded by live conductors, with their hosts."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_restx import Namespace, Resource, fields

from app import exceptions
from app.api import drivers_cache, schemas
from app.api.utils import bool_arg, resource_links
from app.api.versions import requested_at_least
from app.hash_ring import get_ring_manager

#: The interface kinds a driver shows at >= 1.30, in Ironic's order (firmware is 1.86).
_KINDS = (
    "bios",
    "boot",
    "console",
    "deploy",
    "inspect",
    "management",
    "network",
    "power",
    "raid",
    "rescue",
    "storage",
    "vendor",
)


ns = Namespace("drivers", description="Hardware types", path="/drivers")
driver_model = ns.model(
    "Driver",
    {
        "name": fields.String(required=True),
        "hosts": fields.List(fields.String, required=True),
        "type": fields.String(),
        "links": schemas.links(),
        "properties": schemas.links("The driver's properties"),
        **{f"default_{kind}_interface": schemas.NullableString() for kind in _KINDS},
        **{f"enabled_{kind}_interfaces": fields.List(fields.String) for kind in _KINDS},
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


def _interfaces(name: str) -> dict[str, Any]:
    """``default_<kind>_interface`` and ``enabled_<kind>_interfaces`` for every kind."""
    enabled = drivers_cache.enabled_interfaces(name)
    shown: dict[str, Any] = {}
    for kind in _KINDS:
        names = enabled.get(kind) or []
        shown[f"default_{kind}_interface"] = names[0] if names else None
        shown[f"enabled_{kind}_interfaces"] = list(names)
    return shown


def driver_view(name: str, hosts: set[str], detail: bool = True) -> dict[str, Any]:
    """Ironic's driver: at >= 1.30 with ``detail`` (always for one driver) its interfaces."""
    view: dict[str, Any] = {"name": name, "hosts": sorted(hosts), "type": "dynamic"}
    if detail and requested_at_least(30):
        view.update(_interfaces(name))
    view["links"] = resource_links("drivers", name)
    view["properties"] = resource_links("drivers", f"{name}/properties")
    return view


@ns.route("")
@schemas.documented(ns)
class DriverCollection(Resource):
    @ns.doc(
        params=schemas.query(
            type=("string", "dynamic (hardware types) or classic (none: Ironworks has none)"),
            detail=("boolean", "With each driver's interfaces (>= 1.30)"),
        )
    )
    @ns.response(200, "The hardware types", driver_list)
    def get(self) -> dict[str, Any]:
        """List hardware types that at least one live conductor has loaded."""
        detail = bool_arg("detail")
        kind = request.args.get("type")
        if (detail is not None or kind is not None) and not requested_at_least(30):
            raise exceptions.NotAcceptable(reason="type and detail need API version 1.30")
        if kind not in (None, "dynamic", "classic"):
            raise exceptions.InvalidParameterValue(reason="type must be dynamic or classic")
        hosts = {} if kind == "classic" else _hosts_by_driver()
        return {"drivers": [driver_view(name, hosts[name], bool(detail)) for name in sorted(hosts)]}


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
