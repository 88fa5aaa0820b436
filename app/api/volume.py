"""``/v1/volume`` (1.32): volume connectors (how a node reaches remote storage) and volume
targets (the remote volumes it uses), and their listings under ``/v1/nodes/<id>/volume``.

As in Ironic, a record names its node in ``node_uuid`` (a UUID or a name, 400 if there is
no such node); changing or deleting one needs its node powered off (400) and unlocked
(409); ``(type, connector_id)`` and a node's ``boot_index`` are unique (409).
"""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource
from sqlalchemy import Connection, RowMapping

from app import exceptions, masking, states
from app.api import checkers, nodes, records, schemas
from app.api.utils import iso, resource_links
from app.api.versions import link, url_base
from app.db import nodes as node_db
from app.db import stores
from app.db.records import Check, unlocked_node, with_node

ns = Namespace("volume", description="Volume connectors and targets", path="/volume")
schemas.register(ns, schemas.PATCH_OP)
MIN_VERSION = 32
CONNECTOR_TYPES = ("iqn", "ip", "mac", "wwnn", "wwpn", "port", "portgroup")


def _node_filter(ident: str) -> dict[str, Any]:
    return {"node_id": node_db.get(ident).id}


def _changeable(action: str) -> Check:
    def check(conn: Connection, row: RowMapping | None, values: dict[str, Any]) -> None:
        assert row is not None
        node = unlocked_node(conn, row["node_id"])
        if node.power_state != states.POWER_OFF:
            raise exceptions.NodeNotPoweredOff(
                action=action, node=node.uuid, state=node.power_state
            )
        with_node(conn, row, values)

    return check


def _common(row: RowMapping, base: str, collection: str) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "node_uuid": row["node_uuid"],
        "extra": masking.mask(row["extra"] or {}),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "links": resource_links(collection, row["uuid"], base),
    }


def _connector(row: RowMapping, base: str) -> dict[str, Any]:
    return {
        **_common(row, base, "volume/connectors"),
        "type": row["type"],
        "connector_id": row["connector_id"],
    }


def _target(row: RowMapping, base: str) -> dict[str, Any]:
    return {
        **_common(row, base, "volume/targets"),
        "volume_type": row["volume_type"],
        "properties": masking.mask(row["properties"] or {}),
        "boot_index": row["boot_index"],
        "volume_id": row["volume_id"],
    }


_FILTERS: dict[str, tuple[str, records.Filter]] = {
    "node": ("Only the records of this node (UUID or name)", _node_filter)
}
CONNECTORS = records.Kind(
    name="volume connector",
    path="volume/connectors",
    key="connectors",
    store=stores.VOLUME_CONNECTORS,
    view=_connector,
    writable={
        "node_uuid": checkers.node_ref,
        "type": checkers.one_of("type", CONNECTOR_TYPES),
        "connector_id": checkers.text("connector_id", 255, nullable=False),
        "extra": checkers.json_object("extra"),
        "uuid": checkers.uuid("uuid"),
    },
    summary=("uuid", "type", "connector_id", "node_uuid"),
    required=("node_uuid", "type", "connector_id"),
    min_version=MIN_VERSION,
    filters=_FILTERS,
    on_create=with_node,
    on_update=_changeable("volume connector update"),
    on_delete=_changeable("volume connector deletion"),
)
TARGETS = records.Kind(
    name="volume target",
    path="volume/targets",
    key="targets",
    store=stores.VOLUME_TARGETS,
    view=_target,
    writable={
        "node_uuid": checkers.node_ref,
        "volume_type": checkers.text("volume_type", 64, nullable=False),
        "properties": checkers.json_object("properties"),
        "boot_index": checkers.integer("boot_index"),
        "volume_id": checkers.text("volume_id", 36, nullable=False),
        "extra": checkers.json_object("extra"),
        "uuid": checkers.uuid("uuid"),
    },
    summary=("uuid", "volume_type", "boot_index", "volume_id", "node_uuid"),
    required=("node_uuid", "volume_type", "boot_index", "volume_id"),
    min_version=MIN_VERSION,
    filters=_FILTERS,
    on_create=with_node,
    on_update=_changeable("volume target update"),
    on_delete=_changeable("volume target deletion"),
)
connectors_ns = Namespace("connectors", path="/volume/connectors", description="Connectors")
targets_ns = Namespace("targets", path="/volume/targets", description="Volume targets")
for _space in (connectors_ns, targets_ns):
    schemas.register(_space, schemas.PATCH_OP)
records.register(connectors_ns, CONNECTORS)
records.register(targets_ns, TARGETS)
NAMESPACES = (ns, connectors_ns, targets_ns)


def _root(prefix: str) -> dict[str, Any]:
    base = url_base()
    doc: dict[str, Any] = {"links": [link(f"/v1/{prefix}/", base=base)]}
    for name in ("connectors", "targets"):
        doc[name] = [
            link(f"/v1/{prefix}/{name}", base=base),
            link(f"/{prefix}/{name}", "bookmark", base),
        ]
    return doc


def _gate() -> None:
    records.gate(CONNECTORS)


@ns.route("")
@schemas.documented(ns, 404)
class VolumeRoot(Resource):
    @ns.response(200, "Links to the connectors and the targets")
    def get(self) -> dict[str, Any]:
        """The volume API's entry point."""
        _gate()
        return _root("volume")


@nodes.ns.route("/<string:ident>/volume")
@schemas.documented(nodes.ns, 404)
class NodeVolume(Resource):
    @nodes.ns.response(200, "Links to the node's connectors and targets")
    def get(self, ident: str) -> dict[str, Any]:
        """The node's volume entry point."""
        _gate()
        return _root(f"nodes/{node_db.get(ident).uuid}/volume")


_NODE_QUERY = {k: v for k, v in records.list_query(CONNECTORS).items() if k != "node"}


@nodes.ns.route("/<string:ident>/volume/connectors")
@schemas.documented(nodes.ns, 404)
class NodeVolumeConnectors(Resource):
    @nodes.ns.doc(params=_NODE_QUERY)
    @nodes.ns.response(200, "The node's volume connectors")
    def get(self, ident: str) -> dict[str, Any]:
        """The node's volume connectors."""
        return records.node_listing(CONNECTORS, ident, "volume/connectors")


@nodes.ns.route("/<string:ident>/volume/targets")
@schemas.documented(nodes.ns, 404)
class NodeVolumeTargets(Resource):
    @nodes.ns.doc(params=_NODE_QUERY)
    @nodes.ns.response(200, "The node's volume targets")
    def get(self, ident: str) -> dict[str, Any]:
        """The node's volume targets."""
        return records.node_listing(TARGETS, ident, "volume/targets")
