"""What a migration's checks find: each finding a blocker (nothing is touched) or a note (what will happen),
with a stable code for scripts and, where one clears it, the step to take first. Every check of the
preflight (`ztui.ops.migrate.preflight`, `fit`, `safety`) speaks in these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """A blocker stops the migration before the first device is touched; a note only informs."""

    BLOCKER = "blocker"
    NOTE = "note"


BLOCKER = Severity.BLOCKER
NOTE = Severity.NOTE


class Code(StrEnum):
    """The stable key of a finding, for scripts (`--json`)."""

    NOT_RUNNING = "not-running"
    UNREACHABLE = "unreachable"
    CLASH = "clash"
    MACHINE = "machine"
    PASSTHROUGH = "passthrough"
    VFIO_AP = "vfio-ap"
    DETACH = "detach"
    VIRTIOFS = "virtiofs"
    LOCAL_DISK = "local-disk"
    EQUIVALENT = "equivalent"
    NETWORK = "network"
    SECURE_EXECUTION = "secure-execution"
    RUNNING = "running"  # offline: the guest runs
    TRANSIENT = "transient"  # offline: there is no definition to move
    COPY_STORAGE = "copy-storage"  # where --copy-storage copies each disk (offline: QEMU is needed to copy)
    OFFLINE = "offline"  # offline: what moves
    BOOT_DEVICE = "boot-device"  # the device the guest boots from is not taken off it
    RUNS_ELSEWHERE = "runs-elsewhere"  # the guest runs on a third host ztui knows
    LOCK_MANAGER = "lock-manager"  # shared disks, and libvirt there has no lock manager
    VOLUME = "volume"  # a disk's volume on the destination, found by its identity (and its name there)
    INTERFACE = "interface"  # a bridge, macvtap or OSA interface on the destination, with the layer it needs
    CPU = "cpu"  # the guest's CPU model on the destination (compareHypervisorCPU)
    MEMORY = "memory"  # the destination's free memory
    SECURE_EXECUTION_HOST = "secure-execution-host"  # the destination can run Secure Execution guests


@dataclass(frozen=True)
class Finding:
    """One preflight result: a `blocker` stops the migration, a `note` only informs."""

    severity: Severity
    text: str
    code: Code | None = None
    device: str = ""
    step: str = ""
    """For a blocker that a step before the migration clears (an option, a device to define there): that
    step; '' when something on a host has to change first."""

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity.value, "code": self.code.value if self.code else "",
                "device": self.device, "text": self.text, "step": self.step}
