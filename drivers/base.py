"""The driver contract: one abstract base per interface type, and the hardware type.

A hardware type is just the list of interfaces it supports per interface type, the first
being the default (as in Ironic's ``ironic/drivers/ipmi.py``). Interfaces are stateless
singletons shared by every node; everything about a node arrives as a :class:`NodeView`.
Hardware types are registered under the entry point group ``ironworks.hardware.types``; the
network and storage interfaces under ``ironworks.hardware.interfaces.<type>``.
"""

from __future__ import annotations

import abc
import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

from app import exceptions


@dataclass(frozen=True)
class NodeView:
    """What a driver may know about a node: plain data, never an ORM object."""

    uuid: str
    driver: str
    driver_info: dict[str, Any] = field(default_factory=dict)
    power_state: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    instance_info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, node: Any) -> NodeView:
        """A copy of what a driver may see of a node row (``app.db.models.Node``)."""
        return cls(
            uuid=node.uuid,
            driver=node.driver,
            driver_info=dict(node.driver_info or {}),
            power_state=node.power_state,
            properties=dict(node.properties or {}),
            instance_info=dict(node.instance_info or {}),
        )


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

    @abc.abstractmethod
    def set_boot_device(self, node: NodeView, device: str, persistent: bool = False) -> None:
        """Make the node boot from ``device`` next (or always, when ``persistent``)."""

    @abc.abstractmethod
    def get_boot_device(self, node: NodeView) -> BootDevice:
        """The boot device the hardware reports (``device`` None when it cannot tell)."""

    @abc.abstractmethod
    def get_sensors_data(self, node: NodeView) -> dict[str, dict[str, dict[str, Any]]]:
        """Sensor readings as ``{sensor type: {sensor id: {field: value}}}``.

        Types as Ironic names them (``Temperature``, ``Fan``, ``Power``, ``Voltage``...);
        each reading carries at least ``Sensor Reading`` (value and unit, as text) and
        ``Health`` or ``State`` when the BMC reports one.
        """


@dataclass(frozen=True)
class BootDevice:
    """What ``get_boot_device`` reports: ``device`` is one of ``BOOT_DEVICES`` or None."""

    device: str | None
    persistent: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"boot_device": self.device, "persistent": self.persistent}


#: Boot devices every management interface understands (Ironic's names).
BOOT_DEVICES = ("pxe", "disk", "cdrom", "bios")


class BootInterface(BaseInterface):
    interface_type = "boot"

    @abc.abstractmethod
    def prepare_ramdisk(self, node: NodeView) -> None:
        """Make the deploy/rescue ramdisk bootable for ``node``."""

    @abc.abstractmethod
    def clean_up_ramdisk(self, node: NodeView) -> None:
        """Undo :meth:`prepare_ramdisk`."""

    @abc.abstractmethod
    def prepare_instance(self, node: NodeView) -> None:
        """Make the deployed instance bootable, boot device included."""

    @abc.abstractmethod
    def clean_up_instance(self, node: NodeView) -> None:
        """Undo :meth:`prepare_instance`."""


#: What a step returns when it must wait for an outside callback (the node enters a wait
#: state and the task ends; nothing sleeps).
WAIT = "wait"


@dataclass(frozen=True)
class Step:
    """A deploy or clean step a driver offers."""

    interface: str
    step: str
    priority: int = 0
    args: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "step": self.step,
            "priority": self.priority,
            "args": self.args,
        }


class DeployInterface(BaseInterface):
    interface_type = "deploy"

    @abc.abstractmethod
    def deploy(self, node: NodeView) -> str | None:
        """Write the instance image; return :data:`WAIT` to wait for a callback."""

    @abc.abstractmethod
    def tear_down(self, node: NodeView) -> None:
        """Remove the instance (power off, forget image details)."""

    @abc.abstractmethod
    def get_clean_steps(self, node: NodeView) -> list[Step]:
        """Clean steps; those with a priority above zero run in automated cleaning."""

    @abc.abstractmethod
    def execute_clean_step(self, node: NodeView, step: Step) -> str | None:
        """Run one clean step; return :data:`WAIT` to wait for a callback."""

    def take_over(self, node: NodeView) -> None:
        """Become responsible for a deployed node another conductor set up (e.g. rebuild
        its boot configuration here). Nothing to do by default."""


@dataclass(frozen=True)
class InspectResult:
    """What inspection found: node properties and the MAC addresses of its NICs."""

    properties: dict[str, Any]
    macs: list[str]


class InspectInterface(BaseInterface):
    interface_type = "inspect"

    @abc.abstractmethod
    def inspect_hardware(self, node: NodeView) -> InspectResult | str:
        """Read the hardware; return :data:`WAIT` to wait for a callback."""


class RescueInterface(BaseInterface):
    interface_type = "rescue"

    @abc.abstractmethod
    def rescue(self, node: NodeView) -> str | None:
        """Boot the rescue ramdisk; return :data:`WAIT` to wait for a callback."""

    @abc.abstractmethod
    def unrescue(self, node: NodeView) -> None:
        """Boot the instance again."""


@dataclass(frozen=True)
class PortView:
    """What a network interface may know about a port."""

    uuid: str
    address: str
    physical_network: str | None = None
    pxe_enabled: bool = True


class NetworkInterface(BaseInterface):
    """Wires a node's ports to networks. The conductor stores what :meth:`bind` returns in
    each port's ``internal_info`` (``binding``) and drops it after :meth:`unbind`."""

    interface_type = "network"
    #: Whether VIFs attached to the node are recorded on its ports (Ironic's ``flat`` and
    #: ``neutron``); ``noop`` accepts attach and detach and lists none.
    tracks_vifs: ClassVar[bool] = True

    def bind(self, node: NodeView, ports: list[PortView]) -> dict[str, dict[str, Any]]:
        """Attach the instance's ports; return the binding to record per port UUID."""
        return {}

    def unbind(self, node: NodeView, ports: list[PortView]) -> None:
        """Detach what :meth:`bind` attached."""


class StorageInterface(BaseInterface):
    interface_type = "storage"


class BiosInterface(BaseInterface):
    interface_type = "bios"


class ConsoleInterface(BaseInterface):
    interface_type = "console"


class RaidInterface(BaseInterface):
    interface_type = "raid"


class VendorInterface(BaseInterface):
    interface_type = "vendor"


class FirmwareInterface(BaseInterface):
    interface_type = "firmware"


#: Interface types a hardware type provides itself (network and storage come from factories).
HARDWARE_INTERFACES = (
    "power",
    "management",
    "boot",
    "deploy",
    "inspect",
    "rescue",
    "console",
    "bios",
    "raid",
    "vendor",
    "firmware",
)
#: Every interface type a node has (``<kind>_interface``) and ``validate`` reports on.
ALL_INTERFACES = (*HARDWARE_INTERFACES, "network", "storage")


class HardwareType(abc.ABC):
    """A named set of supported interfaces; the first of each list is the default."""

    name: ClassVar[str]
    supported: ClassVar[dict[str, list[type[BaseInterface]]]]

    def __init__(self) -> None:
        #: Every supported implementation, by kind and name (one instance each, shared).
        self.implementations: dict[str, dict[str, BaseInterface]] = {
            kind: {cls.name: cls() for cls in classes} for kind, classes in self.supported.items()
        }
        #: The implementation in use for each kind: the default unless :meth:`select` chose.
        self.interfaces: dict[str, BaseInterface] = {
            kind: next(iter(impls.values())) for kind, impls in self.implementations.items()
        }

    def interface_names(self) -> dict[str, list[str]]:
        return {kind: [cls.name for cls in classes] for kind, classes in self.supported.items()}

    def select(self, chosen: dict[str, str | None]) -> HardwareType:
        """This hardware type with the implementations a node chose (``{kind: name}``;
        None keeps the default). The API checked the names; an unknown one is refused."""
        wanted = {
            kind: name
            for kind, name in chosen.items()
            if name is not None and kind in self.interfaces and self.interfaces[kind].name != name
        }
        if not wanted:
            return self
        bound = copy.copy(self)
        bound.interfaces = dict(self.interfaces)
        for kind, name in wanted.items():
            try:
                bound.interfaces[kind] = self.implementations[kind][name]
            except KeyError:
                raise exceptions.InterfaceNotFound(
                    interface=kind, name=name, available=sorted(self.implementations[kind])
                ) from None
        return bound

    def _iface(self, kind: str, cls: Any) -> Any:
        # ``cls`` is an abstract interface class, which mypy refuses as ``type[T]``.
        iface = self.interfaces.get(kind)
        if not isinstance(iface, cls):
            raise exceptions.UnsupportedDriverInterface(driver=self.name, interface=kind)
        return iface

    @property
    def power(self) -> PowerInterface:
        iface: PowerInterface = self._iface("power", PowerInterface)
        return iface

    @property
    def management(self) -> ManagementInterface:
        iface: ManagementInterface = self._iface("management", ManagementInterface)
        return iface

    @property
    def boot(self) -> BootInterface:
        iface: BootInterface = self._iface("boot", BootInterface)
        return iface

    @property
    def deploy(self) -> DeployInterface:
        iface: DeployInterface = self._iface("deploy", DeployInterface)
        return iface

    @property
    def inspect(self) -> InspectInterface:
        iface: InspectInterface = self._iface("inspect", InspectInterface)
        return iface

    @property
    def rescue(self) -> RescueInterface:
        iface: RescueInterface = self._iface("rescue", RescueInterface)
        return iface

    def get_properties(self) -> dict[str, str]:
        props: dict[str, str] = {}
        for iface in self.interfaces.values():
            props.update(iface.get_properties())
        return props
