"""The ``ipmi`` inspect interface: what IPMI itself can tell about a machine.

IPMI has no standard hardware inventory (CPUs, memory, disks, NICs): Ironic's ``ipmi``
hardware type inspects by booting an agent ramdisk (``agent`` inspection) that reports
them. Out of band, this interface records what the BMC answers:

* ``bmc_device_id``, ``bmc_device_revision``, ``bmc_firmware_version``, ``ipmi_version``,
  ``bmc_manufacturer_id`` (IANA enterprise number), ``bmc_product_id`` (Get Device ID);
* ``system_uuid`` (Get System GUID), when the BMC implements it;
* ``boot_mode`` (``uefi`` or ``bios``), when the BMC's boot flags are valid and so report it.

It returns no MAC addresses: IPMI only knows its own LAN channel's MAC, which is the BMC's,
not a NIC of the host, and must not become a port.
"""

from __future__ import annotations

import uuid
from typing import Any

from drivers.base import InspectInterface, InspectResult, NodeView
from drivers.ipmi import client


def _device_id(data: bytes) -> dict[str, Any]:
    """Decode a Get Device ID answer (IPMI table 20-2)."""
    version = data[4]
    return {
        "bmc_device_id": data[0],
        "bmc_device_revision": data[1] & 0x0F,
        "bmc_firmware_version": f"{data[2] & 0x7F}.{data[3]:02x}",
        "ipmi_version": f"{version & 0x0F}.{version >> 4}",
        "bmc_manufacturer_id": int.from_bytes(data[6:9], "little"),
        "bmc_product_id": int.from_bytes(data[9:11], "little"),
    }


def _optional(command: Any, netfn: int, cmd: int) -> bytes | None:
    """The data of an optional command; None if the BMC answers it with an error code."""
    from pyghmi import exceptions as pyghmi_exc

    try:
        return bytes(command.xraw_command(netfn=netfn, command=cmd)["data"])
    except pyghmi_exc.IpmiException as exc:
        code: int = getattr(exc, "ipmicode", 0)
        if code and client.classify(exc) == "protocol":
            return None  # e.g. C1h "invalid command": not implemented
        raise


def _read_properties(command: Any) -> dict[str, Any]:
    properties = _device_id(bytes(command.xraw_command(netfn=0x06, command=0x01)["data"]))
    guid = _optional(command, 0x06, 0x37)
    if guid is not None and len(guid) >= 16:
        properties["system_uuid"] = str(uuid.UUID(bytes_le=guid[:16]))
    boot = command.get_bootdev()
    if boot.get("bootdev") != "default" and "uefimode" in boot:
        properties["boot_mode"] = "uefi" if boot["uefimode"] else "bios"
    return properties


class IPMIInspect(InspectInterface):
    name = "ipmi"

    def validate(self, node: NodeView) -> None:
        client.parse(node)

    def inspect_hardware(self, node: NodeView) -> InspectResult | str:
        properties = client.run(node, "inspect hardware", _read_properties)
        return InspectResult(properties=properties, macs=[])
