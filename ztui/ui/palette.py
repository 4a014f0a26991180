"""Command palette entries (ctrl+p) built from the in-memory model, never from a libvirt call."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import FuzzySearch

from ztui.ui.noderef import NodeRef
from ztui.ui.screens.main import MainScreen
from ztui.ui.widgets.device_identity import device_keys

_SEARCH = FuzzySearch()


def match_words(query: str, text: str) -> tuple[float, list[int]]:
    """Every word of the query must match the text (a substring or, failing that, its letters in order),
    in any order: `zlnx02 zlab-y` finds a guest on that host, `vdb lnx01` a disk of that guest. The score
    is the sum of the words' scores; the offsets are those to highlight. (0, []) when a word does not match."""
    total, offsets = 0.0, list[int]()
    for word in query.split():
        score, found = _SEARCH.match(word, text)
        if not score:
            return 0.0, []
        total += score
        offsets.extend(found)
    return total, offsets


class FleetCommands(Provider):
    """Jump to any host, guest or device by typing parts of its name, target or bus-ID and of its host's
    or guest's name, in any order."""

    @property
    def main(self) -> MainScreen | None:
        """The main screen, wherever it is in the stack (a provider is not a DOM node of it)."""
        return next((s for s in self.app.screen_stack if isinstance(s, MainScreen)), None)

    def _entries(self) -> list[tuple[str, str, Callable[[], None]]]:
        main = self.main
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
        main = self.main
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
        style = self.matcher(query).match_style
        for text, help_text, callback in self._entries():
            # the help line (state, host) counts too: `zlnx02 zlab-y` is a guest on a host
            score, offsets = match_words(query, f"{text} {help_text}")
            if score > 0:
                shown = Content(text)
                for offset in offsets:
                    if offset < len(text) and not text[offset].isspace():
                        shown = shown.stylize(style, offset, offset + 1)
                yield Hit(score, shown, callback, help=help_text)
