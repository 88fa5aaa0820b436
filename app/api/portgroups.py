"""``/v1/portgroups`` (1.23): a node's ports bonded together, with
``/v1/nodes/<id>/portgroups`` and ``/v1/portgroups/<id>/ports``.

As in Ironic, a port group belongs to a node (``node_uuid``, a UUID or name; 400 if there
is none), may have a unique ``name`` (by which it can be read, as a node by its name) and a
unique MAC ``address``; ``mode`` defaults to ``active-backup``. A port group is changed or
deleted only while its node is unlocked (409), and deleted only once no port is in it (400).
"""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource
from sqlalchemy import Connection, RowMapping, select

from app import exceptions, masking
from app.api import checkers, nodes, ports, records, schemas
from app.api.ports import check_mac
from app.api.utils import bool_arg, iso, resource_links
from app.api.versions import link
from app.db import nodes as node_db
from app.db import stores
from app.db.models import Node
from app.db.records import unlocked_node, with_node
from app.node_fields import check_name

ns = Namespace("portgroups", description="Port groups (bonds) of nodes", path="/portgroups")
schemas.register(ns, schemas.PATCH_OP)
_PORTS = Node.metadata.tables["ports"]
DEFAULT_MODE = "active-backup"


def _view(row: RowMapping, base: str) -> dict[str, Any]:
    uuid = row["uuid"]
    return {
        "uuid": uuid,
        "name": row["name"],
        "address": row["address"],
        "node_uuid": row["node_uuid"],
        "standalone_ports_supported": row["standalone_ports_supported"],
        "mode": row["mode"],
        "properties": masking.mask(row["properties"] or {}),
        "extra": masking.mask(row["extra"] or {}),
        "internal_info": masking.mask(row["internal_info"] or {}),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "links": resource_links("portgroups", uuid, base),
        "ports": [
            link(f"/v1/portgroups/{uuid}/ports", base=base),
            link(f"/portgroups/{uuid}/ports", "bookmark", base),
        ],
    }


def _created(conn: Connection, row: RowMapping | None, values: dict[str, Any]) -> None:
    with_node(conn, row, values)
    values.setdefault("mode", DEFAULT_MODE)


def _unlocked(conn: Connection, row: RowMapping | None, values: dict[str, Any]) -> None:
    assert row is not None
    unlocked_node(conn, row["node_id"])
    with_node(conn, row, values)
    if values.get("node_id", row["node_id"]) != row["node_id"] and _has_ports(conn, row):
        raise exceptions.PortgroupNotEmpty(portgroup=row["uuid"])


def _empty(conn: Connection, row: RowMapping | None, values: dict[str, Any]) -> None:
    _unlocked(conn, row, values)
    assert row is not None
    if _has_ports(conn, row):
        raise exceptions.PortgroupNotEmpty(portgroup=row["uuid"])


def _has_ports(conn: Connection, row: RowMapping) -> bool:
    query = select(_PORTS.c.id).where(_PORTS.c.portgroup_id == row["id"]).limit(1)
    return conn.scalar(query) is not None


def _name(value: Any) -> str | None:
    return check_name(value)


def _node_filter(ident: str) -> dict[str, Any]:
    return {"node_id": node_db.get(ident).id}


def _address_filter(value: str) -> dict[str, Any]:
    return {"address": check_mac(value)}


KIND = records.Kind(
    name="port group",
    path="portgroups",
    key="portgroups",
    store=stores.PORTGROUPS,
    view=_view,
    writable={
        "node_uuid": checkers.node_ref,
        "name": _name,
        "address": lambda v: None if v is None else check_mac(v),
        "standalone_ports_supported": checkers.boolean("standalone_ports_supported"),
        "mode": checkers.text("mode", 255),
        "properties": checkers.json_object("properties"),
        "extra": checkers.json_object("extra"),
        "uuid": checkers.uuid("uuid"),
    },
    summary=("uuid", "address", "name"),
    required=("node_uuid",),
    min_version=23,
    filters={
        "node": ("Only the port groups of this node (UUID or name)", _node_filter),
        "address": ("Only the port group with this MAC address", _address_filter),
    },
    on_create=_created,
    on_update=_unlocked,
    on_delete=_empty,
)
records.register(ns, KIND)
_NODE_QUERY = {k: v for k, v in records.list_query(KIND).items() if k != "node"}


@nodes.ns.route("/<string:ident>/portgroups")
@schemas.documented(nodes.ns, 404)
class NodePortgroups(Resource):
    @nodes.ns.doc(params=_NODE_QUERY)
    @nodes.ns.response(200, "The node's port groups")
    def get(self, ident: str) -> dict[str, Any]:
        """The node's port groups."""
        return records.node_listing(KIND, ident, "portgroups")


@nodes.ns.route("/<string:ident>/portgroups/detail")
@schemas.documented(nodes.ns, 404)
class NodePortgroupsDetail(Resource):
    @nodes.ns.doc(params={k: v for k, v in _NODE_QUERY.items() if k not in ("fields", "detail")})
    @nodes.ns.response(200, "The node's port groups with every field")
    def get(self, ident: str) -> dict[str, Any]:
        """The node's port groups with every field."""
        return records.node_listing(KIND, ident, "portgroups", detail=True)


def _group_ports(ident: str, detail: bool) -> dict[str, Any]:
    records.gate(KIND)
    group = stores.PORTGROUPS.get(ident)
    collection = f"portgroups/{group['uuid']}/ports" + ("/detail" if detail else "")
    return ports.list_ports(None, detail or bool(bool_arg("detail")), collection, group["id"])


@ns.route("/<string:ident>/ports")
@ns.param("ident", "The port group's UUID or name")
@schemas.documented(ns, 404)
class PortgroupPorts(Resource):
    @ns.doc(params=schemas.LIST_QUERY)
    @ns.response(200, "The ports in the port group")
    def get(self, ident: str) -> dict[str, Any]:
        """The ports in the port group."""
        return _group_ports(ident, False)


@ns.route("/<string:ident>/ports/detail")
@ns.param("ident", "The port group's UUID or name")
@schemas.documented(ns, 404)
class PortgroupPortsDetail(Resource):
    @ns.doc(params={k: v for k, v in schemas.LIST_QUERY.items() if k not in ("fields", "detail")})
    @ns.response(200, "The ports in the port group, with every field")
    def get(self, ident: str) -> dict[str, Any]:
        """The ports in the port group, with every field."""
        return _group_ports(ident, True)
