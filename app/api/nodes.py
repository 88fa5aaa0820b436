"""``/v1/nodes``: create, read, list, update (JSON Patch) and delete nodes."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_restx import Namespace, Resource, fields

from app import exceptions, node_fields, node_rules, states
from app.api import inputs, node_views, patching, schemas
from app.api.drivers_cache import enabled_interfaces
from app.api.utils import (
    bool_arg,
    field_names,
    fields_arg,
    json_body,
    limit_arg,
    next_link,
    select_fields,
)
from app.api.versions import requested_at_least, url_base
from app.db import nodes as node_db
from app.db import stores
from app.db import traits as trait_db
from app.db.models import Node
from app.hash_ring import get_ring_manager
from app.node_fields import check_uuid

ns = Namespace("nodes", description="Bare-metal nodes", path="/nodes")
_FILTERS = (
    "provision_state",
    "driver",
    "resource_class",
    "conductor_group",
    "owner",
    "lessee",
    "instance_uuid",
    "fault",
    "shard",
    "parent_node",
    "chassis_uuid",
)

node_create = ns.model(
    "NodeCreate",
    {
        "driver": fields.String(required=True, example="fake-hardware", max_length=255),
        "name": fields.String(
            description="Unique logical name (RFC 3986 unreserved), not a UUID",
            pattern=r"^[A-Za-z0-9\-._~]{1,255}$",
        ),
        "uuid": fields.String(description="Optional UUID; generated when absent", format="uuid"),
        "driver_info": fields.Raw(description="Driver parameters (secrets masked on read)"),
        "properties": fields.Raw(),
        "extra": fields.Raw(),
        "instance_info": fields.Raw(),
        "instance_uuid": fields.String(format="uuid"),
        "conductor_group": fields.String(max_length=255),
        "resource_class": fields.String(max_length=80),
        "description": fields.String(max_length=4096),
        "owner": fields.String(max_length=255),
        "lessee": fields.String(max_length=255),
        **{name: fields.String() for name in node_fields.INTERFACE_FIELDS},
        **{name: fields.Boolean() for name in node_fields.BOOL_FIELDS},
        "protected_reason": fields.String(max_length=4096),
        "retired_reason": fields.String(max_length=4096),
        "maintenance_reason": fields.String(max_length=4096),
        "network_data": fields.Raw(),
        "shard": fields.String(max_length=255),
        "parent_node": fields.String(description="UUID or name of the parent node"),
        "chassis_uuid": fields.String(format="uuid"),
    },
    strict=True,
)
patch_op = schemas.PATCH_OP
schemas.register(
    ns,
    schemas.PATCH_OP,
    schemas.NODE,
    schemas.NODE_LIST,
    schemas.NODE_STATES,
    schemas.NODE_VALIDATE,
    schemas.EVENT,
    schemas.NODE_HISTORY,
    schemas.NODE_SENSORS,
)
LIST_QUERY = {
    **schemas.LIST_QUERY,
    **schemas.query(
        sort_key=("string", "Field to sort on"),
        sort_dir=("string", "asc or desc"),
        maintenance=("boolean", "Only nodes in (or out of) maintenance"),
        associated=("boolean", "Only nodes with (or without) an instance"),
        retired=("boolean", "Only retired (or not retired) nodes (1.61)"),
        **{name: ("string", f"Only nodes with this {name}") for name in _FILTERS},
        description_contains=("string", "Only nodes whose description contains this text"),
        project=("string", "Only nodes this project owns or leases"),
    ),
}


def owner_of(node: Node, unserved: set[tuple[str, str]] | None = None) -> str | None:
    """The node's conductor, or None. ``unserved`` remembers, across one listing, the
    (group, driver) pairs no live conductor serves, so they are looked up only once."""
    key = (node.conductor_group, node.driver)
    if unserved is not None and key in unserved:
        return None
    try:
        return get_ring_manager().get_conductor(node.uuid, node.driver, node.conductor_group)
    except exceptions.NoLiveConductor:
        if unserved is not None:
            unserved.add(key)
        return None


def check_driver(driver: str) -> None:
    known = sorted({d for _group, d in get_ring_manager().members()})
    if driver not in known:
        raise exceptions.UnknownDriver(driver=driver, known=known)


def show(node: Node) -> dict[str, Any]:
    wanted = fields_arg()
    node_views.check_version(field_names(wanted) or [])
    return select_fields(node_views.node_detail(node, owner_of(node)), wanted)


def _items(rows: list[Node], detail: bool, names: list[str] | None, plain: bool) -> list[Any]:
    """The listed nodes in the shape asked for (summary, detail or ``fields=``)."""
    base = url_base()
    if names is not None and plain:
        return [node_views.node_columns(n, names, base) for n in rows]
    unserved: set[tuple[str, str]] = set()
    if detail:
        traits = trait_db.of_nodes(n.id for n in rows)
        return [node_views.node_detail(n, owner_of(n, unserved), base, traits[n.id]) for n in rows]
    if names is None:
        return [node_views.node_summary(n, base) for n in rows]
    wanted = ",".join(names)
    with_owner = "conductor" in names  # a ring lookup per node only when asked for
    traits = trait_db.of_nodes(n.id for n in rows) if "traits" in names else {}
    return [
        select_fields(
            node_views.node_detail(
                n, owner_of(n, unserved) if with_owner else None, base, traits.get(n.id, [])
            ),
            wanted,
        )
        for n in rows
    ]


def _list(detail: bool) -> dict[str, Any]:
    return list_nodes_of({}, detail, "nodes/detail" if detail else "nodes")


def list_nodes_of(scope: dict[str, Any], detail: bool, collection: str) -> dict[str, Any]:
    """A page of the nodes matching ``scope`` (column: value) and the request's filters,
    with its ``next`` link into ``collection``."""
    filters: dict[str, Any] = {k: request.args[k] for k in _FILTERS if k in request.args}
    filters.update(scope)
    if "conductor_group" in filters:
        filters["conductor_group"] = filters["conductor_group"].lower()
    for name in ("instance_uuid", "chassis_uuid"):
        if name in filters:
            filters[name] = check_uuid(filters[name], name)
    for flag in ("maintenance", "retired"):
        value = bool_arg(flag)
        if value is not None:
            filters[flag] = value
    node_views.check_version([*filters, *(field_names(fields_arg()) or [])])
    wanted = fields_arg()
    if detail and wanted:
        raise exceptions.InvalidParameterValue(reason="fields cannot be combined with detail")
    limit = limit_arg()
    names = field_names(wanted)
    plain = names is not None and set(names) <= node_views.PLAIN_FIELDS
    if plain:
        columns: list[str] | None = names
    else:
        columns = None if detail or names else list(node_views.LIST_FIELDS)
    rows = node_db.list_nodes(
        filters,
        limit=limit,
        marker=request.args.get("marker"),
        sort_key=request.args.get("sort_key", "id"),
        sort_dir=request.args.get("sort_dir", "asc"),
        associated=bool_arg("associated"),
        columns=columns,
        description_contains=request.args.get("description_contains"),
        project=request.args.get("project"),
    )
    items = _items(rows, detail, names, plain)
    body: dict[str, Any] = {"nodes": items}
    following = next_link(collection, [n.uuid for n in rows], limit)
    if following:
        body["next"] = following
    return body


@ns.route("")
@schemas.documented(ns)
class NodeCollection(Resource):
    @ns.doc(params=LIST_QUERY)
    @ns.response(200, "The nodes (a summary of each unless detail or fields)", schemas.NODE_LIST)
    def get(self) -> dict[str, Any]:
        """List nodes (``limit``, ``marker``, ``sort_key``, ``sort_dir``, ``fields``, filters)."""
        return _list(detail=bool_arg("detail") or False)

    @ns.expect(node_create, validate=False)
    @ns.response(201, "Node created", schemas.NODE, headers={"Location": "The node's URL"})
    @schemas.documented(ns, 409, *schemas.BODY_ERRORS)
    def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Enroll a node."""
        values = node_views.validate_create(json_body())
        check_driver(values["driver"])
        node = node_db.create(values)
        body = node_views.node_detail(node, owner_of(node))
        return body, 201, {"Location": body["links"][0]["href"]}


@ns.route("/detail")
@schemas.documented(ns)
class NodeDetailCollection(Resource):
    @ns.doc(params={k: v for k, v in LIST_QUERY.items() if k not in ("fields", "detail")})
    @ns.response(200, "The nodes with every field", schemas.NODE_LIST)
    def get(self) -> dict[str, Any]:
        """List nodes with every field."""
        return _list(detail=True)


def apply_patch(node: Node, patch: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply an RFC 6902 patch (paths already checked by :func:`inputs.read_patch`) to the
    node's writable fields (:mod:`app.api.patching`); returns the values to write, checked
    by the node rules (``app/node_rules.py``)."""
    node_views.check_version(patching.fields_of(patch))
    doc = node_views.patchable(node)
    changed = patching.changed_fields(doc, patching.apply(doc, patch))
    values = node_views.resolve_references(node_fields.check_values(changed, node_fields.WRITABLE))
    reset = bool_arg("reset_interfaces")
    if reset is not None and not requested_at_least(45):
        raise exceptions.NotAcceptable(reason="reset_interfaces needs API version 1.45")
    return node_rules.check_update(node, values, enabled_interfaces, bool(reset))


def _allocation_freed(node: Node, values: dict[str, Any]) -> str | None:
    """Clearing ``instance_uuid`` of an allocated node ends its allocation, as in Ironic
    (in the states a node's interfaces may change in, or in maintenance; 409 otherwise)."""
    if node.allocation_uuid is None or "instance_uuid" not in values:
        return None
    if values["instance_uuid"] is not None:
        return None
    if not node.maintenance and node.provision_state not in states.UPDATE_ALLOWED_STATES:
        raise exceptions.InvalidState(
            reason=f"Node {node.uuid} with an allocation can not have instance_uuid removed "
            f"in provision state {node.provision_state!r} unless it is in maintenance."
        )
    values["allocation_uuid"] = None
    return node.allocation_uuid


@ns.route("/<string:ident>")
@ns.param("ident", "Node UUID or name")
@schemas.documented(ns, 404)
class NodeItem(Resource):
    @ns.doc(params={"fields": schemas.LIST_QUERY["fields"]})
    @ns.response(200, "The node", schemas.NODE)
    def get(self, ident: str) -> dict[str, Any]:
        """Show one node (``fields`` selects fields)."""
        return show(node_db.get(ident))

    @ns.doc(params=schemas.query(reset_interfaces=("boolean", "With a driver change (1.45)")))
    @ns.expect([patch_op], validate=False)
    @ns.response(200, "The updated node", schemas.NODE)
    @schemas.documented(ns, 409, *schemas.BODY_ERRORS)
    def patch(self, ident: str) -> dict[str, Any]:
        """Update a node with a JSON Patch (RFC 6902) of its writable fields."""
        patch = inputs.read_patch(node_fields.WRITABLE)
        node = node_db.get(ident)
        values = apply_patch(node, patch)
        replaced = values.get("instance_uuid")
        if node.instance_uuid is not None and replaced not in (None, node.instance_uuid):
            # Nova relies on this 409 when two builds race for one node.
            raise exceptions.NodeAssociated(node=node.uuid, instance=node.instance_uuid)
        if "driver" in values:
            check_driver(values["driver"])
        freed = _allocation_freed(node, values)
        if values:
            node = node_db.update_unlocked(node, values)
        if freed:
            stores.ALLOCATIONS.delete(freed)  # the node no longer names it
        return node_views.node_detail(node, owner_of(node))

    @ns.response(204, "Node deleted")
    @schemas.documented(ns, 409)
    def delete(self, ident: str) -> Response:
        """Delete a node (unlocked, in a state that allows it)."""
        node_db.destroy(ident, states.DELETE_ALLOWED_STATES)
        return Response(status=204)
