"""The ``redfish`` inspect interface: node properties and NIC MACs read from the BMC.

Properties, as Ironic's out-of-band Redfish inspection sets them:

* ``cpus``: logical CPUs, the sum of ``TotalThreads`` over the system's processors (or
  ``ProcessorSummary.Count`` when processors are not listed);
* ``cpu_arch``: from the first processor's instruction set (x86-64: ``x86_64``, ARM-A64:
  ``aarch64``...) or architecture (x86: ``x86_64``, ARM: ``aarch64``);
* ``memory_mb``: ``MemorySummary.TotalSystemMemoryGiB`` x 1024;
* ``boot_mode`` (``uefi`` or ``bios``) and ``capabilities`` ``boot_mode:<mode>``;
* ``local_gb``: the largest drive or volume in GiB, less one for partitioning, when the
  storage is readable (best effort: a BMC without storage resources simply omits it).

A value the BMC does not report is left out rather than guessed. MACs are the system's
EthernetInterfaces, lower case with colons, deduplicated.
"""

from __future__ import annotations

import re
from typing import Any

import sushy
from sushy import exceptions as sushy_exc

from drivers.base import InspectInterface, InspectResult, NodeView
from drivers.redfish import client

GIB = 1024**3
INSTRUCTION_SETS = {
    sushy.InstructionSet.X86_64: "x86_64",
    sushy.InstructionSet.X86: "i686",
    sushy.InstructionSet.ARM_A64: "aarch64",
    sushy.InstructionSet.ARM_A32: "armv7l",
    sushy.InstructionSet.IA_64: "ia64",
    sushy.InstructionSet.POWER_ISA: "ppc64le",
    sushy.InstructionSet.MIPS64: "mips64",
}
ARCHITECTURES = {
    sushy.ProcessorArchitecture.X86: "x86_64",
    sushy.ProcessorArchitecture.ARM: "aarch64",
    sushy.ProcessorArchitecture.IA_64: "ia64",
    sushy.ProcessorArchitecture.POWER: "ppc64le",
    sushy.ProcessorArchitecture.MIPS: "mips64",
}
BOOT_MODES = {
    sushy.BootSourceOverrideMode.UEFI: "uefi",
    sushy.BootSourceOverrideMode.LEGACY: "bios",
}
_MAC = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$")


def _cpus(system: Any, props: dict[str, Any]) -> None:
    try:
        processors = list(system.processors.get_members())
    except sushy_exc.MissingAttributeError:
        processors = []
    count = sum(p.total_threads or 0 for p in processors)
    if not count:
        count = (system.json.get("ProcessorSummary") or {}).get("Count") or 0
    if count:
        props["cpus"] = int(count)
    for proc in processors:
        arch = INSTRUCTION_SETS.get(proc.instruction_set) or ARCHITECTURES.get(
            proc.processor_architecture
        )
        if arch:
            props["cpu_arch"] = arch
            return


def _local_gb(system: Any) -> int | None:
    """The largest disk in GiB less one, or None when storage cannot be read."""
    sizes: list[int] = []
    try:
        for storage in system.storage.get_members():
            sizes.extend(storage.drives_sizes_bytes or [])
            sizes.extend(storage.volumes.volumes_sizes_bytes or [])
    except (sushy_exc.MissingAttributeError, sushy_exc.ResourceNotFoundError):
        pass
    except sushy_exc.ServerSideError:
        pass  # sushy-tools answers 500 for a system without configured storage
    if not sizes:
        return None
    return max(0, max(sizes) // GIB - 1)


def _macs(system: Any) -> list[str]:
    macs: list[str] = []
    try:
        interfaces = system.ethernet_interfaces.get_members()
    except sushy_exc.MissingAttributeError:
        return macs
    for nic in interfaces:
        mac = (nic.mac_address or nic.permanent_mac_address or "").strip().lower()
        mac = mac.replace("-", ":")
        if _MAC.match(mac) and mac not in macs:
            macs.append(mac)
    return macs


def inspect(system: Any) -> InspectResult:
    props: dict[str, Any] = {}
    _cpus(system, props)
    memory_gib = system.memory_summary.size_gib if system.memory_summary else None
    if memory_gib:
        props["memory_mb"] = int(memory_gib) * 1024
    mode = BOOT_MODES.get(system.boot.mode) if system.boot else None
    if mode:
        props["boot_mode"] = mode
        props["capabilities"] = f"boot_mode:{mode}"
    local_gb = _local_gb(system)
    if local_gb is not None:
        props["local_gb"] = local_gb
    return InspectResult(properties=props, macs=_macs(system))


class RedfishInspect(InspectInterface):
    name = "redfish"

    def get_properties(self) -> dict[str, str]:
        return dict(client.COMMON_PROPERTIES)

    def validate(self, node: NodeView) -> None:
        client.parse(node)

    def inspect_hardware(self, node: NodeView) -> InspectResult:
        return client.run(node, "inspect hardware", inspect)
