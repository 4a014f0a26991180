"""What is asked: a preparation request, from the command line or from a device in the host devices view,
and the one function that turns a request into a plan.

The host devices view offers `p` on a device; which preparation that means follows from the device:
a DASD → vfio-ccw; a subchannel already on vfio_ccw → its undo; a PCI function → pci; an AP
queue → vfio-ap of that adapter and domain; a vfio-ap mdev → its undo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ztui.facts import CcwRole, F, ccw_role_of_driver
from ztui.host.facts_source import FactsOrigin, facts_source_for
from ztui.model import HostDeviceKind
from ztui.ops.prepare.plan import (
    HostView,
    plan_pci,
    plan_vfio_ap,
    plan_vfio_ccw,
    unplan_pci,
    unplan_vfio_ap,
    unplan_vfio_ccw,
)
from ztui.ops.prepare.steps import PrepKind, PrepPlan
from ztui.zsysfs import Subchannel


@dataclass(frozen=True)
class PrepRequest:
    kind: PrepKind
    target: str = ""  # a bus-ID, a PCI address or (undo of vfio-ap) an mdev UUID
    undo: bool = False
    uuid: str | None = None
    unmanaged: bool = False
    adapters: tuple[int, ...] = ()
    domains: tuple[int, ...] = ()
    control_domains: tuple[int, ...] = ()


def preparable_here(uri: str | None) -> bool:
    """Whether this process can prepare devices of `uri`'s host: only when that host's facts are this
    machine's own sysfs (not a remote host, not a recorded or simulated one)."""
    return uri is not None and facts_source_for(uri).origin is FactsOrigin.LIVE


def plan_for(view: HostView, request: PrepRequest) -> PrepPlan:
    """The plan of a request; `PrepRefused` when the device cannot be (un)prepared as asked."""
    if request.kind is PrepKind.VFIO_CCW:
        return unplan_vfio_ccw(view, request.target) if request.undo \
            else plan_vfio_ccw(view, request.target, request.uuid)
    if request.kind is PrepKind.VFIO_AP:
        return unplan_vfio_ap(view, request.target) if request.undo \
            else plan_vfio_ap(view, request.adapters, request.domains, request.control_domains, request.uuid)
    return unplan_pci(view, request.target) if request.undo \
        else plan_pci(view, request.target, unmanaged=request.unmanaged)


def request_for(kind: str, ident: str, driver: str, facts: Mapping[str, str]) -> PrepRequest | None:
    """What `p` does for a host device (kind, id, driver and facts as the host devices view has them);
    None for a device that is not prepared for pass-through."""
    if kind == HostDeviceKind.CCW.value and ccw_role_of_driver(driver) is CcwRole.DASD:
        return PrepRequest(PrepKind.VFIO_CCW, ident)
    if kind == HostDeviceKind.CSS.value:
        busid = Subchannel.dev_busid.read(facts.get(F.DEV_BUSID)) or ""
        if busid:
            return PrepRequest(PrepKind.VFIO_CCW, busid, undo=driver == "vfio_ccw")
        return None
    if kind == HostDeviceKind.PCI.value:
        return PrepRequest(PrepKind.PCI, ident, undo=driver == "vfio-pci")
    if kind == HostDeviceKind.AP_QUEUE.value:
        adapter, _, domain = ident.partition(".")
        try:
            return PrepRequest(PrepKind.VFIO_AP, adapters=(int(adapter, 16),), domains=(int(domain, 16),))
        except ValueError:
            return None
    if kind == HostDeviceKind.MDEV.value and facts.get(F.MDEV_TYPE, "") == "vfio_ap-passthrough":
        return PrepRequest(PrepKind.VFIO_AP, ident, undo=True)
    return None
