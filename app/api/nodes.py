"""``/v1/nodes``: create, read, list, delete, and power state requests."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_restx import Namespace, Resource, fields

from app import exceptions, states
from app.api import node_views
from app.api.utils import bool_arg, json_body, limit_arg, next_link
from app.db import nodes as node_db
from app.db.models import Node
from app.hash_ring import get_ring_manager
from app.rpcapi import ConductorAPI

ns = Namespace("nodes", description="Bare-metal nodes", path="/nodes")

node_create = ns.model(
    "NodeCreate",
    {
        "driver": fields.String(required=True, example="fake-hardware"),
        "name": fields.String(description="Unique logical name (RFC 3986 unreserved)"),
        "uuid": fields.String(description="Optional UUID; generated when absent"),
        "driver_info": fields.Raw(description="Driver parameters (secrets masked on read)"),
        "properties": fields.Raw(),
        "extra": fields.Raw(),
        "instance_info": fields.Raw(),
        "conductor_group": fields.String(),
        "resource_class": fields.String(),
        "network_interface": fields.String(),
        "storage_interface": fields.String(),
    },
)
power_request = ns.model(
    "PowerRequest",
    {
        "target": fields.String(required=True, enum=list(states.POWER_TARGETS)),
        "timeout": fields.Integer(description="Seconds to wait for the BMC (optional)"),
    },
)

_FILTERS = {
    "provision_state": str,
    "driver": str,
    "resource_class": str,
    "conductor_group": str,
}


def owner_of(node: Node) -> str | None:
    try:
        return get_ring_manager().get_conductor(node.uuid, node.driver, node.conductor_group)
    except exceptions.NoLiveConductor:
        return None


def _known_drivers() -> list[str]:
    return sorted({driver for _group, driver in get_ring_manager().members()})


def _list(detail: bool) -> dict[str, Any]:
    filters: dict[str, Any] = {k: request.args[k] for k in _FILTERS if k in request.args}
    maintenance = bool_arg("maintenance")
    if maintenance is not None:
        filters["maintenance"] = maintenance
    limit = limit_arg()
    rows = node_db.list_nodes(filters, limit=limit, marker=request.args.get("marker"))
    items = [
        node_views.node_detail(n, owner_of(n)) if detail else node_views.node_summary(n)
        for n in rows
    ]
    body: dict[str, Any] = {"nodes": items}
    following = next_link("nodes/detail" if detail else "nodes", items, limit, "uuid")
    if following:
        body["next"] = following
    return body


@ns.route("")
class NodeCollection(Resource):
    def get(self) -> dict[str, Any]:
        """List nodes (``limit``, ``marker``, filters)."""
        return _list(detail=bool_arg("detail") or False)

    @ns.expect(node_create, validate=False)
    @ns.response(201, "Node created")
    def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Enroll a node."""
        values = node_views.validate_create(json_body())
        known = _known_drivers()
        if values["driver"] not in known:
            raise exceptions.UnknownDriver(driver=values["driver"], known=known)
        node = node_db.create(values)
        body = node_views.node_detail(node, owner_of(node))
        return body, 201, {"Location": body["links"][0]["href"]}


@ns.route("/detail")
class NodeDetailCollection(Resource):
    def get(self) -> dict[str, Any]:
        """List nodes with every field."""
        return _list(detail=True)


@ns.route("/<string:ident>")
@ns.param("ident", "Node UUID or name")
class NodeItem(Resource):
    def get(self, ident: str) -> dict[str, Any]:
        """Show one node."""
        node = node_db.get(ident)
        return node_views.node_detail(node, owner_of(node))

    @ns.response(204, "Node deleted")
    def delete(self, ident: str) -> Response:
        """Delete a node (unlocked, in a state that allows it)."""
        node_db.destroy(ident, states.DELETE_ALLOWED_STATES)
        return Response(status=204)


@ns.route("/<string:ident>/states")
class NodeStates(Resource):
    def get(self, ident: str) -> dict[str, Any]:
        """Power and provision state of a node."""
        return node_views.node_states(node_db.get(ident))


@ns.route("/<string:ident>/states/power")
class NodePower(Resource):
    @ns.expect(power_request, validate=False)
    @ns.response(202, "Accepted; poll the node's states")
    def put(self, ident: str) -> Response:
        """Request a power state change (asynchronous)."""
        body = json_body()
        target = body.get("target")
        if not isinstance(target, str):
            raise exceptions.InvalidPowerTarget(
                target=target, allowed=", ".join(states.POWER_TARGETS)
            )
        timeout = body.get("timeout")
        if timeout is not None and (not isinstance(timeout, int) or timeout < 1):
            raise exceptions.InvalidParameterValue(reason="timeout must be a positive integer")
        uuid = ConductorAPI().change_power_state(ident, target)
        location = request.host_url.rstrip("/") + f"/v1/nodes/{uuid}/states"
        return Response(status=202, headers={"Location": location})
