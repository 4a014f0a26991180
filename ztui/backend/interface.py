"""`HostBackend`: everything the TUI asks of hosts — list, read, act, subscribe — as one typed interface.

The UI holds a `HostBackend` and nothing below it: no connection, no session, no JSON. Each method that
talks to a host blocks, so the UI calls it from a worker thread (one the app owns, so that its one handler
for failed workers sees a failure) and posts the typed answer to itself as a message. Host updates arrive
through `open`'s sink, on the sessions' threads. `LibvirtBackend` (`ztui.backend.libvirt`) is the
implementation; a test or another transport can bring its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from ztui.backend.updates import UpdateSink
from ztui.host.inventory import Inventory
from ztui.model import GuestDevice, Host

if TYPE_CHECKING:  # the capability modules are imported when first used (see each method)
    from ztui.backend.attach import AttachContext, AttachDone, AttachPlan, AttachRequest, DetachDone
    from ztui.backend.devices import DetachPlan
    from ztui.backend.iostats import IoSample, IoSource
    from ztui.backend.journal import Resolution, Resolved, Unfinished
    from ztui.backend.lifecycle import CopyCheck, LifecycleDone, LifecyclePlan
    from ztui.backend.migrate import (
        LeftoverDone,
        MigrationControl,
        MigrationDone,
        MigrationOptions,
        MigrationReport,
        MigrationStep,
        Preflight,
    )
    from ztui.backend.placement import EvacuationPlan, EvacuationReport, GuestResult, Placement
    from ztui.backend.prepare import Prepared, PrepPlan, PrepRequest
    from ztui.model import DeviceUse
    from ztui.ops.migrate.plan import Rewrite


class HostError(Exception):
    """A host or guest went away, or libvirt refused a read: the message says what it said."""


class HostBackend(ABC):
    """The hosts the TUI shows, and every action on them. `shown` arguments are the URIs of every host the
    TUI shows (the hosts an action asks besides its own: where else a guest runs, where it can go)."""

    # --- subscribe ------------------------------------------------------------------------------------

    @abstractmethod
    def open(self, uris: Sequence[str], sink: UpdateSink, shown: Sequence[str]) -> None:
        """Start reading these hosts and keep them current: every update goes to `sink`, from the host's own
        thread."""

    @abstractmethod
    def resync(self) -> None:
        """Read every host again."""

    @abstractmethod
    def refresh_inventory(self, uri: str) -> bool:
        """Scan the host's devices again (the answer is an `InventoryChanged` update); False: not open."""

    @abstractmethod
    def close(self) -> None:
        """Stop every host's session."""

    # --- list and read --------------------------------------------------------------------------------

    @abstractmethod
    def read_only(self, uri: str) -> bool:
        """Whether the host is saved read-only (its connection is opened read-only). Does not block."""

    @abstractmethod
    def inventory(self, uri: str) -> Inventory | None:
        """The host's devices as last scanned; None before the first scan. Does not block."""

    @abstractmethod
    def domain_xml(self, uri: str, name: str) -> str:
        """A guest's whole domain XML as libvirt has it now (live when running); `HostError` when it or its host
        went away."""

    @abstractmethod
    def attach_context(self, uri: str, name: str, snapshot: Host | None) -> AttachContext:
        """What the attach dialog needs for this guest (`snapshot`: its host as shown, for the offers);
        `HostError` when it or its host went away."""

    @abstractmethod
    def where(self, uri: str, guest: str, shown: Sequence[str], only: Sequence[str] = ()) -> list[Placement]:
        """Every other host judged by the migration preflight for this guest (`only`: just these); `HostError`
        when it or its host went away."""

    @abstractmethod
    def plan_evacuation(self, uri: str, shown: Sequence[str], host_name: str) -> EvacuationPlan:
        """A destination for every running guest of the host, or why it stays; `HostError` when the host went
        away."""

    @abstractmethod
    def preflight(self, uri: str, guest: str, dest_uri: str, options: MigrationOptions,
                  shown: Sequence[str]) -> Preflight:
        """Everything knowable before a migration changes anything; an unreachable host is a blocker."""

    @abstractmethod
    def unfinished(self, uris: Sequence[str]) -> Unfinished:
        """The journal's unfinished operations of these hosts (those of gone hosts or guests settled)."""

    @abstractmethod
    def io_sample(self, uri: str, uuid: str, sources: tuple[IoSource, ...], when: float) -> IoSample:
        """A running guest's I/O counters now; `HostError` when the host is disconnected or the guest stopped."""

    @abstractmethod
    def preparable(self, uri: str) -> bool:
        """Whether this process can prepare the host's devices (only this machine's own host). Does not block."""

    @abstractmethod
    def prepare_plan(self, request: PrepRequest, uses: Mapping[str, Sequence[DeviceUse]] | None) -> PrepPlan:
        """The preparation's plan; raises `PrepRefused`."""

    @abstractmethod
    def state_problem(self) -> str:
        """Why a change's record could not be kept (the state directory), or ''."""

    # --- act ------------------------------------------------------------------------------------------

    @abstractmethod
    def attach(self, uri: str, request: AttachRequest, plan: AttachPlan) -> AttachDone:
        """The attach in its frame (guest lock, journal, audit), proven."""

    @abstractmethod
    def detach(self, uri: str, plan: DetachPlan, timeout: float) -> DetachDone:
        """The detach in its frame, proven within `timeout`."""

    @abstractmethod
    def migrate(self, uri: str, guest: str, dest_uri: str, options: MigrationOptions,
                to_move: tuple[GuestDevice, ...], control: MigrationControl, rewrites: tuple[Rewrite, ...],
                progress: Callable[[MigrationStep], None]) -> MigrationDone:
        """One guarded migration (locks on both hosts, journal, audit); `progress` hears each step, `control`
        aborts or switches to post-copy. Raises `StateUnwritable` before any change when nothing can be
        recorded."""

    @abstractmethod
    def undefine_leftover(self, report: MigrationReport) -> LeftoverDone:
        """The definition a migration left on its source removed, proven."""

    @abstractmethod
    def lifecycle(self, planned: LifecyclePlan, uuid: str, shown: Sequence[str], accepted: CopyCheck | None,
                  timeout: float | None) -> LifecycleDone:
        """Start (one copy only, unless `accepted` covers what the other hosts say), shut down, reboot, …"""

    @abstractmethod
    def console_ended(self, uri: str, guest: str, code: int, command: Sequence[str]) -> None:
        """The record of a console session the UI ran."""

    @abstractmethod
    def evacuate(self, plan: EvacuationPlan, shown: Sequence[str],
                 on_result: Callable[[GuestResult], None]) -> EvacuationReport:
        """The evacuation carried out guest by guest; `on_result` hears of each guest."""

    @abstractmethod
    def prepare(self, uri: str, plan: PrepPlan, *, undo: bool) -> Prepared:
        """A preparation (or its undo) carried out, each step proven."""

    @abstractmethod
    def settle_entry(self, entry_id: str, how: Resolution) -> Resolved:
        """An unfinished operation finished or rolled back, proven."""

    @abstractmethod
    def start_lab(self) -> list[str]:
        """Start ztui's private lab; its hosts' URIs."""
