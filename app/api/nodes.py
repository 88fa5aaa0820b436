"""``/v1/nodes``: create, read, list, update (JSON Patch) and delete nodes."""

from __future__ import annotations

from typing import Any

import jsonpatch
from flask import Response, request
from flask_restx import Namespace, Resource, fields

from app import exceptions, states
from app.api import node_views
from app.api.utils import (
    bool_arg,
    field_names,
    json_body,
    limit_arg,
    next_link,
    select_fields,
)
from app.db import nodes as node_db
from app.db.models import Node
from app.hash_ring import get_ring_manager

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
        "instance_uuid": fields.String(),
        "conductor_group": fields.String(),
        "resource_class": fields.String(),
        "description": fields.String(),
        "owner": fields.String(),
        "lessee": fields.String(),
        "network_interface": fields.String(),
        "storage_interface": fields.String(),
    },
)
patch_op = ns.model(
    "PatchOperation",
    {
        "op": fields.String(required=True, enum=["add", "replace", "remove", "test"]),
        "path": fields.String(required=True, example="/extra/rack"),
        "value": fields.Raw(),
    },
)

_FILTERS = ("provision_state", "driver", "resource_class", "conductor_group", "owner", "lessee")


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
    return select_fields(node_views.node_detail(node, owner_of(node)), request.args.get("fields"))


def _items(rows: list[Node], detail: bool, names: list[str] | None, plain: bool) -> list[Any]:
    """The listed nodes in the shape asked for (summary, detail or ``fields=``)."""
    if names is not None and plain:
        return [node_views.node_fields(n, names) for n in rows]
    unserved: set[tuple[str, str]] = set()
    if detail:
        return [node_views.node_detail(n, owner_of(n, unserved)) for n in rows]
    if names is None:
        return [node_views.node_summary(n) for n in rows]
    wanted = ",".join(names)
    with_owner = "conductor" in names  # a ring lookup per node only when asked for
    return [
        select_fields(
            node_views.node_detail(n, owner_of(n, unserved) if with_owner else None), wanted
        )
        for n in rows
    ]


def _list(detail: bool) -> dict[str, Any]:
    filters: dict[str, Any] = {k: request.args[k] for k in _FILTERS if k in request.args}
    if "conductor_group" in filters:
        filters["conductor_group"] = filters["conductor_group"].lower()
    maintenance = bool_arg("maintenance")
    if maintenance is not None:
        filters["maintenance"] = maintenance
    wanted = request.args.get("fields")
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
    )
    items = _items(rows, detail, names, plain)
    body: dict[str, Any] = {"nodes": items}
    following = next_link("nodes/detail" if detail else "nodes", [n.uuid for n in rows], limit)
    if following:
        body["next"] = following
    return body


@ns.route("")
class NodeCollection(Resource):
    def get(self) -> dict[str, Any]:
        """List nodes (``limit``, ``marker``, ``sort_key``, ``sort_dir``, ``fields``, filters)."""
        return _list(detail=bool_arg("detail") or False)

    @ns.expect(node_create, validate=False)
    @ns.response(201, "Node created")
    def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Enroll a node."""
        values = node_views.validate_create(json_body())
        check_driver(values["driver"])
        node = node_db.create(values)
        body = node_views.node_detail(node, owner_of(node))
        return body, 201, {"Location": body["links"][0]["href"]}


@ns.route("/detail")
class NodeDetailCollection(Resource):
    def get(self) -> dict[str, Any]:
        """List nodes with every field."""
        return _list(detail=True)


def apply_patch(node: Node, patch: Any) -> dict[str, Any]:
    """Apply an RFC 6902 patch to the node's writable fields; returns the changed values."""
    if not isinstance(patch, list) or not patch:
        raise exceptions.Invalid(reason="the body must be a non-empty JSON Patch list")
    for op in patch:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise exceptions.Invalid(reason=f"malformed patch operation: {op!r}")
        field = op["path"].lstrip("/").split("/")[0]
        if field not in node_views.WRITABLE:
            raise exceptions.InvalidParameterValue(
                reason=f"'/{field}' cannot be changed with PATCH (read-only or unknown field)"
            )
    doc = node_views.patchable(node)
    try:
        patched = jsonpatch.apply_patch(doc, patch)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise exceptions.Invalid(reason=f"the patch cannot be applied: {exc}") from None
    changed = {k: patched.get(k) for k in node_views.WRITABLE if patched.get(k) != doc.get(k)}
    return node_views.check_values(changed, node_views.WRITABLE)


@ns.route("/<string:ident>")
@ns.param("ident", "Node UUID or name")
class NodeItem(Resource):
    def get(self, ident: str) -> dict[str, Any]:
        """Show one node (``fields`` selects fields)."""
        return show(node_db.get(ident))

    @ns.expect([patch_op], validate=False)
    def patch(self, ident: str) -> dict[str, Any]:
        """Update a node with a JSON Patch (RFC 6902) of its writable fields."""
        patch = request.get_json(force=True, silent=True)
        node = node_db.get(ident)
        values = apply_patch(node, patch)
        if "driver" in values:
            check_driver(values["driver"])
        if values:
            node = node_db.update_unlocked(node.uuid, values)
        return node_views.node_detail(node, owner_of(node))

    @ns.response(204, "Node deleted")
    def delete(self, ident: str) -> Response:
        """Delete a node (unlocked, in a state that allows it)."""
        node_db.destroy(ident, states.DELETE_ALLOWED_STATES)
        return Response(status=204)
