"""Command palette entries (ctrl+p) built from the in-memory model, never from a libvirt call."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ztui.ui.app import ZtuiApp
from ztui.ui.screens.main import MainScreen
from ztui.ui.widgets.guest_tree import NodeRef, device_keys


class FleetCommands(Provider):
    """Jump to any host, guest or device by typing part of its name, target or bus-ID."""

    @property
    def ztui(self) -> ZtuiApp:
        """The app, typed (a provider is not a DOM node, so `getters.app` does not apply)."""
        app = self.app
        assert isinstance(app, ZtuiApp)
        return app

    def _entries(self) -> list[tuple[str, str, Callable[[], None]]]:
        main = self.ztui.main
        if main is None:
            return []
        entries: list[tuple[str, str, Callable[[], None]]] = []
        for uri, entry in main.fleet.hosts.items():
            name = entry.host.hostname or uri
            entries.append((f"host {name}", uri, partial(self._jump, NodeRef("host", uri))))
            for guest in entry.guests.values():
                state = guest.state.value if guest.state is not None else ""
                entries.append((f"guest {guest.name}", f"{state} on {name}",
                                partial(self._jump, NodeRef("guest", uri, guest.uuid))))
                for key, dev in zip(device_keys(guest.devices), guest.devices, strict=True):
                    label = dev.display_name
                    where = " ".join(p for p in (dev.address_text, dev.source) if p)
                    entries.append((f"{guest.name} {label} {dev.kind.value} {where}".rstrip(), f"device on {name}",
                                    partial(self._jump, NodeRef("device", uri, guest.uuid, key))))
        return entries

    def _jump(self, ref: NodeRef) -> None:
        main: MainScreen | None = self.ztui.main
        if main is None:
            return
        if main.guest_tree.query_text and not main.guest_tree.select_ref(ref):
            main.action_clear_filter()
        main.guest_tree.select_ref(ref)
        main.guest_tree.focus()

    async def discover(self) -> Hits:
        for text, help_text, callback in self._entries()[:50]:
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
