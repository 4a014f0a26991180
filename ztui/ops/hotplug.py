"""Attach and detach, end to end: read the facts, validate, change, prove — shared by the CLI, the TUI and
the migration.

The steps are kept apart so each caller can show what will happen before it happens:

    facts = read_facts(conn, dom)                       # read-only libvirt calls
    plan = plan_attach(request, facts, HostProbe.for_connection(conn))   # BadRequest: nothing changed
    virsh_commands(uri, plan)                           # what to show the administrator
    change = carry_out_attach(conn, dom, plan)          # DeviceChange, proven by the live XML

    dplan = plan_detach(facts, "vdb")                   # by target, alias, bus-ID, MAC or mdev UUID
    change = carry_out_detach(conn, dom, dplan, timeout=15)   # REMOVED only with proof, else PENDING

Blocking functions (`read_facts`, `carry_out_*`): call them from a worker thread or a command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libvirt

from ztui.libvirtxml.devices import SpecError, parse_busid
from ztui.libvirtxml.domain import parse_domain
from ztui.model import Guest, GuestDevice
from ztui.ops.attach_plan import (
    SOURCES,
    VFIO_AP_REASON,
    AttachPlan,
    AttachRequest,
    BadRequest,
    GuestFacts,
    choose_live_config,
    next_target,
    plan_attach,
)
from ztui.ops.audit import record
from ztui.ops.host_checks import HostProbe
from ztui.ops.images import ImageError, create_command_text, create_image, image_format
from ztui.ops.images import parse_size as _parse_size
from ztui.ops.proof import DEFAULT_DETACH_TIMEOUT, DeviceChange, Outcome, attach, detach, find_device, read_config

__all__ = [
    "SOURCES",
    "VFIO_AP_REASON",
    "AttachPlan",
    "AttachRequest",
    "BadRequest",
    "DetachPlan",
    "GuestFacts",
    "HostProbe",
    "audit_attach",
    "audit_detach",
    "audit_refused",
    "carry_out_attach",
    "carry_out_detach",
    "choose_live_config",
    "find_for_detach",
    "image_format",
    "next_target",
    "parse_size",
    "plan_attach",
    "plan_detach",
    "read_facts",
    "virsh_attach",
    "virsh_commands",
    "virsh_detach",
]


def parse_size(text: str) -> int:
    """`64M`, `10G` … in bytes; BadRequest when it is not a positive size."""
    try:
        return _parse_size(text)
    except ImageError as exc:
        raise BadRequest(str(exc)) from None


def read_facts(conn: libvirt.virConnect, dom: libvirt.virDomain) -> GuestFacts:
    """The guest's live and persistent XML and the other running guests of the host (read-only calls)."""
    active = bool(dom.isActive())
    persistent = bool(dom.isPersistent())
    live = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    config = (parse_domain(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), what=f"config of guest {dom.name()}")
              if persistent else None)
    uuid = dom.UUIDString()
    others = []
    for other in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        if other.UUIDString() == uuid:
            continue
        with contextlib.suppress(libvirt.libvirtError):  # a guest that stopped meanwhile uses nothing
            others.append(parse_domain(other.XMLDesc(0)))
    return GuestFacts(guest=live if active else (config or live), config=config, active=active,
                      others_running=tuple(others))


# --- virsh equivalents ------------------------------------------------------------------------------------

def flag_words(live: bool, config: bool) -> list[str]:
    return (["--live"] if live else []) + (["--config"] if config else [])


def virsh_attach(uri: str, plan: AttachPlan, xml_file: str = "device.xml") -> str:
    """`virsh -c URI attach-device GUEST device.xml --live|--config` (device.xml holds `plan.xml`)."""
    return shlex.join(["virsh", "-c", uri, "attach-device", plan.guest, xml_file, *flag_words(plan.live, plan.config)])


def virsh_commands(uri: str, plan: AttachPlan) -> list[str]:
    """Every command an administrator would type for this plan, in order: image, controller, device."""
    lines = []
    if plan.create_image is not None:
        lines.append(create_command_text(*plan.create_image))
    if plan.controller_xml:
        lines.append(virsh_attach(uri, plan, "controller.xml"))
    lines.append(virsh_attach(uri, plan))
    return lines


def virsh_detach(uri: str, guest: str, live: bool, config: bool, xml_file: str = "device.xml") -> str:
    """`virsh -c URI detach-device GUEST device.xml --live|--config` (device.xml holds the device's XML)."""
    return shlex.join(["virsh", "-c", uri, "detach-device", guest, xml_file, *flag_words(live, config)])


# --- attach -----------------------------------------------------------------------------------------------

def carry_out_attach(conn: libvirt.virConnect, dom: libvirt.virDomain, plan: AttachPlan) -> DeviceChange:
    """Create the image and the controller if the plan says so, attach, and prove it.

    A failed attach leaves things as they were: a new image is removed again, a controller added for it is
    detached again. A qemu-img failure is REFUSED with qemu-img's reason (nothing was changed)."""
    if plan.create_image is not None:
        try:
            create_image(*plan.create_image)
        except ImageError as exc:
            return DeviceChange(Outcome.REFUSED, plan.guest, plan.xml, str(exc))
    controller: DeviceChange | None = None
    if plan.controller_xml:
        controller = attach(conn, dom, plan.controller_xml, live=plan.live, config=plan.config)
        if not controller.ok:
            _remove_new_image(plan)
            return DeviceChange(controller.outcome, plan.guest, plan.xml,
                                f"the virtio-scsi controller was not added: {controller.message}",
                                controller.seconds, controller.error_code)
    change = attach(conn, dom, plan.xml, live=plan.live, config=plan.config)
    if change.outcome is Outcome.REFUSED:
        _remove_new_image(plan)
        if controller is not None and controller.device is not None:
            with contextlib.suppress(libvirt.libvirtError):
                detach(conn, dom, controller.device, live=plan.live, config=plan.config, timeout=2)
    return change


def _remove_new_image(plan: AttachPlan) -> None:
    if plan.create_image is not None:
        Path(plan.create_image[0]).unlink(missing_ok=True)


# --- detach -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DetachPlan:
    """A device to take off a guest: which one, from where (live, config or both), its XML."""

    guest: str
    device: GuestDevice
    live: bool
    config: bool

    @property
    def name(self) -> str:
        """How the device is called in messages: target, alias or kind."""
        return self.device.target or self.device.alias or self.device.kind.value

    @property
    def where(self) -> str:
        return " and ".join(w for w, on in (("live", self.live), ("config", self.config)) if on)


def find_for_detach(guest: Guest, name: str) -> GuestDevice:
    """A device by target (`vdb`), alias (`virtio-disk1`), bus-ID (`0.0.0003`), MAC or mdev UUID."""
    wanted = name.strip().lower()
    busid = ""
    with contextlib.suppress(SpecError):
        if "." in wanted:
            busid = parse_busid(wanted).text
    matches = [d for d in guest.devices
               if wanted in (d.target.lower(), d.alias.lower(), d.source.lower()) or (busid and d.busid == busid)]
    if not matches:
        raise BadRequest(f"{guest.name} has no device named {name} (a target, alias or bus-ID)")
    if len(matches) > 1:
        raise BadRequest(f"{name} names {len(matches)} devices of {guest.name}: use a target or alias")
    return matches[0]


def plan_detach(facts: GuestFacts, name: str, *, config: bool = False) -> DetachPlan:
    """Which device to detach and from where: the running guest, plus its config with `config`.

    A shut-off guest changes in its config only. With `config` the device must be in the persistent config
    too (libvirt refuses the whole request otherwise), so that case is refused here, with the reason."""
    device = find_for_detach(facts.guest, name)
    if not facts.active:
        return DetachPlan(facts.guest.name, device, live=False, config=True)
    live, config = choose_live_config(facts, True, config or None)
    if config and facts.config is not None and find_device(facts.config, device) is None:
        raise BadRequest(f"{name} was attached to the running {facts.guest.name} only; it is not in the "
                         "persistent config (drop --config)")
    return DetachPlan(facts.guest.name, device, live, config)


def carry_out_detach(conn: libvirt.virConnect, dom: libvirt.virDomain, plan: DetachPlan, *,
                     timeout: float = DEFAULT_DETACH_TIMEOUT) -> DeviceChange:
    """Detach and prove it (`proof.detach`): REMOVED only when the live XML (config only: the persistent
    XML) no longer shows the device; PENDING after `timeout` with advice; REFUSED with libvirt's reason.

    With live and config, the persistent config is checked as well once the live removal is proven."""
    change = detach(conn, dom, plan.device, live=plan.live, config=plan.config, timeout=timeout)
    if change.outcome is Outcome.REMOVED and plan.live and plan.config:
        with contextlib.suppress(libvirt.libvirtError):
            if find_device(read_config(dom), plan.device) is not None:
                return DeviceChange(Outcome.PENDING, change.guest, change.xml,
                                    f"{plan.name} left the running guest but is still in the persistent config",
                                    change.seconds, device=plan.device,
                                    notes=(virsh_detach(conn.getURI(), plan.guest, False, True),))
    return change


# --- audit ------------------------------------------------------------------------------------------------

def audit_attach(uri: str, plan: AttachPlan, change: DeviceChange, *, request: AttachRequest | None = None,
                 via: str = "cli") -> None:
    """One audit record for an attach attempt: request, spec, XML, commands and the proven result."""
    fields: dict[str, Any] = {}
    if request is not None:
        fields["request"] = dataclasses.asdict(request)
    record("attach", uri, plan.guest, change.outcome.value, **fields,
           spec={"type": type(plan.spec).__name__, **dataclasses.asdict(plan.spec)}, xml=plan.xml,
           controller_xml=plan.controller_xml or None, live=plan.live, config=plan.config,
           virsh=virsh_commands(uri, plan), message=change.message, error_code=change.error_code,
           seconds=round(change.seconds, 3), via=via)


def audit_detach(uri: str, plan: DetachPlan, change: DeviceChange, *, timeout: float, via: str = "cli",
                 asked: str = "") -> None:
    """One audit record for a detach attempt, with the device XML and the proven (or pending) result."""
    record("detach", uri, plan.guest, change.outcome.value, device=asked or plan.name, target=plan.name,
           alias=plan.device.alias, live=plan.live, config=plan.config, xml=plan.device.xml,
           virsh=virsh_detach(uri, plan.guest, plan.live, plan.config), message=change.message,
           error_code=change.error_code, timeout=timeout, seconds=round(change.seconds, 3), via=via)


def audit_refused(action: str, uri: str, guest: str, message: str, **fields: Any) -> None:
    """A request refused before any change (bad input): recorded too, so the log shows every attempt."""
    record(action, uri, guest, "bad request", message=message, **fields)
