"""The ``no-<kind>`` interfaces: what a hardware type offers where it has no such feature.

As in Ironic, a node always has an implementation of every interface type; ``no-bios``,
``no-console``... say "this machine cannot", so a request that needs one is a clear 400
(:class:`~app.exceptions.UnsupportedDriverInterface`) rather than a missing attribute.
"""

from __future__ import annotations

from app import exceptions
from drivers.base import (
    BaseInterface,
    BiosInterface,
    ConsoleInterface,
    FirmwareInterface,
    InspectInterface,
    InspectResult,
    NodeView,
    RaidInterface,
    RescueInterface,
    VendorInterface,
)


class NoBios(BiosInterface):
    name = "no-bios"


class NoConsole(ConsoleInterface):
    name = "no-console"


class NoRaid(RaidInterface):
    name = "no-raid"


class NoVendor(VendorInterface):
    name = "no-vendor"


class NoFirmware(FirmwareInterface):
    name = "no-firmware"


class NoInspect(InspectInterface):
    name = "no-inspect"

    def inspect_hardware(self, node: NodeView) -> InspectResult | str:
        raise _unsupported(node, "inspect")


class NoRescue(RescueInterface):
    name = "no-rescue"

    def rescue(self, node: NodeView) -> str | None:
        raise _unsupported(node, "rescue")

    def unrescue(self, node: NodeView) -> None:
        raise _unsupported(node, "rescue")


def _unsupported(node: NodeView, kind: str) -> Exception:
    return exceptions.UnsupportedDriverInterface(driver=node.driver, interface=kind)


#: The ``no-*`` choices every hardware type adds after its own implementations.
ABSENT: dict[str, list[type[BaseInterface]]] = {
    "bios": [NoBios],
    "console": [NoConsole],
    "raid": [NoRaid],
    "vendor": [NoVendor],
    "firmware": [NoFirmware],
    "inspect": [NoInspect],
    "rescue": [NoRescue],
}


def with_absent(
    supported: dict[str, list[type[BaseInterface]]],
) -> dict[str, list[type[BaseInterface]]]:
    """``supported`` with each kind's ``no-*`` choice appended (the default stays first)."""
    merged = {kind: list(classes) for kind, classes in supported.items()}
    for kind, classes in ABSENT.items():
        merged.setdefault(kind, []).extend(classes)
    return merged
