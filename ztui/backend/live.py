"""`LibvirtBackend`: the hosts as libvirt shows them, one live session each (`ztui.backend.hosts`).

The capability modules are imported when first used, not at start-up: the TUI's first paint waits for
nothing but the tree (docs/ARCHITECTURE.md §3, the figures in the allow-list of `pyproject.toml`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import libvirt

from ztui.backend.hosts import EarlyStart, LiveHosts, Started
from ztui.backend.interface import HostBackend, HostError
from ztui.backend.iostats import IoReader, IoSample, IoSource
from ztui.backend.state import state_problem
from ztui.backend.updates import UpdateSink
from ztui.host.inventory import Inventory
from ztui.libvirt.connection import is_read_only
from ztui.model import GuestDevice, Host

if TYPE_CHECKING:
    from ztui.backend.attach import AttachContext, AttachDone, AttachPlan, AttachRequest, DetachDone
    from ztui.backend.devices import DetachPlan
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

__all__ = ["EarlyStart", "LibvirtBackend", "Started"]


@contextmanager
def host_errors() -> Iterator[None]:
    """libvirt's errors, and a host not connected, as `HostError` with the same message."""
    try:
        yield
    except (libvirt.libvirtError, ConnectionError) as exc:
        raise HostError(str(exc)) from exc


class LibvirtBackend(HostBackend):
    """Every host through libvirt: `readonly` opens every connection read-only, `udev` lets a host on this
    machine's kernel be watched through udev, `early` adopts sessions a command started before the TUI."""

    def __init__(self, *, readonly: bool = False, udev: bool = True,
                 reconnect_delays: Sequence[float] | None = None, early: EarlyStart | None = None) -> None:
        self.hosts = LiveHosts(readonly=readonly, udev=udev, reconnect_delays=reconnect_delays, early=early)
        self._io = IoReader(self.hosts)

    # --- subscribe ------------------------------------------------------------------------------------

    def open(self, uris: Sequence[str], sink: UpdateSink, shown: Sequence[str]) -> None:
        self.hosts.open(uris, sink, shown)

    def resync(self) -> None:
        self.hosts.resync()

    def refresh_inventory(self, uri: str) -> bool:
        return self.hosts.refresh_inventory(uri)

    def close(self) -> None:
        self.hosts.stop()

    # --- list and read --------------------------------------------------------------------------------

    def read_only(self, uri: str) -> bool:
        return is_read_only(uri)

    def inventory(self, uri: str) -> Inventory | None:
        return self.hosts.inventory(uri)

    def domain_xml(self, uri: str, name: str) -> str:
        with host_errors():
            return str(self.hosts.connection(uri).lookupByName(name).XMLDesc(0))

    def attach_context(self, uri: str, name: str, snapshot: Host | None) -> AttachContext:
        from ztui.backend import attach  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        with host_errors():
            return attach.attach_context(self.hosts, uri, name, snapshot)

    def where(self, uri: str, guest: str, shown: Sequence[str], only: Sequence[str] = ()) -> list[Placement]:
        from ztui.backend import placement  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        with host_errors():
            return placement.judge(self.hosts, uri, guest, shown, only)

    def plan_evacuation(self, uri: str, shown: Sequence[str], host_name: str) -> EvacuationPlan:
        from ztui.backend import placement  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        with host_errors():
            return placement.plan(self.hosts, uri, shown, host_name)

    def preflight(self, uri: str, guest: str, dest_uri: str, options: MigrationOptions,
                  shown: Sequence[str]) -> Preflight:
        from ztui.backend import migrate  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return migrate.check(self.hosts, uri, guest, dest_uri, options, shown)

    def unfinished(self, uris: Sequence[str]) -> Unfinished:
        from ztui.backend import journal  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return journal.unfinished(uris)

    def io_sample(self, uri: str, uuid: str, sources: tuple[IoSource, ...], when: float) -> IoSample:
        try:
            return self._io.sample(uri, uuid, sources, when)
        except ConnectionError as exc:  # no session connection now
            raise HostError("the host is disconnected") from exc
        except Exception as exc:  # the guest stopped or went away between ticks; the host lost
            raise HostError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    def preparable(self, uri: str) -> bool:
        from ztui.backend import prepare  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return prepare.preparable_here(uri)

    def prepare_plan(self, request: PrepRequest, uses: Mapping[str, Sequence[DeviceUse]] | None) -> PrepPlan:
        from ztui.backend import prepare  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return prepare.plan(request, uses)

    def state_problem(self) -> str:
        return state_problem()

    # --- act ------------------------------------------------------------------------------------------

    def attach(self, uri: str, request: AttachRequest, plan: AttachPlan) -> AttachDone:
        from ztui.backend import attach  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return attach.attach(self.hosts, uri, request, plan)

    def detach(self, uri: str, plan: DetachPlan, timeout: float) -> DetachDone:
        from ztui.backend import attach  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return attach.detach(self.hosts, uri, plan, timeout)

    def migrate(self, uri: str, guest: str, dest_uri: str, options: MigrationOptions,
                to_move: tuple[GuestDevice, ...], control: MigrationControl, rewrites: tuple[Rewrite, ...],
                progress: Callable[[MigrationStep], None]) -> MigrationDone:
        from ztui.backend import migrate  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return migrate.migrate(self.hosts, uri, guest, dest_uri, options, to_move, control, rewrites, progress)

    def undefine_leftover(self, report: MigrationReport) -> LeftoverDone:
        from ztui.backend import migrate  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return migrate.undefine_leftover(self.hosts, report)

    def lifecycle(self, planned: LifecyclePlan, uuid: str, shown: Sequence[str], accepted: CopyCheck | None,
                  timeout: float | None) -> LifecycleDone:
        from ztui.backend import lifecycle  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return lifecycle.carry_out(self.hosts, planned, uuid, shown, accepted, timeout)

    def console_ended(self, uri: str, guest: str, code: int, command: Sequence[str]) -> None:
        from ztui.backend import lifecycle  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        lifecycle.console_ended(uri, guest, code, command)

    def evacuate(self, plan: EvacuationPlan, shown: Sequence[str],
                 on_result: Callable[[GuestResult], None]) -> EvacuationReport:
        from ztui.backend import placement  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return placement.evacuate(self.hosts, plan, shown, on_result)

    def prepare(self, uri: str, plan: PrepPlan, *, undo: bool) -> Prepared:
        from ztui.backend import prepare  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return prepare.run(uri, plan, undo=undo)

    def settle_entry(self, entry_id: str, how: Resolution) -> Resolved:
        from ztui.backend import journal  # noqa: PLC0415 - capability code on first use (~90 ms of start-up)

        return journal.settle(entry_id, how)

    def start_lab(self) -> list[str]:
        from ztui.lab import ensure_lab  # noqa: PLC0415 - the lab only when it is asked for
        from ztui.lab.hosts import lab_uris  # noqa: PLC0415 - the lab only when it is asked for

        return list(lab_uris(ensure_lab()).values())
