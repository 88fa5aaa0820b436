"""Load hardware types and the network/storage interface factories from entry points.

A name enabled in configuration that no installed plugin provides stops the conductor with a
:class:`DriverLoadError` listing what *is* available, instead of a node failing later.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Generic, TypeVar

from app import exceptions
from drivers.base import BaseInterface, HardwareType, NetworkInterface, StorageInterface

HARDWARE_TYPES_GROUP = "ironworks.hardware.types"
INTERFACES_GROUP = "ironworks.hardware.interfaces.{kind}"

T = TypeVar("T")


def _load(group: str, name: str, kind: str, base: type[T]) -> type[T]:
    found = {ep.name: ep for ep in entry_points(group=group)}
    if name not in found:
        raise exceptions.DriverLoadError(
            kind=kind, name=name, reason="no plugin registers it", available=sorted(found)
        )
    try:
        cls = found[name].load()
    except Exception as exc:  # a broken plugin must not look like a missing one
        raise exceptions.DriverLoadError(
            kind=kind, name=name, reason=f"import failed: {exc}", available=sorted(found)
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise exceptions.DriverLoadError(
            kind=kind, name=name, reason=f"{cls!r} is not a {base.__name__}", available=[]
        )
    return cls


def load_hardware_types(names: list[str]) -> dict[str, HardwareType]:
    """Instantiate the enabled hardware types; at least one is required."""
    if not names:
        raise exceptions.ConfigurationError(reason="no hardware type is enabled")
    return {
        name: _load(HARDWARE_TYPES_GROUP, name, "hardware type", HardwareType)() for name in names
    }


IfaceT = TypeVar("IfaceT", bound=BaseInterface)


class InterfaceFactory(Generic[IfaceT]):
    """The enabled implementations of one interface type, loaded eagerly."""

    kind: str
    base: type[IfaceT]

    def __init__(self, enabled: list[str]) -> None:
        if not enabled:
            raise exceptions.ConfigurationError(reason=f"no {self.kind} interface is enabled")
        group = INTERFACES_GROUP.format(kind=self.kind)
        self.interfaces: dict[str, IfaceT] = {
            name: _load(group, name, f"{self.kind} interface", self.base)() for name in enabled
        }
        self.default = enabled[0]

    def get(self, name: str | None) -> IfaceT:
        """The interface called ``name`` (the default when None)."""
        key = name or self.default
        if key not in self.interfaces:
            raise exceptions.InvalidParameterValue(
                reason=f"{self.kind} interface {key!r} is not enabled; "
                f"enabled: {', '.join(self.interfaces)}"
            )
        return self.interfaces[key]


class NetworkInterfaceFactory(InterfaceFactory[NetworkInterface]):
    kind = "network"
    base = NetworkInterface


class StorageInterfaceFactory(InterfaceFactory[StorageInterface]):
    kind = "storage"
    base = StorageInterface
