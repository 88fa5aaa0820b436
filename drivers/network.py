"""Network interfaces that need no outside service.

* ``noop`` network: nothing to wire (the ports are on whatever network the switch says).
* ``flat`` network: every node shares one flat provider network, as Ironic's ``flat``
  interface assumes; binding a port records which network and physical network it is
  attached to, in the port's ``internal_info``, so operators see what the deploy did.
"""

from __future__ import annotations

from typing import Any

from drivers.base import NetworkInterface, NodeView, PortView


class NoopNetwork(NetworkInterface):
    name = "noop"
    tracks_vifs = False


class FlatNetwork(NetworkInterface):
    name = "flat"

    def bind(self, node: NodeView, ports: list[PortView]) -> dict[str, dict[str, Any]]:
        return {
            port.uuid: {
                "network_interface": self.name,
                "network": "flat",
                "physical_network": port.physical_network,
                "mac_address": port.address,
            }
            for port in ports
            if port.pxe_enabled
        }
