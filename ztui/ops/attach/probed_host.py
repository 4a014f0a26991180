"""The host an attach's checks look at, and the shape of their answers.

Questions about libvirt objects (networks, node devices, host interfaces) go to the connection, so they
also work over `qemu+ssh://`. `/sys` and `/dev` are read only when the host shares this machine's kernel
(`local`); files only through `files` (`ztui.host.storage`: this machine's file system for a host in this
process's mount namespace, libvirt's storage pools for every other), so validation never checks the wrong
machine. A host whose facts are a snapshot (the lab's simulated Z hosts) answers the disk and PCI
questions from those facts instead, and its interfaces from them first; it is never `local`. The disk,
network and pass-through checks share one `ProbedHost`, so a snapshot's inventory is built once for all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import libvirt

from ztui.host.facts_source import HostFacts
from ztui.host.inventory import Inventory, build_inventory
from ztui.host.storage import HostFiles, LocalFiles

T = TypeVar("T")


@dataclass(frozen=True)
class Lookup(Generic[T]):
    """The answer to "what is at this name on the host?": `found` when it is there, `problem` (one
    sentence) when the host says it is not usable, neither when the host cannot be asked (remote)."""

    found: T | None = None
    problem: str = ""

    @property
    def unknown(self) -> bool:
        return self.found is None and not self.problem


class ProbedHost:
    """One host as the checks may read it: its connection, its /sys when it is this machine, its facts when
    it is known by a snapshot, its files."""

    def __init__(self, conn: libvirt.virConnect | None, *, local: bool = True, sysfs: str = "/sys",
                 facts: HostFacts | None = None, files: HostFiles | None = None) -> None:
        self.conn = conn
        self.local = local and facts is None
        self.sysfs = Path(sysfs)
        self.facts = facts
        self.files: HostFiles = files if files is not None else LocalFiles()
        self._facts_inventory: Inventory | None = None

    def facts_inventory(self) -> Inventory | None:
        """The inventory of a host known by its facts, built once for all its checks; None for a host read
        live."""
        if self.facts is not None and self._facts_inventory is None:
            self._facts_inventory = build_inventory(self.facts.devices, local=True, system=self.facts.system)
        return self._facts_inventory
