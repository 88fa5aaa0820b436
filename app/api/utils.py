"""Helpers shared by the API resources: request bodies, links, pagination."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import request

from app import exceptions
from app.api import inputs
from app.api.versions import link, url_base

MAX_LIMIT = 1000


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object (``{}`` for no body when ``optional``), or a 4xx that says
    what is wrong with it (:func:`app.api.inputs.read_json`)."""
    body = inputs.read_json()
    if body is None and optional:
        return {}
    if body is None:
        raise exceptions.Invalid(reason="the request body is empty; expected a JSON object")
    if not isinstance(body, dict):
        raise exceptions.Invalid(reason="the request body must be a JSON object")
    return body


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).isoformat()


def resource_links(collection: str, ident: str, base: str | None = None) -> list[dict[str, str]]:
    base = url_base() if base is None else base
    return [
        link(f"/v1/{collection}/{ident}", base=base),
        link(f"/{collection}/{ident}", "bookmark", base),
    ]


def limit_arg() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return MAX_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise exceptions.InvalidParameterValue(
            reason=f"limit must be an integer: {raw!r}"
        ) from None
    if limit < 0:
        raise exceptions.InvalidParameterValue(reason="limit must be positive")
    return min(limit, MAX_LIMIT) if limit else MAX_LIMIT


def bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise exceptions.InvalidParameterValue(reason=f"{name} must be a boolean: {raw!r}")


def next_link(collection: str, idents: list[str], limit: int) -> str | None:
    """Ironic's ``next`` link: present when the page is full."""
    if not idents or len(idents) < limit:
        return None
    args = [(k, v) for k, vs in request.args.lists() for v in vs if k not in ("marker", "limit")]
    args += [("limit", str(limit)), ("marker", idents[-1])]
    return link(f"/v1/{collection}?{urlencode(args)}")["href"]


def fields_arg() -> str | None:
    """The ``fields`` argument, repeated (``fields=a&fields=b``, as gophercloud sends it) or
    comma-separated (``fields=a,b``) or both, as one comma-separated text."""
    values = [value for value in request.args.getlist("fields") if value.strip()]
    return ",".join(values) or None


def field_names(wanted: str | None) -> list[str] | None:
    """The names in a ``fields=`` argument (None when there is none)."""
    if not wanted:
        return None
    return [name.strip() for name in wanted.split(",") if name.strip()] or None


def select_fields(data: dict[str, Any], wanted: str | None) -> dict[str, Any]:
    """Only the comma-separated ``wanted`` fields (and links); 400 for an unknown field."""
    names = field_names(wanted)
    if names is None:
        return data
    unknown = sorted(set(names) - set(data))
    if unknown:
        raise exceptions.InvalidParameterValue(
            reason=f"unknown fields requested: {', '.join(unknown)}"
        )
    selected = {name: data[name] for name in names}
    if "links" in data:
        selected["links"] = data["links"]
    return selected
