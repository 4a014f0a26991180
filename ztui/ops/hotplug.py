"""Where the TUI imports these names from; they live in `ztui.ops.attach`."""

from __future__ import annotations

from ztui.ops.attach.detach_plan import DetachPlan
from ztui.ops.attach.plan import AttachPlan, AttachRequest, BadRequest, GuestFacts, parse_size, plan_attach
from ztui.ops.attach.probe import HostProbe
from ztui.ops.attach.read import read_facts
from ztui.ops.attach.virsh import virsh_commands, virsh_detach

__all__ = [
    "AttachPlan",
    "AttachRequest",
    "BadRequest",
    "DetachPlan",
    "GuestFacts",
    "HostProbe",
    "parse_size",
    "plan_attach",
    "read_facts",
    "virsh_commands",
    "virsh_detach",
]
