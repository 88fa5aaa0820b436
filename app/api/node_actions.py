"""Node sub-resources: states (power, provision), maintenance, validate, history, sensors."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_restx import Resource, fields

from app import exceptions, masking, node_rules, states
from app.api import drivers_cache, node_views, schemas
from app.api.nodes import ns
from app.api.utils import bool_arg, iso, json_body, limit_arg, resource_links
from app.db import nodes as node_db
from app.db import sensors as sensor_db
from app.rpcapi import ConductorAPI
from app.state_machine import VERB_EVENTS

power_request = ns.model(
    "PowerRequest",
    {
        "target": fields.String(required=True, enum=list(states.POWER_TARGETS)),
        "timeout": fields.Integer(description="Seconds to wait for the BMC (optional)", min=1),
    },
)
provision_request = ns.model(
    "ProvisionRequest",
    {
        "target": fields.String(required=True, example="active", enum=sorted(VERB_EVENTS)),
        "configdrive": schemas.AnyValue(description="For active/rebuild: string or object"),
        "clean_steps": fields.List(fields.Raw, description="For clean: [{interface, step, args}]"),
        "rescue_password": fields.String(description="For rescue"),
    },
)
_MAX_REASON = 4096
maintenance_request = ns.model(
    "MaintenanceRequest", {"reason": fields.String(max_length=_MAX_REASON)}
)

#: Verbs refused while a node is in maintenance (Ironic's rule: no new work on it).
_BLOCKED_IN_MAINTENANCE = (
    "active",
    "deploy",
    "rebuild",
    "provide",
    "inspect",
    "clean",
    "adopt",
    "rescue",
    "unrescue",
)


_LOCATION = {"Location": "The node's states, to poll"}


def _accepted(uuid: str) -> Response:
    location = request.host_url.rstrip("/") + f"/v1/nodes/{uuid}/states"
    return Response(status=202, headers={"Location": location})


@ns.route("/<string:ident>/states")
@schemas.documented(ns, 404)
class NodeStates(Resource):
    @ns.response(200, "The node's states", schemas.NODE_STATES)
    def get(self, ident: str) -> dict[str, Any]:
        """Power and provision state of a node."""
        return node_views.node_states(node_db.get(ident))


@ns.route("/<string:ident>/states/power")
@schemas.documented(ns, 404, 409, *schemas.BODY_ERRORS)
class NodePower(Resource):
    @ns.expect(power_request, validate=False)
    @ns.response(202, "Accepted; poll the node's states", headers=_LOCATION)
    def put(self, ident: str) -> Response:
        """Request a power state change (asynchronous)."""
        body = json_body()
        target = body.get("target")
        if not isinstance(target, str):
            raise exceptions.InvalidPowerTarget(
                target=target, allowed=", ".join(states.POWER_TARGETS)
            )
        timeout = body.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1
        ):
            raise exceptions.InvalidParameterValue(reason="timeout must be a positive integer")
        return _accepted(ConductorAPI().change_power_state(ident, target))


def _clean_steps(driver: str, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise exceptions.InvalidParameterValue(
            reason="clean_steps must be a non-empty list of {interface, step, args}"
        )
    offered = drivers_cache.clean_steps(driver)
    steps = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("step"), str):
            raise exceptions.InvalidParameterValue(reason=f"invalid clean step {item!r}")
        key = (item.get("interface"), item["step"])
        if key not in offered:
            known = ", ".join(f"{i}.{s}" for i, s in sorted(offered)) or "none"
            raise exceptions.InvalidParameterValue(
                reason=f"clean step {key[0]}.{key[1]} is not offered by {driver}; known: {known}"
            )
        args = item.get("args") or {}
        if not isinstance(args, dict):
            raise exceptions.InvalidParameterValue(reason="clean step args must be an object")
        steps.append({"interface": key[0], "step": key[1], "args": args})
    return steps


def _provision_inputs(
    body: dict[str, Any], verb: str, driver: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split the body into instance_info updates (secrets) and task options."""
    instance: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if body.get("configdrive") is not None:
        if verb not in ("active", "deploy", "rebuild"):
            raise exceptions.InvalidParameterValue(
                reason="configdrive can only be given with the active or rebuild targets"
            )
        if not isinstance(body["configdrive"], str | dict):
            raise exceptions.InvalidParameterValue(reason="configdrive must be a string or object")
        instance["configdrive"] = body["configdrive"]
    if verb == "clean":
        options["clean_steps"] = _clean_steps(driver, body.get("clean_steps"))
    elif body.get("clean_steps") is not None:
        raise exceptions.InvalidParameterValue(reason="clean_steps are only for the clean target")
    if verb == "rescue":
        password = body.get("rescue_password")
        if not isinstance(password, str) or not password:
            raise exceptions.MissingParameterValue(name="rescue_password")
        instance["rescue_password"] = password
    elif body.get("rescue_password") is not None:
        raise exceptions.InvalidParameterValue(
            reason="rescue_password is only for the rescue target"
        )
    return instance, options


@ns.route("/<string:ident>/states/provision")
@schemas.documented(ns, 404, 409, *schemas.BODY_ERRORS)
class NodeProvision(Resource):
    @ns.expect(provision_request, validate=False)
    @ns.response(202, "Accepted; poll the node's states", headers=_LOCATION)
    def put(self, ident: str) -> Response:
        """Request a provisioning action: manage, provide, inspect, active, rebuild, ..."""
        body = json_body()
        verb = body.get("target")
        if not isinstance(verb, str):
            raise exceptions.MissingParameterValue(name="target")
        node = node_db.get(ident)
        node_rules.check_provision(node, verb)
        if node.maintenance and verb in _BLOCKED_IN_MAINTENANCE:
            raise exceptions.InvalidParameterValue(
                reason=f"node {node.uuid} is in maintenance; {verb!r} is not allowed"
            )
        instance, options = _provision_inputs(body, verb, node.driver)
        return _accepted(ConductorAPI().do_provisioning_action(node.uuid, verb, instance, options))


@ns.route("/<string:ident>/maintenance")
@schemas.documented(ns, 404)
class NodeMaintenance(Resource):
    @ns.expect(maintenance_request, validate=False)
    @ns.response(202, "Maintenance set")
    @schemas.documented(ns, *schemas.BODY_ERRORS)
    def put(self, ident: str) -> Response:
        """Put a node in maintenance, with an optional reason."""
        reason = json_body(optional=True).get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > _MAX_REASON):
            raise exceptions.InvalidParameterValue(
                reason=f"reason must be a string of at most {_MAX_REASON} characters"
            )
        _set_maintenance(ident, True, reason)
        return Response(status=202)

    @ns.response(202, "Maintenance cleared")
    def delete(self, ident: str) -> Response:
        """Take a node out of maintenance."""
        _set_maintenance(ident, False, None)
        return Response(status=202)


def _set_maintenance(ident: str, on: bool, reason: str | None) -> None:
    node = node_db.get(ident)
    message = f"maintenance {'set' if on else 'cleared'}" + (f": {reason}" if reason else "")
    node_db.set_maintenance(
        node.uuid, on, reason, node_db.Event(message, "maintenance", user="api")
    )


@ns.route("/<string:ident>/validate")
@schemas.documented(ns, 404)
class NodeValidate(Resource):
    @ns.response(200, "Each interface's validation", schemas.NODE_VALIDATE)
    def get(self, ident: str) -> dict[str, Any]:
        """Validate each of the node's interfaces (no hardware is contacted)."""
        return drivers_cache.validate(node_db.get(ident))


def _event(row: Any, node_uuid: str, detail: bool = True) -> dict[str, Any]:
    """One history event as Ironic shows it (``detail``: every field)."""
    data = {
        "uuid": row.uuid,
        "created_at": iso(row.created_at),
        "severity": row.severity,
        "event": masking.mask_text(row.event),
        "links": resource_links("nodes", f"{node_uuid}/history/{row.uuid}"),
    }
    if detail:
        data.update(event_type=row.event_type, conductor=row.conductor, user=row.user)
    return data


@ns.route("/<string:ident>/history")
@schemas.documented(ns, 404)
class NodeHistory(Resource):
    @ns.doc(
        params=schemas.query(
            detail=("boolean", "Every field of each event"),
            limit=("integer", "At most this many events"),
            marker=("string", "The UUID of the last event of the previous page"),
        )
    )
    @ns.response(200, "The node's events", schemas.NODE_HISTORY)
    def get(self, ident: str) -> dict[str, Any]:
        """The node's event log, oldest first (uuid, created_at, severity, event; all fields
        with ``detail``)."""
        node = node_db.get(ident)
        rows = node_db.history(node.uuid)
        marker = request.args.get("marker")
        if marker is not None:
            after = [i for i, row in enumerate(rows) if row.uuid == marker]
            if not after:
                raise exceptions.InvalidParameterValue(reason=f"marker {marker} is not an event")
            rows = rows[after[0] + 1 :]
        rows = rows[: limit_arg()]
        detail = bool_arg("detail") or False
        return {"history": [_event(row, node.uuid, detail) for row in rows]}


@ns.route("/<string:ident>/history/<string:event>")
@ns.param("event", "The event's UUID")
@schemas.documented(ns, 404)
class NodeHistoryEvent(Resource):
    @ns.response(200, "The event", schemas.EVENT)
    def get(self, ident: str, event: str) -> dict[str, Any]:
        """One event of the node's log."""
        node = node_db.get(ident)
        for row in node_db.history(node.uuid):
            if row.uuid == event:
                return _event(row, node.uuid)
        raise exceptions.NotFound(f"Node history record {event} could not be found.")


@ns.route("/<string:ident>/sensors")
@schemas.documented(ns, 404)
class NodeSensors(Resource):
    @ns.response(200, "The latest readings", schemas.NODE_SENSORS)
    def get(self, ident: str) -> dict[str, Any]:
        """The node's latest sensor readings, as its conductor last collected them
        (``IRONWORKS_SEND_SENSOR_DATA``); empty until the first collection."""
        node = node_db.get(ident)
        readings = sensor_db.latest(node.uuid)
        if readings is None:
            return {"node_uuid": node.uuid, "sensors": {}, "collected_at": None, "conductor": None}
        return {
            "node_uuid": node.uuid,
            "sensors": readings.data,
            "collected_at": iso(readings.collected_at),
            "conductor": readings.conductor,
        }
