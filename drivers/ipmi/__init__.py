"""The ``ipmi`` hardware type: IPMI 2.0 (RMCP+) BMCs through pyghmi.

As Ironic's ``ipmi`` type: power and management over IPMI, PXE boot (the boot interface only
picks the boot device), the ``ramdisk`` deploy, and out-of-band inspection of what IPMI can
tell. ``driver_info``: ``ipmi_address`` (required), ``ipmi_port``, ``ipmi_username``,
``ipmi_password`` (see :data:`drivers.ipmi.client.PROPERTIES`). pyghmi is imported on first
use, not when the hardware type is loaded.
"""

from __future__ import annotations

from typing import ClassVar

from drivers.absent import with_absent
from drivers.base import BaseInterface, HardwareType
from drivers.ipmi.boot import PXEBoot
from drivers.ipmi.inspect import IPMIInspect
from drivers.ipmi.management import IPMIManagement
from drivers.ipmi.power import IPMIPower
from drivers.ramdisk import RamdiskDeploy

__all__ = ["IPMIHardware"]


class IPMIHardware(HardwareType):
    name = "ipmi"
    supported: ClassVar[dict[str, list[type[BaseInterface]]]] = with_absent(
        {
            "power": [IPMIPower],
            "management": [IPMIManagement],
            "boot": [PXEBoot],
            "deploy": [RamdiskDeploy],
            "inspect": [IPMIInspect],
        }
    )
