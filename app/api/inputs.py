"""The one way resources read what a client sent: strict JSON bodies and clean URL text.

Everything here runs before a resource touches the database, so a refused request has
written nothing. :func:`read_json` refuses, each with a domain error (``errors.py`` answers):

* a non-empty body whose Content-Type is not JSON: 415 (``UnsupportedMediaType``);
* bytes that are not UTF-8, or text that is not strict JSON: 400. ``NaN``, ``Infinity`` and
  numbers that overflow to infinity (``1e999``) parse in Python but are not JSON, and the
  node would be stored with a value no client can read back;
* nesting deeper than :data:`MAX_DEPTH` (the C parser raises ``RecursionError`` near 1,000
  levels; a document that deep is never a node);
* a string or object key holding NUL or an unpaired UTF-16 surrogate (``"\\ud800"``):
  PostgreSQL ``text``/``jsonb`` refuse the first and UTF-8 cannot encode the second, so
  storing them failed as a 500 (or stored what the database could not give back).

Bodies over ``MAX_CONTENT_LENGTH`` get a 413: Werkzeug refuses a ``Content-Length`` over it
before reading anything, but silently cuts a chunked body at the limit, so a streamed body
that fills the limit is refused here.

:func:`read_patch` adds RFC 6902 checks: every ``path`` and ``from`` must point into a field
the caller may write. :func:`check_url_text` refuses NUL in the URL for the same database
reason, on every route.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from flask import current_app, request

from app import exceptions

#: Deepest nesting a body may have (a configdrive's network_data is about 5 levels).
MAX_DEPTH = 32
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _check_text(text: str, where: str) -> None:
    if _BAD_TEXT.search(text):
        raise exceptions.InvalidParameterValue(
            reason=f"{where} contains a NUL character or an unpaired UTF-16 surrogate"
        )


def check_document(value: Any, where: str = "the body", depth: int = 0) -> None:
    """Refuse text the database cannot store and nesting deeper than :data:`MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise exceptions.InvalidParameterValue(
            reason=f"the body is nested deeper than {MAX_DEPTH} levels"
        )
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"a key of {where}")
            check_document(item, f"{where}/{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_document(item, f"{where}/{index}", depth + 1)


def read_json() -> Any:
    """The request's JSON document, checked as the module docstring says; None if no body."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length is None and len(raw) >= limit:
        raise exceptions.RequestTooLarge(limit=limit)
    if not request.is_json:
        raise exceptions.UnsupportedMediaType(content_type=request.content_type or "")
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise exceptions.InvalidParameterValue(
            reason=f"the body is nested deeper than {MAX_DEPTH} levels"
        ) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise exceptions.Invalid(reason=f"the request body is not valid JSON: {exc}") from None
    check_document(doc)
    return doc


def _field_of(pointer: Any, writable: frozenset[str]) -> str:
    """The top-level field a JSON pointer names; 400 unless it is one of ``writable``."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise exceptions.Invalid(reason=f"{pointer!r} is not a JSON pointer to a field")
    field = pointer[1:].split("/", 1)[0].replace("~1", "/").replace("~0", "~")
    if field not in writable:
        raise exceptions.InvalidParameterValue(
            reason=f"'/{field}' cannot be changed with PATCH (read-only or unknown field)"
        )
    return field


def read_patch(writable: frozenset[str]) -> list[dict[str, Any]]:
    """A non-empty RFC 6902 patch whose ``path``/``from`` pointers stay in ``writable``."""
    patch = read_json()
    if not isinstance(patch, list) or not patch:
        raise exceptions.Invalid(reason="the body must be a non-empty JSON Patch list")
    for op in patch:
        if not isinstance(op, dict) or "path" not in op:
            raise exceptions.Invalid(reason=f"malformed patch operation: {op!r}")
        _field_of(op["path"], writable)
        if "from" in op:
            _field_of(op["from"], writable)
    return patch


def _url_texts() -> Iterable[str]:
    yield request.path
    for key, values in request.args.lists():
        yield key
        yield from values


def check_url_text() -> None:
    """``before_request`` hook: a NUL in the path or the query string is a 400."""
    if any("\x00" in text for text in _url_texts()):
        raise exceptions.InvalidParameterValue(reason="the URL contains a NUL character")


def _declared_query(view: Any, method: str) -> frozenset[str] | None:
    """The query parameters the OpenAPI document declares for ``method`` of ``view``'s
    resource (class-level and method-level ``@ns.doc(params=...)``); None for a route
    outside the flask-restx API."""
    resource = getattr(view, "view_class", None)
    handler = getattr(resource, method.lower(), None)
    if resource is None or handler is None:
        return None
    names: set[str] = set()
    for doc in (getattr(resource, "__apidoc__", {}), getattr(handler, "__apidoc__", {})):
        for name, param in (doc.get("params") or {}).items():
            if isinstance(param, dict) and param.get("in", "query") == "query":
                names.add(name)
    return frozenset(names)


def check_query_args() -> None:
    """``before_request`` hook: a query parameter the operation does not declare is a 400
    naming it, as in Ironic, rather than silently ignored (``GET /v1/nodes?instance_uuid=``
    on a server without that filter would otherwise list every node)."""
    if not request.args or request.endpoint is None:
        return
    declared = _declared_query(current_app.view_functions.get(request.endpoint), request.method)
    if declared is None:
        return
    unknown = sorted(set(request.args) - declared)
    if unknown:
        raise exceptions.InvalidParameterValue(
            reason=f"unknown query parameter(s): {', '.join(unknown)[:200]}; "
            f"this operation takes: {', '.join(sorted(declared)) or 'none'}"
        )
