"""The ``ramdisk`` deploy interface: the instance is a bootable image, nothing is written.

As Ironic's ``ramdisk`` deploy: a node "deploys" by booting ``instance_info['boot_iso']``
(or ``image_source``) through its boot interface (virtual media for Redfish, the network
for IPMI) and is ``active`` once it powers on. No agent runs, so there are no clean steps:
automated cleaning only powers the node off.
"""

from __future__ import annotations

from app import exceptions
from drivers.base import DeployInterface, NodeView, Step

IMAGE_KEYS = ("boot_iso", "image_source")


def instance_image(node: NodeView) -> str | None:
    """The image the instance boots from, if ``instance_info`` names one."""
    for key in IMAGE_KEYS:
        value = node.instance_info.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class RamdiskDeploy(DeployInterface):
    name = "ramdisk"

    def deploy(self, node: NodeView) -> str | None:
        if instance_image(node) is None:
            raise exceptions.MissingParameterValue(
                name=f"instance_info boot_iso or image_source (node {node.uuid}): "
                "the image the ramdisk deploy boots"
            )
        return None

    def tear_down(self, node: NodeView) -> None:
        """Nothing on disk to remove; the boot interface ejects the image."""

    def get_clean_steps(self, node: NodeView) -> list[Step]:
        return []

    def execute_clean_step(self, node: NodeView, step: Step) -> str | None:
        raise exceptions.InvalidParameterValue(
            reason=f"the ramdisk deploy interface has no clean step {step.step!r}"
        )
