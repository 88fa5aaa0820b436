"""The REST API: a Flask app with a flask-restx ``Api`` under ``/v1``.

Resources validate, record intent in the database and route work through
``app.rpcapi``; they raise domain errors and never build error answers themselves:
``app/api/errors.py`` does that for every route. Who may call what is
``app/api/auth.py``'s business (``IRONWORKS_AUTH_STRATEGY``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, jsonify
from flask_restx import Api

from app import metrics
from app.api import (
    allocations,
    auth,
    chassis,
    conductors,
    deploy_templates,
    drivers,
    errors,
    inputs,
    nodes,
    portgroups,
    ports,
    versions,
    volume,
)
from app.api import node_actions as _node_actions  # noqa: F401  (routes on nodes.ns)
from app.api import traits as _traits  # noqa: F401  (routes on nodes.ns)
from app.api import vifs as _vifs  # noqa: F401  (routes on nodes.ns)
from app.config import get_settings
from app.db import migrate
from app.db.engine import get_engine

LOG = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


def _build_api(blueprint: Blueprint) -> Api:
    api = Api(
        blueprint,
        title="Ironworks API",
        version=versions.fmt(versions.MAX_VERSION),
        description="Bare-metal provisioning, compatible with the OpenStack Ironic v1 API.",
        doc="/docs",
        catch_all_404s=True,
        # http_basic deployments want credentials on every operation but version discovery.
        authorizations={"basic": {"type": "basic"}},
        security="basic",
    )
    api.handle_error = errors.flask_error_response
    for namespace in (
        nodes.ns,
        ports.ns,
        conductors.ns,
        drivers.ns,
        chassis.ns,
        portgroups.ns,
        deploy_templates.ns,
        allocations.ns,
        *volume.NAMESPACES,
    ):
        api.add_namespace(namespace)
    return api


def create_app(migrate_db: bool = True) -> Flask:
    """Build the WSGI app; by default brings the schema to head first."""
    if migrate_db:
        migrate.upgrade(get_engine())
    app = Flask("ironworks")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["RESTX_MASK_SWAGGER"] = False
    app.url_map.strict_slashes = False
    metrics.init_app(app)  # first, so its hooks time every request (GET /metrics, no doc)
    blueprint = Blueprint("v1", __name__, url_prefix="/v1")

    @blueprint.route("/", strict_slashes=False)
    def v1_root() -> Any:
        return jsonify(versions.v1_document())

    _build_api(blueprint)
    app.register_blueprint(blueprint)

    @app.route("/")
    def root() -> Any:
        return jsonify(versions.root_document())

    auth.install(app, get_settings())  # before negotiation: anonymous callers learn nothing
    app.before_request(versions.negotiate)
    app.before_request(inputs.check_url_text)  # NUL in a URL: 400, not a database error
    app.before_request(inputs.check_query_args)  # an undeclared query parameter: 400
    app.after_request(versions.add_headers)
    app.register_error_handler(Exception, errors.flask_error_response)
    return app
