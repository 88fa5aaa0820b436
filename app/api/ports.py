"""``/v1/ports`` and ``/v1/nodes/<id>/ports``: a node's network ports."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, request
from flask_restx import Namespace, Resource, fields

from app import exceptions, masking, port_rules
from app.api import inputs, nodes, patching, schemas
from app.api.utils import (
    bool_arg,
    fields_arg,
    iso,
    json_body,
    limit_arg,
    next_link,
    resource_links,
    select_fields,
)
from app.db import nodes as node_db
from app.db import ports as port_db
from app.db import stores
from app.db.models import Port
from app.node_fields import check_uuid

ns = Namespace("ports", description="Network ports of nodes", path="/ports")

port_create = ns.model(
    "PortCreate",
    {
        "address": fields.String(
            required=True,
            example="52:54:00:12:34:56",
            pattern=r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$",
        ),
        "node_uuid": fields.String(required=True, description="The node's UUID or name"),
        "uuid": fields.String(format="uuid"),
        "extra": fields.Raw(),
        "local_link_connection": fields.Raw(),
        "pxe_enabled": fields.Boolean(),
        "physical_network": fields.String(max_length=64),
        "portgroup_uuid": fields.String(description="The port group (UUID or name; 1.24)"),
    },
    strict=True,
)
port_model = ns.model(
    "Port",
    {
        "uuid": fields.String(required=True),
        "address": fields.String(required=True),
        "links": schemas.links(),
        "node_uuid": fields.String(),
        "extra": fields.Raw(),
        "local_link_connection": fields.Raw(),
        "pxe_enabled": fields.Boolean(),
        "physical_network": schemas.NullableString(),
        "internal_info": fields.Raw(),
        "is_smartnic": fields.Boolean(),
        "portgroup_uuid": schemas.NullableString(),
        "name": schemas.NullableString(),
        "created_at": schemas.NullableString(),
        "updated_at": schemas.NullableString(),
    },
)
port_list = ns.model(
    "PortList",
    {"ports": fields.List(fields.Nested(port_model), required=True), "next": fields.String()},
)
schemas.register(ns)
_LIST_QUERY = {
    **schemas.LIST_QUERY,
    **schemas.query(
        node=("string", "Only the ports of this node (UUID or name)"),
        node_uuid=("string", "Only the ports of this node"),
        address=("string", "Only the port with this MAC address"),
        portgroup=("string", "Only the ports of this port group (UUID or name; 1.24)"),
    ),
}

_MAC_RE = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$")
WRITABLE = frozenset(
    (
        "address",
        "node_uuid",
        "portgroup_uuid",
        "extra",
        "local_link_connection",
        "pxe_enabled",
        "physical_network",
    )
)


def check_mac(value: Any) -> str:
    if not isinstance(value, str) or not _MAC_RE.fullmatch(value.lower()):
        raise exceptions.InvalidParameterValue(reason=f"{value!r} is not a valid MAC address")
    return value.lower().replace("-", ":")


def _check(values: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise exceptions.InvalidParameterValue(
            reason=f"unknown or read-only port fields: {', '.join(unknown)}"
        )
    checked: dict[str, Any] = {}
    for field, value in values.items():
        if field == "address":
            checked[field] = check_mac(value)
        elif field == "uuid":
            checked[field] = check_uuid(value, field)
        elif field in ("node_uuid", "portgroup_uuid"):  # names too, resolved to UUIDs
            if value is None and field == "portgroup_uuid":
                checked[field] = None
                continue
            if not isinstance(value, str) or not value or len(value) > 255:
                raise exceptions.InvalidParameterValue(reason=f"{field} must be a UUID")
            checked[field] = value
        elif field in ("extra", "local_link_connection"):
            if not isinstance(value, dict):
                raise exceptions.InvalidParameterValue(reason=f"{field} must be a JSON object")
            checked[field] = value
        elif field == "pxe_enabled":
            if not isinstance(value, bool):
                raise exceptions.InvalidParameterValue(reason="pxe_enabled must be a boolean")
            checked[field] = value
        else:
            if value is not None and (not isinstance(value, str) or len(value) > 64):
                raise exceptions.InvalidParameterValue(reason=f"{field} must be a short string")
            checked[field] = value
    return checked


def portgroup_id(ident: str | None, node_uuid: str) -> int | None:
    """The id of the port group ``ident`` (UUID or name), which must be on the port's node;
    None for no port group. A missing or foreign port group is a 400."""
    if ident is None:
        return None
    try:
        group = stores.PORTGROUPS.get(ident)
    except exceptions.PortgroupNotFound:
        raise exceptions.InvalidParameterValue(
            reason=f"Port group {ident} could not be found."
        ) from None
    if group["node_uuid"] != node_uuid:
        raise exceptions.InvalidParameterValue(
            reason=f"port group {group['uuid']} belongs to another node than the port"
        )
    return int(group["id"])


def _groups_of(ports: list[Port]) -> dict[int, str]:
    return port_db.portgroup_uuids({p.portgroup_id for p in ports if p.portgroup_id})


def port_view(
    port: Port, node_uuid: str, detail: bool = True, groups: dict[int, str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uuid": port.uuid,
        "address": port.address,
        "links": resource_links("ports", port.uuid),
    }
    if detail:
        data.update(
            node_uuid=node_uuid,
            extra=masking.mask(port.extra or {}),
            local_link_connection=masking.mask(port.local_link_connection or {}),
            pxe_enabled=port.pxe_enabled,
            physical_network=port.physical_network,
            internal_info=masking.mask(port.internal_info or {}),
            is_smartnic=False,
            portgroup_uuid=(
                None
                if port.portgroup_id is None
                else (groups if groups is not None else _groups_of([port])).get(port.portgroup_id)
            ),
            name=None,
            created_at=iso(port.created_at),
            updated_at=iso(port.updated_at),
        )
    return data


def patchable(port: Port, node_uuid: str) -> dict[str, Any]:
    """The port as JSON Patch sees it: the real (unmasked) values of its writable fields."""
    return {
        "address": port.address,
        "node_uuid": node_uuid,
        "portgroup_uuid": _groups_of([port]).get(port.portgroup_id or 0),
        "extra": dict(port.extra or {}),
        "local_link_connection": dict(port.local_link_connection or {}),
        "pxe_enabled": port.pxe_enabled,
        "physical_network": port.physical_network,
    }


def list_ports(
    node_uuid: str | None, detail: bool, collection: str, group: int | None = None
) -> dict[str, Any]:
    address = request.args.get("address")
    if "portgroup" in request.args:
        group = int(stores.PORTGROUPS.get(request.args["portgroup"])["id"])
    limit = limit_arg()
    rows = port_db.list_ports(
        node_uuid,
        check_mac(address) if address else None,
        limit,
        request.args.get("marker"),
        group,
    )
    wanted = fields_arg()
    groups = _groups_of([p for p, _n in rows])
    items = [
        select_fields(port_view(p, n, detail or bool(wanted), groups), wanted) for p, n in rows
    ]
    body: dict[str, Any] = {"ports": items}
    following = next_link(collection, [p.uuid for p, _n in rows], limit)
    if following:
        body["next"] = following
    return body


def _node_filter() -> str | None:
    ident = request.args.get("node") or request.args.get("node_uuid")
    return node_db.get(ident).uuid if ident else None


@ns.route("")
@schemas.documented(ns)
class PortCollection(Resource):
    @ns.doc(params=_LIST_QUERY)
    @ns.response(200, "The ports", port_list)
    @schemas.documented(ns, 404)
    def get(self) -> dict[str, Any]:
        """List ports (filters ``node``, ``node_uuid``, ``address``; ``detail``, ``fields``)."""
        return list_ports(_node_filter(), bool_arg("detail") or False, "ports")

    @ns.expect(port_create, validate=False)
    @ns.response(201, "Port created", port_model, headers={"Location": "The port's URL"})
    @schemas.documented(ns, 404, 409, *schemas.BODY_ERRORS)
    def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create a port on a node; the MAC address must be unique."""
        values = _check(json_body(), WRITABLE | {"uuid"})
        if "address" not in values:
            raise exceptions.MissingParameterValue(name="address")
        if "node_uuid" not in values:
            raise exceptions.MissingParameterValue(name="node_uuid")
        node_uuid = node_db.get(values.pop("node_uuid")).uuid
        if "portgroup_uuid" in values:
            values["portgroup_id"] = portgroup_id(values.pop("portgroup_uuid"), node_uuid)
        port = port_db.create(node_uuid, values)
        body = port_view(port, node_uuid)
        return body, 201, {"Location": body["links"][0]["href"]}


@ns.route("/detail")
@schemas.documented(ns, 404)
class PortDetailCollection(Resource):
    @ns.doc(params={k: v for k, v in _LIST_QUERY.items() if k not in ("fields", "detail")})
    @ns.response(200, "The ports with every field", port_list)
    def get(self) -> dict[str, Any]:
        """List ports with every field."""
        return list_ports(_node_filter(), True, "ports/detail")


@ns.route("/<string:uuid>")
@schemas.documented(ns, 404)
class PortItem(Resource):
    @ns.doc(params={"fields": schemas.LIST_QUERY["fields"]})
    @ns.response(200, "The port", port_model)
    def get(self, uuid: str) -> dict[str, Any]:
        """Show one port."""
        port, node_uuid = port_db.get(uuid)
        return select_fields(port_view(port, node_uuid), fields_arg())

    @ns.expect([nodes.patch_op], validate=False)
    @ns.response(200, "The updated port", port_model)
    @schemas.documented(ns, 409, *schemas.BODY_ERRORS)
    def patch(self, uuid: str) -> dict[str, Any]:
        """Update a port with a JSON Patch."""
        patch = inputs.read_patch(WRITABLE)
        port, node_uuid = port_db.get(uuid)
        doc = patchable(port, node_uuid)
        values = _check(patching.changed_fields(doc, patching.apply(doc, patch)), WRITABLE)
        new_node = values.pop("node_uuid", None)
        new_uuid = node_db.get(new_node).uuid if new_node else None
        moved = new_uuid if new_uuid != node_uuid else None
        if "portgroup_uuid" in values or moved:
            group = values.pop("portgroup_uuid", _groups_of([port]).get(port.portgroup_id or 0))
            values["portgroup_id"] = portgroup_id(group, moved or node_uuid)

        def allowed(node: Any, target: Any | None) -> None:
            port_rules.check_update(uuid, node, set(values), target)

        port_db.update_port(port, values, moved, allowed)
        port, node_uuid = port_db.get(uuid)
        return port_view(port, node_uuid)

    @ns.response(204, "Port deleted")
    @schemas.documented(ns, 409)
    def delete(self, uuid: str) -> Response:
        """Delete a port."""
        port_db.destroy(uuid, lambda node, info: port_rules.check_delete(uuid, node, info))
        return Response(status=204)


@nodes.ns.route("/<string:ident>/ports")
@schemas.documented(nodes.ns, 404)
class NodePorts(Resource):
    @nodes.ns.doc(params={k: v for k, v in _LIST_QUERY.items() if k in schemas.LIST_QUERY})
    @nodes.ns.response(200, "The node's ports", port_list)
    def get(self, ident: str) -> dict[str, Any]:
        """The node's ports."""
        uuid = node_db.get(ident).uuid
        return list_ports(uuid, bool_arg("detail") or False, f"nodes/{uuid}/ports")


@nodes.ns.route("/<string:ident>/ports/detail")
@schemas.documented(nodes.ns, 404)
class NodePortsDetail(Resource):
    @nodes.ns.doc(params=schemas.query(limit=("integer", "Page size"), marker=("string", "")))
    @nodes.ns.response(200, "The node's ports with every field", port_list)
    def get(self, ident: str) -> dict[str, Any]:
        """The node's ports with every field."""
        uuid = node_db.get(ident).uuid
        return list_ports(uuid, True, f"nodes/{uuid}/ports/detail")
