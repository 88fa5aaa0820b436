"""``/v1/allocations`` (1.52): reserve an available node by resource class and traits, as
Metal3 and Nova's allocation users do, and ``/v1/nodes/<id>/allocation``.

As in Ironic, the allocation is recorded ``allocating`` (201) and queued for any conductor,
which chooses and reserves a node (``app/db/allocations.py``): the allocation becomes
``active`` with its ``node_uuid``, or ``error`` with ``last_error``. Only ``name`` and
``extra`` change afterwards (1.57). Deleting an allocation frees its node
(``instance_uuid`` cleared), refused while the node is active and not in maintenance (409).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_restx import Namespace, Resource
from sqlalchemy import RowMapping

from app import exceptions, masking
from app.api import checkers, nodes, records, schemas
from app.api.traits import check_trait
from app.api.utils import fields_arg, iso, resource_links, select_fields
from app.api.versions import url_base
from app.db import allocations as allocation_db
from app.db import nodes as node_db
from app.db import stores
from app.node_fields import check_name
from app.rpcapi import ConductorAPI

ns = Namespace("allocations", description="Allocations of nodes", path="/allocations")
schemas.register(ns, schemas.PATCH_OP)


def _view(row: RowMapping, base: str) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "name": row["name"],
        "node_uuid": row["node_uuid"],
        "state": row["state"],
        "last_error": row["last_error"],
        "resource_class": row["resource_class"],
        "traits": list(row["traits"] or []),
        "candidate_nodes": list(row["candidate_nodes"] or []),
        "owner": row["owner"],
        "extra": masking.mask(row["extra"] or {}),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "links": resource_links("allocations", row["uuid"], base),
    }


def _traits(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise exceptions.InvalidParameterValue(reason="traits must be a list of traits")
    return sorted({check_trait(t) for t in value})


def _candidates(value: Any) -> list[str]:
    """Candidate nodes by UUID or name, as UUIDs; a missing one is a 400."""
    if not isinstance(value, list):
        raise exceptions.InvalidParameterValue(reason="candidate_nodes must be a list")
    found = []
    for ident in value:
        try:
            found.append(node_db.get(str(ident)).uuid)
        except exceptions.NodeNotFound:
            raise exceptions.InvalidParameterValue(
                reason=f"Candidate node {ident} could not be found"
            ) from None
    return found


def _recorded(_conn: Any, _row: RowMapping | None, values: dict[str, Any]) -> None:
    values["state"] = allocation_db.ALLOCATING


KIND = records.Kind(
    name="allocation",
    path="allocations",
    key="allocations",
    store=stores.ALLOCATIONS,
    view=_view,
    writable={"name": check_name, "extra": checkers.json_object("extra")},
    create_only={
        "uuid": checkers.uuid("uuid"),
        "resource_class": checkers.text("resource_class", 80, nullable=False),
        "traits": _traits,
        "candidate_nodes": _candidates,
        "owner": checkers.text("owner", 255),
    },
    summary=(
        "uuid",
        "name",
        "node_uuid",
        "state",
        "last_error",
        "resource_class",
        "traits",
        "candidate_nodes",
        "owner",
        "extra",
        "created_at",
        "updated_at",
    ),
    required=("resource_class",),
    min_version=52,
    filters={
        "node": ("Only the allocation of this node", lambda v: {"node_id": node_db.get(v).id}),
        "resource_class": ("Only allocations for this class", lambda v: {"resource_class": v}),
        "state": ("Only allocations in this state", lambda v: {"state": v}),
        "owner": ("Only allocations of this owner", lambda v: {"owner": v}),
    },
    on_create=_recorded,
    on_delete=allocation_db.release,
    after_create=lambda row: ConductorAPI().process_allocation(str(row["uuid"])),
)
records.register(ns, KIND)


def _of_node(ident: str) -> RowMapping:
    records.gate(KIND)
    node = node_db.get(ident)
    rows = KIND.store.list({"node_id": node.id}, 1, None)
    if not rows:
        raise exceptions.AllocationNotFound(allocation=f"of node {node.uuid}")
    return rows[0]


@nodes.ns.route("/<string:ident>/allocation")
@schemas.documented(nodes.ns, 404)
class NodeAllocation(Resource):
    @nodes.ns.doc(params={"fields": schemas.LIST_QUERY["fields"]})
    @nodes.ns.response(200, "The node's allocation")
    def get(self, ident: str) -> dict[str, Any]:
        """The allocation that reserved the node."""
        return select_fields(_view(_of_node(ident), url_base()), fields_arg())

    @nodes.ns.response(204, "The allocation is deleted and the node freed")
    @schemas.documented(nodes.ns, 409)
    def delete(self, ident: str) -> Response:
        """Delete the node's allocation."""
        KIND.store.delete(str(_of_node(ident)["uuid"]), allocation_db.release)
        return Response(status=204)
