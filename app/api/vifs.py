"""``/v1/nodes/<id>/vifs`` (1.28): attach and detach virtual interfaces, as Nova's ironic
driver does when it plugs an instance's Neutron ports. The node's network interface decides
what that means: ``flat`` records each VIF on a free port (``app/db/vifs.py``); ``noop``
accepts attach and detach and lists none, as Ironic's does."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_restx import Resource, fields

from app import exceptions
from app.api import nodes, schemas
from app.api.drivers_cache import tracks_vifs
from app.api.utils import json_body
from app.api.versions import requested_at_least, require
from app.db import nodes as node_db
from app.db import vifs as vif_db

ns = nodes.ns

vif_model = ns.model("Vif", {"id": fields.String(required=True, description="The VIF's ID")})
vif_list = ns.model("VifList", {"vifs": fields.List(fields.Nested(vif_model), required=True)})
vif_attach = ns.model(
    "VifAttach",
    {
        "id": fields.String(required=True, description="The VIF (Neutron port) ID"),
        "port_uuid": fields.String(description="The port to attach it to (1.67)"),
        "portgroup_uuid": fields.String(description="The port group to attach it to (1.67)"),
    },
    strict=True,
)


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or not value or len(value) > 255):
        raise exceptions.InvalidParameterValue(reason=f"{key} must be a non-empty string")
    return value


@ns.route("/<string:ident>/vifs")
@ns.param("ident", "Node UUID or name")
@schemas.documented(ns, 404)
class NodeVifs(Resource):
    @ns.response(200, "The VIFs attached to the node", vif_list)
    def get(self, ident: str) -> dict[str, Any]:
        """The VIFs attached to the node's ports."""
        require(28, "VIFs")
        if not tracks_vifs(node_db.get(ident)):
            return {"vifs": []}
        return {"vifs": [{"id": vif} for vif in vif_db.of_node(ident)]}

    @ns.expect(vif_attach, validate=False)
    @ns.response(204, "Attached")
    @schemas.documented(ns, 400, 409, *schemas.BODY_ERRORS)
    def post(self, ident: str) -> Response:
        """Attach a VIF to a free port of the node (PXE-enabled ports first)."""
        require(28, "VIFs")
        body = json_body()
        unknown = sorted(set(body) - {"id", "port_uuid", "portgroup_uuid"})
        if unknown:
            raise exceptions.InvalidParameterValue(reason=f"unknown fields: {', '.join(unknown)}")
        vif = _text(body, "id")
        if vif is None:
            raise exceptions.MissingParameterValue(name="id")
        port, group = _text(body, "port_uuid"), _text(body, "portgroup_uuid")
        if (port or group) and not requested_at_least(67):
            raise exceptions.NotAcceptable(reason="port_uuid and portgroup_uuid need 1.67")
        if port and group:
            raise exceptions.InvalidParameterValue(
                reason="give port_uuid or portgroup_uuid, not both"
            )
        if group:
            raise exceptions.InvalidParameterValue(reason=f"Portgroup {group} could not be found.")
        if tracks_vifs(node_db.get(ident)):
            vif_db.attach(ident, vif, port)
        return Response(status=204)


@ns.route("/<string:ident>/vifs/<string:vif>")
@ns.param("ident", "Node UUID or name")
@ns.param("vif", "The VIF's ID")
@schemas.documented(ns, 404)
class NodeVif(Resource):
    @ns.response(204, "Detached")
    @schemas.documented(ns, 400, 409)
    def delete(self, ident: str, vif: str) -> Response:
        """Detach a VIF from the node."""
        require(28, "VIFs")
        if tracks_vifs(node_db.get(ident)):
            vif_db.detach(ident, vif)
        return Response(status=204)
