"""The one place that turns exceptions into HTTP answers, in Ironic's error format.

Ironic clients parse ``{"error_message": "<JSON string>"}`` where the inner JSON carries
``faultstring``, ``faultcode`` and ``debuginfo``. Domain errors carry their own status;
HTTP errors from routing keep theirs; anything else is logged and answered as a 500 with no
traceback.
"""

from __future__ import annotations

import json
import logging

from flask import Response, current_app
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from app import masking
from app.exceptions import IronworksError

LOG = logging.getLogger(__name__)


def error_body(status: int, message: str) -> dict[str, str]:
    fault = {
        "faultstring": message,
        "faultcode": "Client" if status < 500 else "Server",
        "debuginfo": None,
    }
    return {"error_message": json.dumps(fault)}


def to_status_and_message(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, IronworksError):
        return exc.code, str(exc)
    if isinstance(exc, HTTPException):
        return exc.code or 500, exc.description or exc.name
    if isinstance(exc, sa_exc.IntegrityError):
        # A unique or foreign-key constraint the resource's own check did not name. The
        # engine hides statement parameters, and the message here names no value.
        LOG.warning("Write refused by a database constraint: %s", type(exc.orig).__name__)
        return 409, "The request conflicts with the current state of a resource."
    if isinstance(exc, sa_exc.DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError)
    ):
        LOG.warning("Database unavailable: %s", exc.orig)
        return 503, "The database is unavailable or restarting; please retry."
    LOG.exception("Unexpected error while serving a request")
    return 500, "Internal error; the details are in the API log."


def handle_error(exc: Exception) -> tuple[dict[str, str], int]:
    """flask-restx handler: returns ``(body, status)``."""
    status, message = to_status_and_message(exc)
    message = masking.mask_text(message)  # a credential in a URL or a header never shows
    if status >= 500:
        LOG.error("Request failed with %d: %s", status, message)
    return error_body(status, message), status


def flask_error_response(exc: Exception) -> Response:
    """The same mapping for routes outside the flask-restx API (``/``, unknown paths)."""
    body, status = handle_error(exc)
    return current_app.response_class(json.dumps(body), status=status, mimetype="application/json")
