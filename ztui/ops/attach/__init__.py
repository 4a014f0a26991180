"""Attach and detach (hotplug), end to end, with proof — the one import for its callers (the CLI, the TUI).

The steps, each a module, so that every caller can show what will happen before it happens:

- read: `read` (the guest's live and persistent XML, the host's other running guests) and `probe`
  (read-only questions about the host: does the bridge, the mdev, the block device exist and is it free);
- plan: `plan` (an attach request → a validated plan, or one clear "no") and `detach_plan` (which device,
  from where), with the rules of `unplug` (what libvirt and QEMU can take off) and `boot` (the IPL device);
  `virsh` (the same as virsh commands); `images` (a new image's format and size); `candidates` (what could
  back a new device, for the TUI's wizard);
- act: `run` (the change, with its rollback), in the frame of `guarded` (lock, journal, signals, audit);
- prove: `prove` (added or removed only when libvirt shows it) and `settle` (an outcome a lost connection
  left unknown); `recover` (an unfinished journal entry finished or rolled back).

    facts = read_facts(conn, dom)
    plan = plan_attach(request, facts, HostProbe.for_connection(conn))   # BadRequest: nothing changed
    virsh_commands(uri, plan)                                           # what to show the administrator
    done = attach_recorded(HostLink(uri, conn), dom, plan)             # proven by the live XML
"""

from __future__ import annotations

from ztui.ops.attach.boot import boot_refusal, boot_warning
from ztui.ops.attach.candidates import PREPARE_PREFIX, Candidate, attach_candidates
from ztui.ops.attach.detach_plan import DetachPlan, find_for_detach, plan_detach
from ztui.ops.attach.guarded import Recorded, attach_recorded, audit_refused, detach_recorded, ended
from ztui.ops.attach.images import image_format
from ztui.ops.attach.plan import (
    SOURCES,
    AttachPlan,
    AttachRequest,
    BadRequest,
    GuestFacts,
    next_target,
    parse_size,
    plan_attach,
)
from ztui.ops.attach.probe import HostProbe
from ztui.ops.attach.prove import DEFAULT_DETACH_TIMEOUT, DeviceChange, Outcome
from ztui.ops.attach.read import read_facts
from ztui.ops.attach.recover import Resolution, resolve
from ztui.ops.attach.unplug import unplug_refusal
from ztui.ops.attach.virsh import virsh_attach, virsh_commands, virsh_detach, virsh_reattach

__all__ = [
    "DEFAULT_DETACH_TIMEOUT",
    "PREPARE_PREFIX",
    "SOURCES",
    "AttachPlan",
    "AttachRequest",
    "BadRequest",
    "Candidate",
    "DetachPlan",
    "DeviceChange",
    "GuestFacts",
    "HostProbe",
    "Outcome",
    "Recorded",
    "Resolution",
    "attach_candidates",
    "attach_recorded",
    "audit_refused",
    "boot_refusal",
    "boot_warning",
    "detach_recorded",
    "ended",
    "find_for_detach",
    "image_format",
    "next_target",
    "parse_size",
    "plan_attach",
    "plan_detach",
    "read_facts",
    "resolve",
    "unplug_refusal",
    "virsh_attach",
    "virsh_commands",
    "virsh_detach",
    "virsh_reattach",
]
