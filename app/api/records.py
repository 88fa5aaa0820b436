"""The plain resources' REST shape, shared: Ironic's list (``limit``, ``marker``,
``sort_key``, ``sort_dir``, ``fields``, ``detail``, filters, ``next``), ``/detail``, show
(``fields``), create (201 with ``Location``), JSON Patch and delete (204).

A resource module describes its :class:`Kind` (fields and their checks, its view, its
rules) and calls :func:`register`; node-scoped listings (``/v1/nodes/<id>/portgroups``...)
call :func:`listing`. Below the kind's microversion every route is a 404, as in Ironic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request
from flask_restx import Namespace, Resource, fields
from sqlalchemy import RowMapping

from app import exceptions
from app.api import inputs, patching, schemas
from app.api.utils import (
    bool_arg,
    field_names,
    fields_arg,
    json_body,
    limit_arg,
    next_link,
    select_fields,
)
from app.api.versions import require, url_base
from app.db import nodes as node_db
from app.db.records import Check, Store

#: A field's check: the value as given in, the value to store out (a 400 if bad).
Checker = Callable[[Any], Any]
#: A query filter: the argument's text in, ``{column: value}`` to match out.
Filter = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """One plain resource: where it lives, what may be written, how it looks."""

    name: str  # in messages: "chassis", "volume connector"
    path: str  # the collection below /v1: "chassis", "volume/connectors"
    key: str  # the list's key in a listing: "chassis", "connectors"
    store: Store
    view: Callable[[RowMapping, str], dict[str, Any]]  # the full body (base URL given)
    writable: dict[str, Checker]
    summary: tuple[str, ...]  # the fields a listing without ``detail`` shows
    required: tuple[str, ...] = ()
    min_version: int = 1
    filters: dict[str, tuple[str, Filter]] = field(default_factory=dict)
    #: Fields given only on create (an allocation's resource class and traits...).
    create_only: dict[str, Checker] = field(default_factory=dict)
    on_create: Check | None = None
    on_update: Check | None = None
    on_delete: Check | None = None
    #: Run once a new record is committed (an allocation is queued for a conductor).
    after_create: Callable[[RowMapping], None] | None = None


def check_fields(kind: Kind, values: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """Each of ``values`` checked by its checker; unknown or read-only fields are a 400."""
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise exceptions.InvalidParameterValue(
            reason=f"unknown or read-only {kind.name} fields: {', '.join(unknown)}"
        )
    checks = {**kind.create_only, **kind.writable}
    return {name: checks[name](value) for name, value in values.items()}


def gate(kind: Kind) -> None:
    require(kind.min_version, f"The {kind.name} API")


def _shown(kind: Kind, row: RowMapping, base: str, detail: bool) -> dict[str, Any]:
    body = kind.view(row, base)
    if detail:
        return body
    return {name: body[name] for name in (*kind.summary, "links")}


def listing(kind: Kind, collection: str, scope: dict[str, Any], detail: bool) -> dict[str, Any]:
    """A page of ``kind`` records matching ``scope`` and the request's filters."""
    gate(kind)
    wanted = fields_arg()
    if detail and wanted and request.path.endswith("/detail"):
        raise exceptions.InvalidParameterValue(reason="fields cannot be combined with detail")
    matching = dict(scope)
    for name, (_text, to_filter) in kind.filters.items():
        if name in request.args:
            matching.update(to_filter(request.args[name]))
    limit = limit_arg()
    rows = kind.store.list(
        matching,
        limit,
        request.args.get("marker"),
        request.args.get("sort_key", "id"),
        request.args.get("sort_dir", "asc"),
    )
    base = url_base()
    full = detail or field_names(wanted) is not None
    items = [select_fields(_shown(kind, row, base, full), wanted) for row in rows]
    body: dict[str, Any] = {kind.key: items}
    following = next_link(collection, [str(row["uuid"]) for row in rows], limit)
    if following:
        body["next"] = following
    return body


def node_listing(kind: Kind, ident: str, below: str, detail: bool = False) -> dict[str, Any]:
    """A page of the node ``ident``'s ``kind`` records, at ``/v1/nodes/<uuid>/<below>``
    (``detail`` for its ``/detail`` route, else as the ``detail`` argument says)."""
    gate(kind)
    node = node_db.get(ident)
    collection = f"nodes/{node.uuid}/{below}" + ("/detail" if detail else "")
    return listing(kind, collection, {"node_id": node.id}, detail or bool(bool_arg("detail")))


def list_query(kind: Kind) -> dict[str, Any]:
    return {
        **schemas.LIST_QUERY,
        **schemas.query(sort_key=("string", "Field to sort on"), sort_dir=("string", "asc/desc")),
        **schemas.query(**{name: ("string", text) for name, (text, _f) in kind.filters.items()}),
    }


def register(ns: Namespace, kind: Kind) -> None:
    """The collection, ``/detail`` and item routes of ``kind`` on ``ns``."""
    body = ns.model(kind.name.title().replace(" ", ""), {"uuid": fields.String()})
    body_list = ns.model(
        kind.name.title().replace(" ", "") + "List",
        {kind.key: fields.List(fields.Raw, required=True), "next": fields.String()},
    )
    query = list_query(kind)
    _collection(ns, kind, query, body, body_list)
    _item(ns, kind, body)


def _collection(
    ns: Namespace, kind: Kind, query: dict[str, Any], body: Any, body_list: Any
) -> None:
    @ns.route("")
    @schemas.documented(ns, 404)
    class Collection(Resource):
        @ns.doc(params=query)
        @ns.response(200, f"The {kind.name} records", body_list)
        def get(self) -> dict[str, Any]:
            return listing(kind, kind.path, {}, bool_arg("detail") or False)

        @ns.expect(body, validate=False)
        @ns.response(201, f"The {kind.name} created", body)
        @schemas.documented(ns, 400, 409, *schemas.BODY_ERRORS)
        def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
            gate(kind)
            given = json_body()
            missing = [name for name in kind.required if given.get(name) is None]
            if missing:
                raise exceptions.MissingParameterValue(name=", ".join(missing))
            values = check_fields(kind, given, {*kind.writable, *kind.create_only, "uuid"})
            row = kind.store.create(values, kind.on_create)
            if kind.after_create is not None:
                kind.after_create(row)
            shown = kind.view(row, url_base())
            return shown, 201, {"Location": shown["links"][0]["href"]}

    @ns.route("/detail")
    @schemas.documented(ns, 404)
    class DetailCollection(Resource):
        @ns.doc(params={k: v for k, v in query.items() if k not in ("fields", "detail")})
        @ns.response(200, f"The {kind.name} records with every field", body_list)
        def get(self) -> dict[str, Any]:
            return listing(kind, f"{kind.path}/detail", {}, True)

    Collection.__name__ = f"{kind.key}_collection"
    DetailCollection.__name__ = f"{kind.key}_detail"


def _item(ns: Namespace, kind: Kind, body: Any) -> None:
    @ns.route("/<string:ident>")
    @ns.param("ident", f"The {kind.name}'s UUID")
    @schemas.documented(ns, 404)
    class Item(Resource):
        @ns.doc(params={"fields": schemas.LIST_QUERY["fields"]})
        @ns.response(200, f"The {kind.name}", body)
        def get(self, ident: str) -> dict[str, Any]:
            gate(kind)
            return select_fields(kind.view(kind.store.get(ident), url_base()), fields_arg())

        @ns.expect([schemas.PATCH_OP], validate=False)
        @ns.response(200, f"The updated {kind.name}", body)
        @schemas.documented(ns, 400, 409, *schemas.BODY_ERRORS)
        def patch(self, ident: str) -> dict[str, Any]:
            gate(kind)
            patch = inputs.read_patch(frozenset(kind.writable))
            row = kind.store.get(ident)
            shown = kind.view(row, url_base())
            doc = {name: _real(row, shown, name) for name in kind.writable}
            changed = patching.changed_fields(doc, patching.apply(doc, patch))
            values = check_fields(kind, changed, set(kind.writable))
            if values:
                row = kind.store.update(row, values, kind.on_update)
            return kind.view(row, url_base())

        @ns.response(204, f"The {kind.name} is deleted")
        @schemas.documented(ns, 400, 409)
        def delete(self, ident: str) -> Response:
            gate(kind)
            kind.store.delete(ident, kind.on_delete)
            return Response(status=204)

    Item.__name__ = f"{kind.key}_item"


def _real(row: RowMapping, shown: dict[str, Any], name: str) -> Any:
    """A writable field's stored value (unmasked), or what the view shows for fields that
    are not columns (``node_uuid``)."""
    return row[name] if name in row else shown.get(name)
