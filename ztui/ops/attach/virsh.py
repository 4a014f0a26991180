"""The virsh commands that do what a plan does: shown before anything changes, written to the audit log, and
offered when a device must be put back by hand."""

from __future__ import annotations

import shlex

from ztui.ops.attach.detach_plan import DetachPlan
from ztui.ops.attach.images import create_command_text
from ztui.ops.attach.plan import AttachPlan


def flag_words(live: bool, config: bool) -> list[str]:
    return (["--live"] if live else []) + (["--config"] if config else [])


def virsh_attach(uri: str, plan: AttachPlan, xml_file: str = "device.xml") -> str:
    """`virsh -c URI attach-device GUEST device.xml --live|--config` (device.xml holds `plan.xml`)."""
    return shlex.join(["virsh", "-c", uri, "attach-device", plan.guest, xml_file, *flag_words(plan.live, plan.config)])


def virsh_commands(uri: str, plan: AttachPlan) -> list[str]:
    """Every command an administrator would type for this plan, in order: image, controller, device."""
    lines = []
    if plan.create_image is not None:
        lines.append(plan.create_command or create_command_text(*plan.create_image))
    if plan.controller_xml:
        lines.append(virsh_attach(uri, plan, "controller.xml"))
    lines.append(virsh_attach(uri, plan))
    return lines


def virsh_detach(uri: str, guest: str, live: bool, config: bool, xml_file: str = "device.xml") -> str:
    """`virsh -c URI detach-device GUEST device.xml --live|--config` (device.xml holds the device's XML)."""
    return shlex.join(["virsh", "-c", uri, "detach-device", guest, xml_file, *flag_words(live, config)])


def virsh_reattach(uri: str, plan: DetachPlan, xml_file: str = "device.xml") -> str:
    """`virsh -c URI attach-device GUEST device.xml …`: how to put a detached device back by hand."""
    return shlex.join(["virsh", "-c", uri, "attach-device", plan.guest, xml_file,
                       *flag_words(plan.live, plan.config)])
