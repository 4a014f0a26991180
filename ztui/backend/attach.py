"""Hotplug for the UI: a guest's facts and what its host offers, the host's check of a request, the attach
and the detach in their frame (guest lock, journal, audit: `ztui.ops.attach.guarded`), each proven.

The value types the attach dialog and the detach confirmation plan with are `ztui.ops`'s own, named here
so that the UI has one import for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from ztui.backend.hosts import LiveHosts
from ztui.errors import ZtuiError
from ztui.model import Host
from ztui.ops.attach.candidates import PREPARE_PREFIX, Candidate, attach_candidates
from ztui.ops.attach.detach_plan import DetachPlan
from ztui.ops.attach.guarded import attach_recorded, detach_recorded
from ztui.ops.attach.plan import AttachPlan, AttachRequest, BadRequest, GuestFacts, parse_size, plan_attach
from ztui.ops.attach.probe import HostProbe
from ztui.ops.attach.prove import DeviceChange, Outcome
from ztui.ops.attach.read import read_facts
from ztui.ops.attach.virsh import virsh_commands

__all__ = ["PREPARE_PREFIX", "AttachContext", "AttachDone", "AttachPlan", "AttachRequest", "BadRequest", "Candidate",
           "DetachDone", "GuestFacts", "HostCheck", "parse_size", "plan_attach", "virsh_commands"]


class HostCheck:
    """The host's side of an attach request (does the image exist there, is the bridge there): file-system
    or libvirt round trips, so called from a worker. One per dialog: what it read is kept for the next check."""

    def __init__(self, probe: HostProbe) -> None:
        self._probe = probe

    def plan(self, request: AttachRequest, facts: GuestFacts) -> AttachPlan:
        """The full validation, host included; raises `BadRequest`."""
        return plan_attach(request, facts, self._probe)


@dataclass(frozen=True)
class AttachContext:
    """What the attach dialog needs: the guest's facts (live and persistent XML, its neighbours), what its
    host offers for each kind (eligible, unused), and the host's check."""

    uri: str
    facts: GuestFacts
    candidates: dict[str, list[Candidate]]
    check: HostCheck


@dataclass(frozen=True)
class AttachDone:
    """How an attach ended: the line to show, whether it was proven, and what could not be written beside a
    change that stands (audit, journal)."""

    message: str
    ok: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class DetachDone:
    """How a detach ended: the line to show (with its notes) and the proven outcome."""

    message: str
    outcome: Outcome


def attach_message(plan: AttachPlan, change: DeviceChange) -> str:
    """The toast after an attach names the device: `vdc (/var/lib/…/data.qcow2) attached to lnxa03`."""
    device = change.device
    if device is None:
        return f"{plan.guest}: {plan.kind or 'device'}: {change.message}"
    source = f" ({device.source})" if device.source else ""
    return f"{device.display_name}{source} {change.message}"


def attach_context(hosts: LiveHosts, uri: str, name: str, snapshot: Host | None) -> AttachContext:
    """Read the guest's facts; raises `libvirt.libvirtError` or `ConnectionError` when it or its host went away."""
    conn = hosts.connection(uri)
    facts = read_facts(conn, conn.lookupByName(name))
    probe = HostProbe.for_connection(conn)
    return AttachContext(uri, facts, attach_candidates(hosts.inventory(uri), snapshot), HostCheck(probe))


def attach(hosts: LiveHosts, uri: str, request: AttachRequest, plan: AttachPlan) -> AttachDone:
    """The attach in its frame; refused before any change when the guest is busy or the state directory
    cannot be written. A host that went away mid-way claims nothing."""
    try:
        link = hosts.link(uri)
        done = attach_recorded(link, link.conn.lookupByName(plan.guest), plan, request=request, via="tui")
    except ZtuiError as exc:
        return AttachDone(f"{plan.guest}: attach refused: {exc}", False)
    except (libvirt.libvirtError, ConnectionError) as exc:
        return AttachDone(f"{plan.guest}: attach not proven: {exc}", False)
    return AttachDone(attach_message(plan, done.change), done.change.ok, done.problems)


def detach(hosts: LiveHosts, uri: str, plan: DetachPlan, timeout: float) -> DetachDone:
    """The detach in its frame (see `attach`), waiting up to `timeout` for its proof."""
    try:
        link = hosts.link(uri)
        done = detach_recorded(link, link.conn.lookupByName(plan.guest), plan, timeout=timeout, via="tui")
    except ZtuiError as exc:
        return DetachDone(f"{plan.guest}: detach of {plan.name} refused: {exc}", Outcome.REFUSED)
    except (libvirt.libvirtError, ConnectionError) as exc:
        return DetachDone(f"{plan.guest}: detach of {plan.name} not proven: {exc}", Outcome.UNKNOWN)
    change = done.change
    message = f"{plan.name}: {change.message}" + "".join(f"\n{n}" for n in (*change.notes, *done.problems))
    return DetachDone(message, change.outcome)
