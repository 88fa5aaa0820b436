"""``/v1/deploy_templates`` (1.55): deploy steps that a node runs when its instance asks
for the template's trait (``name``, a standard trait or ``CUSTOM_...``).

Each step names an ``interface``, a ``step``, its ``args`` and a ``priority`` (0 disables
it); an (interface, step) pair appears at most once; a template has at least one step.
"""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace
from sqlalchemy import RowMapping

from app import exceptions, masking
from app.api import checkers, records, schemas
from app.api.traits import check_trait
from app.api.utils import iso, resource_links
from app.db import stores

ns = Namespace("deploy_templates", description="Deploy templates", path="/deploy_templates")
schemas.register(ns, schemas.PATCH_OP)
STEP_INTERFACES = (
    "bios",
    "deploy",
    "firmware",
    "management",
    "network",
    "power",
    "raid",
    "rescue",
    "storage",
    "vendor",
)
_STEP_KEYS = {"interface", "step", "args", "priority"}


def _step(step: Any) -> dict[str, Any]:
    if not isinstance(step, dict) or set(step) - _STEP_KEYS or "step" not in step:
        raise exceptions.InvalidParameterValue(
            reason="a step is an object with interface, step, args and priority"
        )
    checked = {
        "interface": checkers.one_of("interface", STEP_INTERFACES)(step.get("interface")),
        "step": checkers.text("step", 255, nullable=False)(step["step"]),
        "args": checkers.json_object("args")(step.get("args")),
        "priority": checkers.integer("priority")(step.get("priority")),
    }
    return checked


def _steps(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise exceptions.InvalidParameterValue(reason="steps must be a non-empty list")
    steps = [_step(step) for step in value]
    seen = [(s["interface"], s["step"]) for s in steps]
    if len(set(seen)) != len(seen):
        raise exceptions.InvalidParameterValue(reason="a step appears twice in steps")
    return steps


def _view(row: RowMapping, base: str) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "name": row["name"],
        "steps": masking.mask({"steps": row["steps"] or []})["steps"],
        "extra": masking.mask(row["extra"] or {}),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "links": resource_links("deploy_templates", row["uuid"], base),
    }


KIND = records.Kind(
    name="deploy template",
    path="deploy_templates",
    key="deploy_templates",
    store=stores.DEPLOY_TEMPLATES,
    view=_view,
    writable={
        "name": check_trait,
        "steps": _steps,
        "extra": checkers.json_object("extra"),
        "uuid": checkers.uuid("uuid"),
    },
    summary=("uuid", "name"),
    required=("name", "steps"),
    min_version=55,
)
records.register(ns, KIND)
