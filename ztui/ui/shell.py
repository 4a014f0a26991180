"""What screens and widgets may ask of the app, typed and low in `ztui.ui`: the fleet they show, the backend
they act through, how hosts are named, and the migration jobs.

`ZtuiApp` (`ztui.ui.app`) is a `ZtuiShell` that composes the screens; screens and widgets reach it as
`app = getters.app(ZtuiShell)` and never import the app, so nothing in `ztui.ui` points back up. What a
screen wants of the app beyond this (a status line, a resync, hosts opened) it says with a message
(`ztui.ui.messages`); what it wants of a host it asks the backend, in a worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import App

from ztui.backend.interface import HostBackend
from ztui.backend.updates import VolumeTracker
from ztui.fleet import Fleet
from ztui.ui.hotplug import Hotplug
from ztui.ui.migrations import Migrations
from ztui.ui.names import HostNames


class ZtuiShell(App[int]):
    """The app as its screens see it."""

    def __init__(self, uris: Sequence[str], backend: HostBackend, *, readonly: bool = False,
                 names: Mapping[str, str] | None = None, detach_timeout: float) -> None:
        super().__init__()
        self.uris = list(uris)
        self.backend = backend
        """The one door to the hosts."""
        self.readonly = readonly
        """ztui was started with --readonly: nothing is changed on any host."""
        self.fleet = Fleet(self.uris, names, readonly=[u for u in self.uris if backend.read_only(u)])
        """Every shown host's current model; the screens render from it alone."""
        self.volumes = VolumeTracker()
        """One volume across the hosts shown: where else it is, who writes it there."""
        self.detach_timeout = detach_timeout
        """Seconds a detach waits for its proof."""
        self.lifecycle_timeout: float | None = None
        """Seconds a lifecycle action waits for its proof; None: `ztui.ops.lifecycle`'s own."""
        self.lock_advice_given: set[str] = set()
        """Hosts told once what would guard their shared disks."""
        self.names = HostNames(self.fleet, readonly)
        """How hosts are named (`host_name`, `named`) and whether they take changes (`host_readonly`)."""
        self.migrations = Migrations(self, backend, self.names)
        """Every guest's migration job; the workers that run them are the app's."""
        self.hotplug = Hotplug(self, backend, self.fleet)
        """The hotplug workers (attach, detach, a guest's XML)."""

    def host_name(self, uri: str) -> str:
        return self.names.host_name(uri)

    def host_readonly(self, uri: str) -> bool:
        return self.names.host_readonly(uri)

    def named(self, text: str) -> str:
        return self.names.named(text)

    @property
    def shown(self) -> list[str]:
        return self.names.shown

    def resync(self) -> None:
        """Read every host again."""
        self.backend.resync()
