"""The driver contract: one abstract base per interface type, and the hardware type.

A hardware type is just the list of interfaces it supports per interface type, the first
being the default (as in Ironic's ``ironic/drivers/ipmi.py``). Interfaces are stateless
singletons shared by every node; everything about a node arrives as a :class:`NodeView`.
Hardware types are registered under the entry point group ``ironworks.hardware.types``; the
network and storage interfaces under ``ironworks.hardware.interfaces.<type>``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class NodeView:
    """What a driver may know about a node: plain data, never an ORM object."""

    uuid: str
    driver: str
    driver_info: dict[str, Any] = field(default_factory=dict)
    power_state: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    instance_info: dict[str, Any] = field(default_factory=dict)


class BaseInterface(abc.ABC):
    """Common to every interface: a name, validation and the ``driver_info`` it reads."""

    interface_type: ClassVar[str]
    name: ClassVar[str]

    def get_properties(self) -> dict[str, str]:
        """``driver_info`` keys this interface reads, with a description each."""
        return {}

    def validate(self, node: NodeView) -> None:  # noqa: B027 - optional hook
        """Raise :class:`app.exceptions.Invalid` if ``node`` cannot use this interface."""


class PowerInterface(BaseInterface):
    interface_type = "power"

    @abc.abstractmethod
    def get_power_state(self, node: NodeView) -> str:
        """The power state the hardware reports."""

    @abc.abstractmethod
    def set_power_state(self, node: NodeView, target: str) -> str:
        """Drive the hardware to ``target`` (a power state or a reboot); return the new state."""


class ManagementInterface(BaseInterface):
    interface_type = "management"

    @abc.abstractmethod
    def get_supported_boot_devices(self, node: NodeView) -> list[str]:
        """Boot devices this node can be set to."""


class BootInterface(BaseInterface):
    interface_type = "boot"


class DeployInterface(BaseInterface):
    interface_type = "deploy"


class NetworkInterface(BaseInterface):
    interface_type = "network"


class StorageInterface(BaseInterface):
    interface_type = "storage"


#: Interface types a hardware type provides itself (network and storage come from factories).
CORE_INTERFACES = ("power", "management", "boot", "deploy")


class HardwareType(abc.ABC):
    """A named set of supported interfaces; the first of each list is the default."""

    name: ClassVar[str]
    supported: ClassVar[dict[str, list[type[BaseInterface]]]]

    def __init__(self) -> None:
        self.interfaces: dict[str, BaseInterface] = {
            kind: classes[0]() for kind, classes in self.supported.items()
        }

    def interface_names(self) -> dict[str, list[str]]:
        return {kind: [cls.name for cls in classes] for kind, classes in self.supported.items()}

    @property
    def power(self) -> PowerInterface:
        iface = self.interfaces["power"]
        assert isinstance(iface, PowerInterface)
        return iface

    def get_properties(self) -> dict[str, str]:
        props: dict[str, str] = {}
        for iface in self.interfaces.values():
            props.update(iface.get_properties())
        return props
