"""The ``ipmi`` management interface: boot device and sensors through pyghmi.

Boot devices use Ironic's names; pyghmi's are ``network``, ``hd``, ``optical`` and
``setup``. A BMC whose boot flags are not valid (no override requested) reports no device.

Sensor data comes from the BMC's SDR repository and Get Sensor Reading
(``Command.get_sensor_data``), grouped by sensor type as Ironic publishes it::

    {"Temperature": {"CPU1 Temp": {"Sensor ID": "CPU1 Temp", "Sensor Reading": "40 C",
                                   "Units": "C", "Health": "OK", "State": "ok"}}, ...}
"""

from __future__ import annotations

from typing import Any

from app import exceptions
from drivers.base import BOOT_DEVICES, BootDevice, ManagementInterface, NodeView
from drivers.ipmi import client

#: Ironic's boot device names and pyghmi's.
TO_PYGHMI = {"pxe": "network", "disk": "hd", "cdrom": "optical", "bios": "setup"}
FROM_PYGHMI = {value: key for key, value in TO_PYGHMI.items()}
#: pyghmi's health bits (``pyghmi.constants.Health``), worst first.
_HEALTH = ((4, "Failed"), (2, "Critical"), (1, "Warning"))


def _reading_text(reading: Any) -> tuple[str, str]:
    """The value with its unit as text (``"40 C"``), and the unit alone."""
    units = str(reading.units or "").replace("°", "").strip()
    if getattr(reading, "unavailable", 0):
        return "N/A", units
    if reading.value is None:  # a discrete sensor: its states say it all
        return ", ".join(reading.states) or "N/A", units
    return f"{reading.value:g} {units}".strip(), units


def _health(bits: int) -> str:
    for bit, name in _HEALTH:
        if bits & bit:
            return name
    return "OK"


def sensor_entry(reading: Any) -> dict[str, Any]:
    """One pyghmi ``SensorReading`` as a JSON-ready dict."""
    text, units = _reading_text(reading)
    return {
        "Sensor ID": str(reading.name),
        "Sensor Reading": text,
        "Units": units,
        "Health": _health(int(reading.health or 0)),
        "State": ", ".join(reading.states) or "ok",
    }


class IPMIManagement(ManagementInterface):
    name = "ipmi"

    def get_properties(self) -> dict[str, str]:
        return dict(client.PROPERTIES)

    def validate(self, node: NodeView) -> None:
        client.parse(node)

    def get_supported_boot_devices(self, node: NodeView) -> list[str]:
        return list(BOOT_DEVICES)

    def set_boot_device(self, node: NodeView, device: str, persistent: bool = False) -> None:
        if device not in TO_PYGHMI:
            raise exceptions.InvalidParameterValue(
                reason=f"Node {node.uuid}: unsupported boot device {device!r}; "
                f"supported: {', '.join(BOOT_DEVICES)}"
            )

        def set_bootdev(command: Any) -> None:
            answer = command.set_bootdev(TO_PYGHMI[device], persist=persistent)
            if isinstance(answer, dict) and "error" in answer:
                raise exceptions.InvalidParameterValue(reason=str(answer["error"]))

        client.run(node, f"set boot device {device}", set_bootdev)

    def get_boot_device(self, node: NodeView) -> BootDevice:
        answer: dict[str, Any] = client.run(node, "get boot device", lambda cmd: cmd.get_bootdev())
        device = FROM_PYGHMI.get(str(answer.get("bootdev")))
        if device is None:  # no override, or one Ironic has no name for
            return BootDevice(None, None)
        return BootDevice(device, bool(answer.get("persistent")))

    def get_sensors_data(self, node: NodeView) -> dict[str, dict[str, dict[str, Any]]]:
        readings = client.run(node, "get sensors data", lambda cmd: list(cmd.get_sensor_data()))
        data: dict[str, dict[str, dict[str, Any]]] = {}
        for reading in readings:
            data.setdefault(str(reading.type), {})[str(reading.name)] = sensor_entry(reading)
        return data
