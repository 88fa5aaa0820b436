"""``/v1/nodes/<id>/traits`` (1.37): a node's traits, as Nova's scheduler and Ironic's
deploy templates use them.

A trait is a standard name from ``os-traits`` (``HW_CPU_X86_AVX2``...) or a custom one
(``CUSTOM_`` then upper-case letters, digits and ``_``), at most 255 characters; a node has
at most 50. Writes need the node unlocked (409) and answer 204, as in Ironic.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import os_traits
from flask import Response
from flask_restx import Resource, fields

from app import exceptions
from app.api import nodes, schemas
from app.api.utils import json_body
from app.api.versions import require
from app.db import nodes as node_db
from app.db import traits as trait_db

ns = nodes.ns
_CUSTOM = re.compile(r"^CUSTOM_[A-Z0-9_]+$")

traits_model = ns.model("NodeTraits", {"traits": fields.List(fields.String, required=True)})


@functools.cache
def _standard() -> frozenset[str]:
    return frozenset(os_traits.get_traits())


def check_trait(value: Any) -> str:
    """``value`` if it is a valid trait name; a 400 naming it otherwise."""
    known = isinstance(value, str) and (value in _standard() or _CUSTOM.fullmatch(value))
    if known and len(value) <= 255:
        return str(value)
    raise exceptions.InvalidParameterValue(
        reason=f"{str(value)[:300]!r} is not a trait: use a standard trait or CUSTOM_[A-Z0-9_]+"
    )


def _accepted() -> Response:
    return Response(status=204)


@ns.route("/<string:ident>/traits")
@ns.param("ident", "Node UUID or name")
@schemas.documented(ns, 404)
class NodeTraits(Resource):
    @ns.response(200, "The node's traits", traits_model)
    def get(self, ident: str) -> dict[str, Any]:
        """The node's traits."""
        require(37, "Node traits")
        node = node_db.get(ident)
        return {"traits": trait_db.of_nodes([node.id])[node.id]}

    @ns.expect(traits_model, validate=False)
    @ns.response(204, "The node's traits are now exactly these")
    @schemas.documented(ns, 400, 409, *schemas.BODY_ERRORS)
    def put(self, ident: str) -> Response:
        """Replace all the node's traits."""
        require(37, "Node traits")
        given = json_body().get("traits")
        if not isinstance(given, list):
            raise exceptions.InvalidParameterValue(reason="traits must be a list of traits")
        wanted = {check_trait(t) for t in given}
        trait_db.change(ident, lambda _current: wanted)
        return _accepted()

    @ns.response(204, "The node has no traits")
    @schemas.documented(ns, 409)
    def delete(self, ident: str) -> Response:
        """Remove all the node's traits."""
        require(37, "Node traits")
        trait_db.change(ident, lambda _current: set())
        return _accepted()


@ns.route("/<string:ident>/traits/<string:trait>")
@ns.param("ident", "Node UUID or name")
@ns.param("trait", "A trait")
@schemas.documented(ns, 404)
class NodeTrait(Resource):
    @ns.response(204, "The node has this trait")
    @schemas.documented(ns, 400, 409)
    def put(self, ident: str, trait: str) -> Response:
        """Add one trait to the node (nothing changes if it has it)."""
        require(37, "Node traits")
        name = check_trait(trait)
        trait_db.change(ident, lambda current: current | {name})
        return _accepted()

    @ns.response(204, "The trait is removed")
    @schemas.documented(ns, 409)
    def delete(self, ident: str, trait: str) -> Response:
        """Remove one trait from the node; 404 if the node does not have it."""
        require(37, "Node traits")

        def without(current: set[str]) -> set[str]:
            if trait not in current:
                raise exceptions.NodeTraitNotFound(node=ident, trait=trait)
            return current - {trait}

        trait_db.change(ident, without)
        return _accepted()
