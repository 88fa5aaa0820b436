"""The ``redfish`` hardware type: a BMC speaking DMTF Redfish, through the ``sushy`` library.

Like Ironic's ``ironic/drivers/redfish.py``, the hardware type is only the list of the
interfaces it supports; the work lives in one module per concept:

* :mod:`drivers.redfish.client`: ``driver_info``, the connection cache, error sorting;
* :mod:`drivers.redfish.power`: reset and wait for the new power state;
* :mod:`drivers.redfish.management`: boot device and sensors;
* :mod:`drivers.redfish.boot`: virtual media boot (``redfish-virtual-media``);
* :mod:`drivers.redfish.inspect`: out-of-band inspection.

Deployment reuses the ``ramdisk`` deploy interface: the instance is an ISO the node boots
through virtual media.
"""

from __future__ import annotations

from typing import ClassVar

from drivers.absent import with_absent
from drivers.base import BaseInterface, HardwareType
from drivers.ramdisk import RamdiskDeploy
from drivers.redfish.boot import RedfishVirtualMediaBoot
from drivers.redfish.inspect import RedfishInspect
from drivers.redfish.management import RedfishManagement
from drivers.redfish.power import RedfishPower

__all__ = [
    "RedfishHardware",
    "RedfishInspect",
    "RedfishManagement",
    "RedfishPower",
    "RedfishVirtualMediaBoot",
]


class RedfishHardware(HardwareType):
    name = "redfish"
    supported: ClassVar[dict[str, list[type[BaseInterface]]]] = with_absent(
        {
            "power": [RedfishPower],
            "management": [RedfishManagement],
            "boot": [RedfishVirtualMediaBoot],
            "deploy": [RamdiskDeploy],
            "inspect": [RedfishInspect],
        }
    )
