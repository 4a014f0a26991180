"""What a guest asks of a host's CPU, from its domain XML, in the form libvirt's `compareHypervisorCPU` takes.

Pure: ElementTree only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ztui.libvirtxml.common import parse_xml, to_xml

__all__ = ["CpuRequest", "cpu_request"]


@dataclass(frozen=True)
class CpuRequest:
    """The guest's `<cpu>` element and the emulator, arch, machine and virtualization type it runs with."""

    cpu_xml: str
    model: str
    mode: str
    emulator: str
    arch: str
    machine: str
    virttype: str


def cpu_request(xml: str, what: str = "domain XML") -> CpuRequest | None:
    """The guest's CPU request; None when its XML has no `<cpu>` (QEMU's default model: nothing to compare)."""
    root = parse_xml(xml, what)
    cpu = root.find("cpu")
    if cpu is None:
        return None
    os_type = root.find("os/type")
    return CpuRequest(cpu_xml=to_xml(cpu), model=(cpu.findtext("model") or "").strip(),
                      mode=cpu.get("mode", "custom"), emulator=(root.findtext("devices/emulator") or "").strip(),
                      arch=os_type.get("arch", "") if os_type is not None else "",
                      machine=os_type.get("machine", "") if os_type is not None else "",
                      virttype=root.get("type", ""))
