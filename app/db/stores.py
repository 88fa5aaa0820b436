"""Where each plain resource is kept (:class:`app.db.records.Store` per table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from app import exceptions
from app.db.models import (
    Allocation,
    Chassis,
    DeployTemplate,
    Portgroup,
    VolumeConnector,
    VolumeTarget,
)
from app.db.records import Store


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


CHASSIS = Store(
    table=_table(Chassis),
    not_found=lambda ident: exceptions.ChassisNotFound(chassis=ident),
    duplicate=lambda values: exceptions.RecordAlreadyExists(
        kind="chassis", what=f"UUID {values.get('uuid')}"
    ),
)
VOLUME_CONNECTORS = Store(
    table=_table(VolumeConnector),
    not_found=lambda ident: exceptions.VolumeConnectorNotFound(connector=ident),
    duplicate=lambda values: exceptions.RecordAlreadyExists(
        kind="volume connector",
        what=f"this UUID or type {values.get('type')!r} and connector_id "
        f"{values.get('connector_id')!r}",
    ),
)
VOLUME_TARGETS = Store(
    table=_table(VolumeTarget),
    not_found=lambda ident: exceptions.VolumeTargetNotFound(target=ident),
    duplicate=lambda values: exceptions.RecordAlreadyExists(
        kind="volume target",
        what=f"this UUID or boot_index {values.get('boot_index')!r} on its node",
    ),
)

PORTGROUPS = Store(
    table=_table(Portgroup),
    not_found=lambda ident: exceptions.PortgroupNotFound(portgroup=ident),
    duplicate=lambda values: exceptions.RecordAlreadyExists(
        kind="port group",
        what=f"this UUID, name {values.get('name')!r} or address {values.get('address')!r}",
    ),
    name_column="name",
)

DEPLOY_TEMPLATES = Store(
    table=_table(DeployTemplate),
    not_found=lambda ident: exceptions.DeployTemplateNotFound(template=ident),
    duplicate=lambda values: exceptions.RecordAlreadyExists(
        kind="deploy template", what=f"this UUID or name {values.get('name')!r}"
    ),
    name_column="name",
)

ALLOCATIONS = Store(
    table=_table(Allocation),
    not_found=lambda ident: exceptions.AllocationNotFound(allocation=ident),
    duplicate=lambda values: exceptions.RecordAlreadyExists(
        kind="allocation", what=f"this UUID or name {values.get('name')!r}"
    ),
    name_column="name",
)


def chassis_uuid(ident: str) -> str:
    """The UUID of the chassis ``ident``; a 400 if there is none (a node names it)."""
    try:
        return str(CHASSIS.get(ident)["uuid"])
    except exceptions.ChassisNotFound:
        raise exceptions.InvalidParameterValue(
            reason=f"Chassis {ident} could not be found."
        ) from None
