"""The ``pxe`` boot interface for IPMI: booting means choosing the boot device.

* ``prepare_ramdisk``: boot from the network once (the deploy/rescue ramdisk is served by
  PXE infrastructure outside Ironworks);
* ``prepare_instance``: a ramdisk-deploy instance (``instance_info`` names an image) also
  boots over the network, persistently; anything else boots from its disk, persistently;
* ``clean_up_ramdisk``: nothing (``prepare_instance`` follows and sets the device);
* ``clean_up_instance``: back to booting from disk, persistently.
"""

from __future__ import annotations

from drivers.base import BootInterface, NodeView
from drivers.ipmi import client
from drivers.ipmi.management import IPMIManagement
from drivers.ramdisk import instance_image


class PXEBoot(BootInterface):
    name = "pxe"

    def __init__(self) -> None:
        self._management = IPMIManagement()

    def validate(self, node: NodeView) -> None:
        client.parse(node)

    def prepare_ramdisk(self, node: NodeView) -> None:
        self._management.set_boot_device(node, "pxe", persistent=False)

    def clean_up_ramdisk(self, node: NodeView) -> None:
        """Nothing to undo: the one-time network boot is used up by the ramdisk."""

    def prepare_instance(self, node: NodeView) -> None:
        device = "pxe" if instance_image(node) else "disk"
        self._management.set_boot_device(node, device, persistent=True)

    def clean_up_instance(self, node: NodeView) -> None:
        self._management.set_boot_device(node, "disk", persistent=True)
