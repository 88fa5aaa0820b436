"""The ``redfish-virtual-media`` boot interface: boot ISOs attached as a virtual CD.

* :meth:`prepare_ramdisk` inserts ``driver_info['redfish_deploy_iso']`` (when set) into the
  system's virtual CD and sets a one-time boot from it; :meth:`clean_up_ramdisk` ejects it.
* :meth:`prepare_instance` boots the instance: with an image in ``instance_info``
  (``boot_iso`` or ``image_source``, see :func:`drivers.ramdisk.instance_image`) it inserts
  that and boots from the CD persistently; otherwise it sets the disk as persistent boot
  device. :meth:`clean_up_instance` ejects whatever is inserted.

The virtual CD is the first virtual media device of the system (or, on BMCs that only list
them there, of its managers) whose media types include CD or DVD. Whatever a device holds is
ejected before inserting, so each step can safely run again after a retry. The BMC downloads
the image itself: the URL must be reachable from the BMC, and must be http(s).
"""

from __future__ import annotations

from typing import Any

import sushy
from sushy import exceptions as sushy_exc

from app import exceptions
from drivers.base import BootInterface, NodeView
from drivers.ramdisk import instance_image
from drivers.redfish import client
from drivers.redfish.management import set_boot

DEPLOY_ISO = "redfish_deploy_iso"
PROPERTIES = {
    DEPLOY_ISO: "http(s) URL of the deploy ISO the BMC attaches as virtual media. Optional."
}
CD_TYPES = (sushy.VirtualMediaType.CD, sushy.VirtualMediaType.DVD)


def _devices(system: Any) -> list[Any]:
    try:
        return list(system.virtual_media.get_members())
    except sushy_exc.MissingAttributeError:
        pass
    devices: list[Any] = []
    for manager in system.managers:
        try:
            devices.extend(manager.virtual_media.get_members())
        except sushy_exc.MissingAttributeError:
            continue
    return devices


def virtual_cd(node: NodeView, system: Any) -> Any:
    """The system's virtual CD drive."""
    for device in _devices(system):
        if any(kind in CD_TYPES for kind in device.media_types):
            return device
    raise exceptions.DriverOperationFailed(
        operation="find a virtual CD",
        node=node.uuid,
        reason="the BMC offers no virtual media device that takes a CD or DVD",
    )


def eject(node: NodeView, system: Any) -> None:
    device = virtual_cd(node, system)
    if device.inserted or device.image:
        device.eject_media()


def insert(node: NodeView, system: Any, url: str) -> None:
    device = virtual_cd(node, system)
    if device.inserted or device.image:
        device.eject_media()
    device.insert_media(url, inserted=True, write_protected=True)


class RedfishVirtualMediaBoot(BootInterface):
    name = "redfish-virtual-media"

    def get_properties(self) -> dict[str, str]:
        return {**client.COMMON_PROPERTIES, **PROPERTIES}

    def validate(self, node: NodeView) -> None:
        client.parse(node)
        self._deploy_iso(node)
        image = instance_image(node)
        if image is not None:
            client.validate_url(node, "instance_info boot_iso/image_source", image)

    def _deploy_iso(self, node: NodeView) -> str | None:
        url = node.driver_info.get(DEPLOY_ISO)
        if url in (None, ""):
            return None
        return client.validate_url(node, f"driver_info {DEPLOY_ISO}", url)

    def prepare_ramdisk(self, node: NodeView) -> None:
        url = self._deploy_iso(node)
        if url is None:
            return

        def attach(system: Any) -> None:
            insert(node, system, url)
            set_boot(node, system, "cdrom", persistent=False)

        client.run(node, "insert the deploy ISO", attach)

    def clean_up_ramdisk(self, node: NodeView) -> None:
        if self._deploy_iso(node) is None:
            return
        client.run(node, "eject the deploy ISO", lambda system: eject(node, system))

    def prepare_instance(self, node: NodeView) -> None:
        image = instance_image(node)
        if image is None:
            client.run(
                node,
                "set the instance boot device",
                lambda system: set_boot(node, system, "disk", persistent=True),
            )
            return
        url = client.validate_url(node, "instance_info boot_iso/image_source", image)

        def attach(system: Any) -> None:
            insert(node, system, url)
            set_boot(node, system, "cdrom", persistent=True)

        client.run(node, "insert the instance ISO", attach)

    def clean_up_instance(self, node: NodeView) -> None:
        client.run(node, "eject the instance ISO", lambda system: eject(node, system))
