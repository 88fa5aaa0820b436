"""Hardware types as the API sees them: defaults, documented properties, validation.

The API loads driver classes from the same entry points as the conductors, to describe
them and to run ``validate()`` (which checks ``driver_info`` and never talks to a BMC).
"""

from __future__ import annotations

import functools
from typing import Any

from app import exceptions
from app.config import get_settings
from app.db.models import Node
from drivers.base import ALL_INTERFACES, HardwareType, NodeView
from drivers.factory import NetworkInterfaceFactory, load_hardware_types

_LOADED: dict[str, HardwareType] = {}


def hardware_type(name: str) -> HardwareType | None:
    """The hardware type registered as ``name``, loaded once; None when there is none.
    Only real hardware types are kept: names a client makes up are never cached, so
    ``/v1/drivers/<anything>`` cannot grow this process's memory."""
    loaded = _LOADED.get(name)
    if loaded is not None:
        return loaded
    try:
        loaded = load_hardware_types([name])[name]
    except exceptions.ConfigurationError:
        return None
    return _LOADED.setdefault(name, loaded)


def interface_defaults(driver: str) -> dict[str, str]:
    hw = hardware_type(driver)
    if hw is None:
        return {}
    return {kind: names[0] for kind, names in hw.interface_names().items()}


def enabled_interfaces(driver: str) -> dict[str, list[str]]:
    """Each interface kind's enabled implementations for ``driver``, the default first:
    the hardware type's own, and the deployment's network and storage interfaces."""
    hw = hardware_type(driver)
    names = hw.interface_names() if hw is not None else {}
    settings = get_settings()
    return {
        **names,
        "network": list(settings.enabled_network_interfaces),
        "storage": list(settings.enabled_storage_interfaces),
    }


@functools.cache
def _networks() -> NetworkInterfaceFactory:
    return NetworkInterfaceFactory(list(get_settings().enabled_network_interfaces))


def tracks_vifs(node: Node) -> bool:
    """Whether the node's network interface records VIFs on its ports (``noop`` does not)."""
    return _networks().get(node.network_interface).tracks_vifs


def properties(driver: str) -> dict[str, str]:
    hw = hardware_type(driver)
    if hw is None:
        raise exceptions.NotFound(f"Driver {driver} could not be found.")
    return hw.get_properties()


def validate(node: Node) -> dict[str, dict[str, Any]]:
    """``{interface: {"result": bool | None, "reason": str | None}}`` for every type."""
    hw = hardware_type(node.driver)
    if hw is not None:
        hw = hw.select({kind: getattr(node, f"{kind}_interface", None) for kind in hw.interfaces})
    view = NodeView.of(node)
    report: dict[str, dict[str, Any]] = {}
    for kind in ALL_INTERFACES:
        iface = hw.interfaces.get(kind) if hw else None
        if kind in ("network", "storage"):
            report[kind] = {"result": True, "reason": None}
            continue
        if iface is None or iface.name.startswith("no-"):
            report[kind] = {"result": None, "reason": "not supported"}
            continue
        try:
            iface.validate(view)
        except Exception as exc:
            report[kind] = {"result": False, "reason": str(exc)}
        else:
            report[kind] = {"result": True, "reason": None}
    return report


def clean_steps(driver: str) -> dict[tuple[str, str], Any]:
    hw = hardware_type(driver)
    if hw is None or "deploy" not in hw.interfaces:
        return {}
    steps = hw.deploy.get_clean_steps(NodeView(uuid="", driver=driver))
    return {(step.interface, step.step): step for step in steps}
