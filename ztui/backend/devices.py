"""What the UI asks about a guest's device before it acts, without a host: can libvirt take it off
(`ztui.ops.attach.unplug`), is it the boot device (`ztui.ops.attach.boot`), the detach's plan and its virsh command, and
how a detach can end. Pure, and light enough for start-up (the details pane shows the commands)."""

from __future__ import annotations

from ztui.libvirtxml.common import pretty_xml
from ztui.ops.attach.boot import boot_warning
from ztui.ops.attach.detach_plan import DetachPlan
from ztui.ops.attach.prove import DEFAULT_DETACH_TIMEOUT, Outcome
from ztui.ops.attach.unplug import unplug_refusal
from ztui.ops.attach.virsh import virsh_detach

__all__ = ["DEFAULT_DETACH_TIMEOUT", "DetachPlan", "Outcome", "boot_warning", "pretty_xml", "unplug_refusal",
           "virsh_detach"]
