"""What a host-device preparation is made of: kinds, steps, their proofs and their undo.

IBM's KVM on Z procedure frees a device from its default driver and hands it to a VFIO driver, in a fixed
order, by hand. A plan here is that procedure written out: every step carries the command an
administrator would type, the sysfs writes it makes (in order), how a re-read proves it took effect, and
how to undo it. The plan is shown before anything changes (`--dry-run` shows only it), and the runner
does exactly what it shows. Pure records: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PrepKind(StrEnum):
    """What is being prepared."""

    VFIO_CCW = "vfio-ccw"
    VFIO_AP = "vfio-ap"
    PCI = "pci"


class Direction(StrEnum):
    PREPARE = "prepare"
    UNPREPARE = "unprepare"


class ProofKind(StrEnum):
    """How a step is proven after it ran."""

    ATTRIBUTE = "attribute"  # a sysfs attribute reads the expected value
    DRIVER = "driver"  # a device's driver link names the expected driver
    ABSENT = "absent"  # a sysfs path no longer exists
    FILE = "file"  # a file on the host holds the expected text ("" = the file is gone)
    MDEV_ACTIVE = "mdev-active"  # libvirt shows the mdev node device defined and active
    MDEV_GONE = "mdev-gone"  # libvirt no longer knows the mdev
    MDEV_AUTOSTART = "mdev-autostart"  # libvirt starts the mdev with the host


@dataclass(frozen=True)
class Write:
    """One sysfs write, `echo value > /sys/path`."""

    path: str
    value: str

    @property
    def shell(self) -> str:
        return f"echo {self.value} > /sys/{self.path}"


@dataclass(frozen=True)
class Proof:
    kind: ProofKind
    path: str = ""  # sysfs path (ATTRIBUTE, DRIVER, ABSENT), file path (FILE), mdev UUID (MDEV_*)
    expected: str = ""


class Action(StrEnum):
    """What a step does besides sysfs writes."""

    SYSFS = "sysfs"
    WRITE_FILE = "write-file"  # a persistent setting (driverctl's override file)
    REMOVE_FILE = "remove-file"
    NODEDEV_DEFINE = "nodedev-define"
    NODEDEV_START = "nodedev-start"
    NODEDEV_AUTOSTART = "nodedev-autostart"
    NODEDEV_DESTROY = "nodedev-destroy"
    NODEDEV_UNDEFINE = "nodedev-undefine"


@dataclass(frozen=True)
class Step:
    """One step of a plan: what it does, as a command and as the writes it makes, and its proof."""

    title: str
    command: str
    action: Action = Action.SYSFS
    writes: tuple[Write, ...] = ()
    proofs: tuple[Proof, ...] = ()
    file: str = ""  # WRITE_FILE / REMOVE_FILE: the file; NODEDEV_*: the mdev UUID
    text: str = ""  # WRITE_FILE: its content; NODEDEV_DEFINE: the node-device XML
    nodedev: str = ""  # NODEDEV_*: libvirt's node-device name of the mdev (until define tells the real one)
    undo: tuple[Step, ...] = ()  # what reverses this step, in order

    def to_json(self) -> dict[str, Any]:
        """Everything about the step, for the journal (`from_json` reads it back)."""
        return {"title": self.title, "command": self.command, "action": self.action.value,
                "writes": [[w.path, w.value] for w in self.writes],
                "proofs": [[p.kind.value, p.path, p.expected] for p in self.proofs],
                "file": self.file, "text": self.text, "nodedev": self.nodedev,
                "undo": [u.to_json() for u in self.undo]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Step:
        return cls(str(doc["title"]), str(doc["command"]), Action(doc["action"]),
                   tuple(Write(str(a), str(b)) for a, b in doc.get("writes", [])),
                   tuple(Proof(ProofKind(k), str(a), str(b)) for k, a, b in doc.get("proofs", [])),
                   str(doc.get("file", "")), str(doc.get("text", "")), str(doc.get("nodedev", "")),
                   tuple(cls.from_json(u) for u in doc.get("undo", [])))

    def lines(self) -> list[str]:
        """The step as an administrator reads it: the command, then the writes it makes."""
        out = [self.command]
        out += [f"  {w.shell}" for w in self.writes if w.shell != self.command]
        if self.action is Action.WRITE_FILE:
            out.append(f"  write {self.file}: {self.text.strip()}")
        if self.action is Action.REMOVE_FILE:
            out.append(f"  rm {self.file}")
        return out


@dataclass(frozen=True)
class PrepPlan:
    """Everything a preparation (or its undo) will do, and what it gives in the end."""

    kind: PrepKind
    direction: Direction
    target: str  # what the administrator named: a bus-ID, an AP matrix, a PCI address
    steps: tuple[Step, ...]
    result: str  # what the administrator gets: "mdev 8b9b… on subchannel 0.0.0010, attach it with …"
    notes: tuple[str, ...] = ()
    mdev_uuid: str = ""
    touches: tuple[str, ...] = field(default=())  # the host devices changed (for the lock and the journal)

    def text(self) -> str:
        head = f"{self.direction.value} {self.kind.value} {self.target}"
        lines = [head]
        for n, step in enumerate(self.steps, 1):
            lines.append(f"{n}. {step.title}")
            lines += [f"   {line}" for line in step.lines()]
        if not self.steps:
            lines.append("nothing to change")
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"result: {self.result}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The whole plan, for the journal: an interrupted run is undone from it (`from_json`)."""
        return {"kind": self.kind.value, "direction": self.direction.value, "target": self.target,
                "steps": [s.to_json() for s in self.steps], "result": self.result, "notes": list(self.notes),
                "mdev": self.mdev_uuid, "touches": list(self.touches)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PrepPlan:
        return cls(PrepKind(doc["kind"]), Direction(doc["direction"]), str(doc["target"]),
                   tuple(Step.from_json(s) for s in doc["steps"]), str(doc.get("result", "")),
                   tuple(str(n) for n in doc.get("notes", [])), str(doc.get("mdev", "")),
                   tuple(str(t) for t in doc.get("touches", [])))

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind.value, "direction": self.direction.value, "target": self.target,
                "steps": [{"title": s.title, "command": s.command, "action": s.action.value,
                           "writes": [{"path": "/sys/" + w.path, "value": w.value} for w in s.writes],
                           **({"xml": s.text} if s.action is Action.NODEDEV_DEFINE else {})}
                          for s in self.steps],
                "notes": list(self.notes), "result": self.result, "mdev": self.mdev_uuid or None}


class PrepRefused(ValueError):
    """The device cannot be prepared as asked; one line saying why. Nothing was changed."""
