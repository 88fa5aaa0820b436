"""The ``redfish`` management interface: boot device override and sensor readings.

Boot devices map to Redfish ``BootSourceOverrideTarget`` values (pxe: Pxe, disk: Hdd,
cdrom: Cd, bios: BiosSetup); a device the system does not advertise in
``BootSourceOverrideTarget@Redfish.AllowableValues`` is refused before anything is sent.
Persistence is ``BootSourceOverrideEnabled``: ``Continuous`` when persistent, ``Once`` when
not. (sushy-tools always reports ``Continuous`` and offers no ``BiosSetup``.)

Sensors come from each chassis the system is in: ``Thermal`` gives ``Temperature`` and
``Fan`` readings, ``Power`` gives ``Power`` (power supplies) and ``Voltage`` readings. A
chassis without one of those resources just contributes nothing of that type. Sensor ids
are ``<name> <member id>@<chassis id>``, unique across the chassis of a BMC.
"""

from __future__ import annotations

import contextlib
from typing import Any

import sushy
from sushy import exceptions as sushy_exc
from sushy.resources.chassis.thermal import constants as thermal_cons

from app import exceptions
from drivers.base import BOOT_DEVICES, BootDevice, ManagementInterface, NodeView
from drivers.redfish import client

BOOT_SOURCES = {
    "pxe": sushy.BootSource.PXE,
    "disk": sushy.BootSource.HDD,
    "cdrom": sushy.BootSource.CD,
    "bios": sushy.BootSource.BIOS_SETUP,
}
DEVICES = {source: device for device, source in BOOT_SOURCES.items()}

Readings = dict[str, dict[str, dict[str, Any]]]


def supported_devices(system: Any) -> list[str]:
    allowed = system.get_allowed_system_boot_source_values()
    return [device for device in BOOT_DEVICES if BOOT_SOURCES[device] in allowed]


def set_boot(node: NodeView, system: Any, device: str, persistent: bool) -> None:
    """Point the system's boot override at ``device`` (checked against what it offers)."""
    supported = supported_devices(system)
    if device not in supported:
        raise exceptions.InvalidParameterValue(
            reason=f"Node {node.uuid}: the BMC does not offer boot device {device!r}; "
            f"it offers {', '.join(supported) or 'none'}"
        )
    enabled = (
        sushy.BootSourceOverrideEnabled.CONTINUOUS
        if persistent
        else sushy.BootSourceOverrideEnabled.ONCE
    )
    system.set_system_boot_options(BOOT_SOURCES[device], enabled=enabled)


def _check_device(node: NodeView, device: str) -> None:
    if device not in BOOT_DEVICES:
        raise exceptions.InvalidParameterValue(
            reason=f"Node {node.uuid}: unknown boot device {device!r}; "
            f"expected one of {', '.join(BOOT_DEVICES)}"
        )


def _boot_device(system: Any) -> BootDevice:
    boot = system.boot
    enabled = boot.enabled
    persistent = None if enabled is None else enabled == sushy.BootSourceOverrideEnabled.CONTINUOUS
    return BootDevice(DEVICES.get(boot.target), persistent)


# -- sensors ---------------------------------------------------------------------------------
def _status(status: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    if status is not None and status.health is not None:
        fields["Health"] = status.health.value
    if status is not None and status.state is not None:
        fields["State"] = status.state.value
    return fields


def _sensor_id(name: Any, member_id: Any, chassis_id: str) -> str:
    return f"{name or 'Sensor'} {member_id}@{chassis_id}"


def _thermal(chassis: Any, readings: Readings) -> None:
    thermal = chassis.thermal
    for temp in thermal.temperatures:
        if temp.reading_celsius is None:
            continue
        readings["Temperature"][_sensor_id(temp.name, temp.identity, chassis.identity)] = {
            "Sensor Reading": f"{temp.reading_celsius} C",
            "Physical Context": temp.physical_context,
            **_status(temp.status),
        }
    for fan in thermal.fans:
        if fan.reading is None:
            continue
        unit = "%" if fan.reading_units == thermal_cons.FanReadingUnit.PERCENT else "RPM"
        readings["Fan"][_sensor_id(fan.name, fan.identity, chassis.identity)] = {
            "Sensor Reading": f"{fan.reading} {unit}",
            "Physical Context": fan.physical_context,
            **_status(fan.status),
        }


def _power(chassis: Any, readings: Readings) -> None:
    power = chassis.power
    for psu in power.power_supplies:
        watts = psu.last_power_output_watts
        readings["Power"][_sensor_id(psu.name, psu.identity, chassis.identity)] = {
            "Sensor Reading": f"{watts} W" if watts is not None else "N/A",
            "Input Voltage": psu.line_input_voltage,
            "Capacity": psu.power_capacity_watts,
            **_status(psu.status),
        }
    for volt in power.json.get("Voltages") or []:  # sushy has no model for these
        reading = volt.get("ReadingVolts")
        if reading is None:
            continue
        status = volt.get("Status") or {}
        readings["Voltage"][
            _sensor_id(volt.get("Name"), volt.get("MemberId"), chassis.identity)
        ] = {
            "Sensor Reading": f"{reading} V",
            **{key: status[key] for key in ("Health", "State") if key in status},
        }


def _optional(read: Any, chassis: Any, readings: Readings) -> None:
    """Read one resource a chassis may lack (a missing link or a 404 is no error)."""
    with contextlib.suppress(sushy_exc.MissingAttributeError, sushy_exc.ResourceNotFoundError):
        read(chassis, readings)


def sensors(system: Any) -> Readings:
    readings: Readings = {"Temperature": {}, "Fan": {}, "Power": {}, "Voltage": {}}
    try:
        chassis_list = system.chassis
    except sushy_exc.MissingAttributeError:
        chassis_list = []
    for chassis in chassis_list:
        _optional(_thermal, chassis, readings)
        _optional(_power, chassis, readings)
    return readings


class RedfishManagement(ManagementInterface):
    name = "redfish"

    def get_properties(self) -> dict[str, str]:
        return dict(client.COMMON_PROPERTIES)

    def validate(self, node: NodeView) -> None:
        client.parse(node)

    def get_supported_boot_devices(self, node: NodeView) -> list[str]:
        return client.run(node, "get supported boot devices", supported_devices)

    def set_boot_device(self, node: NodeView, device: str, persistent: bool = False) -> None:
        _check_device(node, device)
        client.run(
            node,
            f"set boot device to {device}",
            lambda system: set_boot(node, system, device, persistent),
        )

    def get_boot_device(self, node: NodeView) -> BootDevice:
        return client.run(node, "get boot device", _boot_device)

    def get_sensors_data(self, node: NodeView) -> Readings:
        return client.run(node, "get sensors data", sensors)
