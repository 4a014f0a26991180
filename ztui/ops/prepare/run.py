"""Carrying out a preparation plan: each step done, then proven by a re-read, and undone on failure.

A step counts as done only when its proof holds (the driver link names `vfio_ccw`, libvirt shows the mdev
active …), never because a write returned. When a step fails or cannot be proven, the steps done so far
are undone in reverse order, each undo proven too; what could not be undone is reported with the
command that does it by hand. Every step is written to the journal before it runs, so a preparation
that dies half-way is listed by `ztui journal` with the step it reached, and nothing is left half-bound
without the journal saying so.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ztui.facts import F, mdev_guest_matrix
from ztui.host.sysfs import Sysfs, SysfsError
from ztui.model import HostDeviceKind
from ztui.ops.prepare.steps import Action, Direction, PrepKind, PrepPlan, Proof, ProofKind, Step
from ztui.zsysfs import VfioAp


class MdevState(StrEnum):
    GONE = "gone"  # libvirt does not know it
    DEFINED = "defined"  # defined, not active
    ACTIVE = "active"


class NodeDevices(Protocol):
    """The node-device calls a preparation makes (libvirt's API; `ztui.libvirt.nodedevs` implements it)."""

    def define(self, xml: str) -> str:
        """Define an mdev from its XML; libvirt's name of the new node device."""

    def start(self, name: str) -> None: ...

    def set_autostart(self, name: str, on: bool) -> None: ...

    def destroy(self, name: str) -> None: ...

    def undefine(self, name: str) -> None: ...

    def state(self, uuid: str) -> tuple[MdevState, bool]:
        """Whether libvirt knows the mdev with this UUID (and runs it), and whether it autostarts."""


class StepJournal(Protocol):
    """Where each step is recorded before it runs (the operation journal)."""

    def step(self, name: str, **facts: object) -> None: ...


class PrepFailed(RuntimeError):
    """A node-device call failed; the message is libvirt's reason."""


@dataclass
class PrepResult:
    """What a run did: the steps proven done, the one that failed and why, and the rollback."""

    plan: PrepPlan
    done: list[Step] = field(default_factory=list)
    failed: Step | None = None
    error: str = ""
    undone: list[Step] = field(default_factory=list)
    not_undone: list[tuple[Step, str]] = field(default_factory=list)
    guest_matrix: str = ""

    @property
    def ok(self) -> bool:
        return self.failed is None

    def text(self) -> str:
        lines = [f"{'done' if s in self.done and s not in self.undone else 'undone'}: {s.title}"
                 for s in self.done]
        if self.failed is not None:
            lines.append(f"failed: {self.failed.title}: {self.error}")
        for step, reason in self.not_undone:
            lines.append(f"NOT undone: {step.title} ({reason}); by hand: {step.command}")
        if self.ok:
            lines.append(f"result: {self.plan.result}")
            if self.guest_matrix:
                lines.append("guest_matrix (what a guest gets):\n  " + self.guest_matrix.replace("\n", "\n  "))
        return "\n".join(lines)


@dataclass
class _Names:
    """libvirt's node-device names learnt while running (define tells the real one)."""

    by_uuid: dict[str, str] = field(default_factory=dict)

    def of(self, step: Step) -> str:
        return self.by_uuid.get(step.file, step.nodedev)


def run_plan(plan: PrepPlan, sysfs: Sysfs, nodedevs: NodeDevices, journal: StepJournal | None = None,
             *, between: Callable[[Step], None] | None = None) -> PrepResult:
    """Do every step of `plan` with proof; on a failure undo what was done (see the module).

    `between` runs after each proven step (the signal guard's check point: an interrupt stops the plan
    there and everything done is undone)."""
    result = PrepResult(plan)
    names = _Names()
    for index, step in enumerate(plan.steps, 1):
        if journal is not None:
            journal.step(f"{index}:{step.action.value}", title=step.title)
        error = _do(step, sysfs, nodedevs, names) or _prove(step, sysfs, nodedevs)
        if error:
            result.failed, result.error = step, error
            if step.action is Action.NODEDEV_DEFINE and nodedevs.state(step.file)[0] is not MdevState.GONE:
                result.done.append(step)  # defined, then something failed: it must be undefined too
            _rollback(result, sysfs, nodedevs, names, journal)
            return result
        result.done.append(step)
        if between is not None:
            try:
                between(step)
            except BaseException as exc:
                result.failed, result.error = step, f"stopped after this step: {exc}"
                _rollback(result, sysfs, nodedevs, names, journal)
                raise
    if plan.mdev_uuid and plan.kind is PrepKind.VFIO_AP and plan.direction is Direction.PREPARE:
        mdev = sysfs.record(HostDeviceKind.MDEV, plan.mdev_uuid, f"devices/vfio_ap/matrix/{plan.mdev_uuid}",
                            (F.GUEST_MATRIX,))
        matrix = mdev_guest_matrix(mdev)
        result.guest_matrix = VfioAp.guest_matrix.write(matrix) if matrix is not None else ""
    return result


def _rollback(result: PrepResult, sysfs: Sysfs, nodedevs: NodeDevices, names: _Names,
              journal: StepJournal | None) -> None:
    for step in reversed(list(result.done)):
        for undo in step.undo:
            if journal is not None:
                journal.step(f"undo:{undo.action.value}", title=undo.title)
            error = _do(undo, sysfs, nodedevs, names) or _prove(undo, sysfs, nodedevs)
            if error:
                result.not_undone.append((undo, error))
            else:
                result.undone.append(step)


def _do(step: Step, sysfs: Sysfs, nodedevs: NodeDevices, names: _Names) -> str:
    """Carry out one step; its error as one line, "" when it was done."""
    try:
        if step.action is Action.SYSFS:
            for write in step.writes:
                if write.path.endswith("/driver/unbind") and not sysfs.link_name(write.path[:-len("/unbind")]):
                    continue  # no driver holds it (any more): nothing to unbind
                sysfs.write(write.path, write.value)
        elif step.action is Action.WRITE_FILE:
            _write_file(step.file, step.text)
        elif step.action is Action.REMOVE_FILE:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(step.file)
        elif step.action is Action.NODEDEV_DEFINE:
            if nodedevs.state(step.file)[0] is MdevState.GONE:  # a finished entry may have defined it
                names.by_uuid[step.file] = nodedevs.define(step.text)
        elif step.action is Action.NODEDEV_START:
            if nodedevs.state(step.file)[0] is not MdevState.ACTIVE:
                nodedevs.start(names.of(step))
        elif step.action is Action.NODEDEV_AUTOSTART:
            nodedevs.set_autostart(names.of(step), True)
        elif step.action is Action.NODEDEV_DESTROY:
            if nodedevs.state(step.file)[0] is MdevState.ACTIVE:
                nodedevs.destroy(names.of(step))
        elif step.action is Action.NODEDEV_UNDEFINE and nodedevs.state(step.file)[0] is not MdevState.GONE:
            nodedevs.undefine(names.of(step))
    except SysfsError as exc:
        return str(exc)
    except PrepFailed as exc:
        return str(exc)
    except OSError as exc:
        return f"{step.file}: {exc.strerror or exc}"
    return ""


def _prove(step: Step, sysfs: Sysfs, nodedevs: NodeDevices) -> str:
    """The first proof of `step` that does not hold, as one line; "" when all hold."""
    for proof in step.proofs:
        if not _holds(proof, sysfs, nodedevs):
            return _why(proof, sysfs, nodedevs)
    return ""


def _holds(proof: Proof, sysfs: Sysfs, nodedevs: NodeDevices) -> bool:
    if proof.kind is ProofKind.ATTRIBUTE:
        return sysfs.wait_for(proof.path, proof.expected)
    if proof.kind is ProofKind.DRIVER:
        return sysfs.wait_for(proof.path, proof.expected, driver=True)
    if proof.kind is ProofKind.ABSENT:
        return not sysfs.exists(proof.path)
    if proof.kind is ProofKind.FILE:
        try:
            with open(proof.path, encoding="utf-8") as f:
                return f.read() == proof.expected and bool(proof.expected)
        except FileNotFoundError:
            return not proof.expected
        except OSError:
            return False
    state, autostart = nodedevs.state(proof.path)
    if proof.kind is ProofKind.MDEV_ACTIVE:
        return state is MdevState.ACTIVE
    if proof.kind is ProofKind.MDEV_AUTOSTART:
        return autostart
    return state is MdevState.GONE


def _why(proof: Proof, sysfs: Sysfs, nodedevs: NodeDevices) -> str:
    if proof.kind is ProofKind.ATTRIBUTE:
        return f"/sys/{proof.path} reads '{sysfs.read(proof.path)}', not '{proof.expected}'"
    if proof.kind is ProofKind.DRIVER:
        return f"/sys/{proof.path} is {sysfs.link_name(proof.path) or 'no driver'}, not {proof.expected}"
    if proof.kind is ProofKind.FILE:
        return f"{proof.path} does not hold '{proof.expected.strip()}'" if proof.expected else \
            f"{proof.path} is still there"
    if proof.kind is ProofKind.ABSENT:
        return f"/sys/{proof.path} is still there"
    return f"libvirt shows mdev {proof.path} {nodedevs.state(proof.path)[0].value}, not as expected " \
           f"({proof.kind.value})"


def _write_file(path: str, text: str) -> None:
    """A small configuration file, written whole (a temporary file renamed over it, fsync'd)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    tmp = f"{path}.ztui-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
