"""Live I/O in the details pane: read/write and rx/tx per second of the selected running guest or device.

One timer, once a second, and only while a running guest (or one of its disks or interfaces) is selected:
selecting a host, a shut-off guest or nothing stops it, so an idle ztui polls nothing. Each tick reads in
a worker thread (a few RPCs) and skips when the previous read has not come back yet.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from ztui.model import Guest, GuestDevice
from ztui.ops.iostats import IoKind, IoRate, IoSample, IoSource, human_rate, io_sources, rates, read_sample

INTERVAL = 1.0

ConnectionFor = Callable[[str], Any]  # uri → the session's libvirt connection, or None


class IoStatsView(Static):
    """Hidden unless something it can measure is selected."""

    def __init__(self, connection_for: ConnectionFor | None = None, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.connection_for = connection_for
        self.polls = 0  # reads started (the tests count them: none while nothing is selected)
        self._timer: Timer | None = None
        self._key: tuple[str, str, tuple[IoSource, ...]] | None = None
        self._previous: IoSample | None = None
        self._busy = False
        self.lines: tuple[str, ...] = ()  # what is shown, as plain text (one line per device)
        self._domain: tuple[Any, str, Any] | None = None
        self._shown: Text | None = None  # (connection, uuid, virDomain) of the last read

    def on_mount(self) -> None:
        self.display = False

    @property
    def polling(self) -> bool:
        return self._timer is not None

    def follow(self, uri: str, guest: Guest | None, device: GuestDevice | None = None) -> None:
        """Measure this guest (or this one device of it) from now on; `guest` None stops measuring."""
        sources = io_sources(guest, device) if guest is not None else ()
        running = guest is not None and guest.state is not None and guest.state.is_active
        if guest is None or not running or not sources:
            self.stop()
            return
        key = (uri, guest.uuid, sources)
        if key == self._key and self._timer is not None:
            return
        self.stop()
        self._key = key
        self.display = True
        self.lines = ("live I/O: measuring…",)
        self._set(Text(self.lines[0], style="dim"), 1)
        self._tick()
        self._timer = self.set_interval(INTERVAL, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._key = None
        self._previous = None
        self._shown = None
        self._domain = None
        self.lines = ()
        self.display = False

    def on_unmount(self) -> None:
        self.stop()

    def _tick(self) -> None:
        if self._busy or self._key is None or self.connection_for is None:
            return
        self._busy = True
        self.polls += 1
        key = self._key
        # a plain thread, not a Textual worker: a worker's state messages cost more than the read itself
        threading.Thread(target=self._read, args=(key,), name="iostats", daemon=True).start()

    def _read(self, key: tuple[str, str, tuple[IoSource, ...]]) -> None:
        uri, uuid, sources = key
        sample: IoSample | None = None
        reason = ""
        try:
            conn = self.connection_for(uri) if self.connection_for is not None else None
            if conn is None:
                reason = "the host is disconnected"
            else:
                if self._domain is None or self._domain[0] is not conn or self._domain[1] != uuid:
                    self._domain = (conn, uuid, conn.lookupByUUIDString(uuid))  # once per selection
                sample = read_sample(self._domain[2], sources, time.monotonic())
        except Exception as exc:  # the guest stopped or went away between ticks: say so, keep the pane
            self._domain = None
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        with contextlib.suppress(RuntimeError):  # the app closed while the read was out
            self.app.call_from_thread(self._show, key, sample, reason)

    def _show(self, key: tuple[str, str, tuple[IoSource, ...]], sample: IoSample | None, reason: str) -> None:
        self._busy = False
        if key != self._key or not self.is_mounted:  # the selection moved on (or the app closed) meanwhile
            return
        if sample is None:
            self.lines = (f"live I/O: {reason}",)
            self._set(Text(self.lines[0], style="dim"), 1)
            return
        previous, self._previous = self._previous, sample
        if previous is None:
            return
        rows = rows_of(sample, rates(previous, sample))
        self.lines = ("live I/O, per second", *(f"{name} {text}" for name, text, _ in rows))
        width = max((len(name) for name, _, _ in rows), default=0)
        shown = Text(self.lines[0], style="bold", no_wrap=True, overflow="ellipsis")
        for name, text, ok in rows:
            shown.append("\n")
            shown.append(name.ljust(width), style="bold")
            shown.append(" " + text, style="" if ok else "dim")
        self._set(shown, len(rows) + 1)

    def _set(self, shown: Text, height: int) -> None:
        """Repaint only this widget while its height stays: a layout would re-render the whole details
        pane (tens of ms each second, measured) just to place the same lines again."""
        if shown == self._shown:
            return  # an idle guest: the same zeros again, nothing to paint
        self._shown = shown
        same = self.styles.height is not None and self.styles.height.value == height
        self.styles.height = height
        self.update(shown, layout=not same)


def rows_of(sample: IoSample, found: tuple[IoRate, ...]) -> list[tuple[str, str, bool]]:
    """One row per device (name, text, measured): block `read … op/s write …`, net `rx … tx …`."""
    rows = []
    for rate in found:
        if rate.source.kind is IoKind.BLOCK:
            text = (f"read {human_rate(rate.in_bytes)} {rate.in_ops:.0f} op/s  "
                    f"write {human_rate(rate.out_bytes)} {rate.out_ops:.0f} op/s")
        else:
            text = (f"rx {human_rate(rate.in_bytes)} {rate.in_ops:.0f} pkt/s  "
                    f"tx {human_rate(rate.out_bytes)} {rate.out_ops:.0f} pkt/s")
        rows.append((rate.source.name, text, True))
    rows += [(source.name, f"no counters: {why}", False) for source, why in sample.errors]
    return rows
