"""``/v1/chassis``: groups of nodes, and ``/v1/chassis/<id>/nodes``.

A node names its chassis in ``chassis_uuid`` (which must exist, 400 otherwise); a chassis
that still holds nodes is not deleted (400, as in Ironic).
"""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource
from sqlalchemy import Connection, RowMapping, select

from app import exceptions, masking
from app.api import checkers, nodes, records, schemas
from app.api.utils import bool_arg, iso, resource_links
from app.api.versions import link
from app.db import stores
from app.db.models import Node

ns = Namespace("chassis", description="Chassis: groups of nodes", path="/chassis")
schemas.register(ns, schemas.PATCH_OP)
_NODES = Node.metadata.tables["nodes"]


def _view(row: RowMapping, base: str) -> dict[str, Any]:
    uuid = row["uuid"]
    return {
        "uuid": uuid,
        "description": row["description"],
        "extra": masking.mask(row["extra"] or {}),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "links": resource_links("chassis", uuid, base),
        "nodes": [
            link(f"/v1/chassis/{uuid}/nodes", base=base),
            link(f"/chassis/{uuid}/nodes", "bookmark", base),
        ],
    }


def _empty(conn: Connection, row: RowMapping | None, _values: dict[str, Any]) -> None:
    assert row is not None
    held = conn.scalar(select(_NODES.c.id).where(_NODES.c.chassis_uuid == row["uuid"]).limit(1))
    if held is not None:
        raise exceptions.ChassisNotEmpty(chassis=row["uuid"])


STORE = stores.CHASSIS
KIND = records.Kind(
    name="chassis",
    path="chassis",
    key="chassis",
    store=STORE,
    view=_view,
    writable={
        "description": checkers.text("description", 255),
        "extra": checkers.json_object("extra"),
        "uuid": checkers.uuid("uuid"),
    },
    summary=("uuid", "description"),
    on_delete=_empty,
)
records.register(ns, KIND)


def _chassis_nodes(ident: str, detail: bool) -> dict[str, Any]:
    uuid = str(STORE.get(ident)["uuid"])
    return nodes.list_nodes_of({"chassis_uuid": uuid}, detail, f"chassis/{uuid}/nodes")


@ns.route("/<string:ident>/nodes")
@ns.param("ident", "The chassis UUID")
@schemas.documented(ns, 404)
class ChassisNodes(Resource):
    @ns.doc(params={k: v for k, v in nodes.LIST_QUERY.items() if k != "chassis_uuid"})
    @ns.response(200, "The chassis's nodes", schemas.NODE_LIST)
    def get(self, ident: str) -> dict[str, Any]:
        """The nodes in the chassis."""
        return _chassis_nodes(ident, bool_arg("detail") or False)


@ns.route("/<string:ident>/nodes/detail")
@ns.param("ident", "The chassis UUID")
@schemas.documented(ns, 404)
class ChassisNodesDetail(Resource):
    @ns.doc(params={k: v for k, v in nodes.LIST_QUERY.items() if k not in ("fields", "detail")})
    @ns.response(200, "The chassis's nodes with every field", schemas.NODE_LIST)
    def get(self, ident: str) -> dict[str, Any]:
        """The nodes in the chassis, with every field."""
        return _chassis_nodes(ident, True)
