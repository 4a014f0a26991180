"""A detach request → a plan: which device (by target, alias, bus-ID, MAC or mdev UUID), from where (the
running guest, its persistent config or both), or one clear "no" before anything changes: a device libvirt
or QEMU cannot take off (`ztui.ops.attach.unplug`), the device the running guest IPLed from
(`ztui.ops.attach.boot`), a device the config does not hold when the config is to change too. Pure over
`GuestFacts`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ztui.libvirtxml.devices import SpecError, parse_busid
from ztui.model import Guest, GuestDevice
from ztui.ops.attach.boot import boot_warning
from ztui.ops.attach.plan import BadRequest, GuestFacts, choose_live_config
from ztui.ops.attach.prove import find_device
from ztui.ops.attach.unplug import unplug_refusal


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
        return self.device.display_name

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


def plan_detach(facts: GuestFacts, name: str, *, config: bool = False, force: bool = False) -> DetachPlan:
    """Which device to detach and from where: the running guest, plus its config with `config`.

    A shut-off guest changes in its config only. With `config` the device must be in the persistent config
    too (libvirt refuses the whole request otherwise), so that case is refused here, with the reason; so is
    a device libvirt or QEMU cannot take off (`ztui.ops.attach.unplug`: a root PCI controller, a busy controller,
    the only console, …), and — unless `force` — the device the running guest IPLed from (`ztui.ops.attach.boot`):
    its root file system would go from under it."""
    device = find_for_detach(facts.guest, name)
    if not facts.active:
        _refuse_unplug(facts.guest, device, live=False)
        return DetachPlan(facts.guest.name, device, live=False, config=True)
    live, config = choose_live_config(facts, True, config or None)
    in_config = find_device(facts.config, device) if config and facts.config is not None else None
    if config and facts.config is not None and in_config is None:
        raise BadRequest(f"{name} was attached to the running {facts.guest.name} only; it is not in the "
                         "persistent config (drop --config)")
    _refuse_unplug(facts.guest, device, live=live)
    if in_config is not None and facts.config is not None:
        _refuse_unplug(facts.config, in_config, live=False)
    if live and not force:
        defined = find_device(facts.config, device) is not None if facts.config is not None else None
        text, certain = boot_warning(facts.guest, device, defined)
        if certain:
            raise BadRequest(f"{text}; nothing was changed (--force detaches it all the same)")
    return DetachPlan(facts.guest.name, device, live, config)


def _refuse_unplug(guest: Guest, device: GuestDevice, *, live: bool) -> None:
    reason = unplug_refusal(guest, device, live=live)
    if reason:
        raise BadRequest(f"{reason}; nothing was changed")
