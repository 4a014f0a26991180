"""Live I/O in the details pane: read/write and rx/tx per second of the selected running guest or device,
each beside a sparkline of its last minute (Textual's `Sparkline`, the bytes per second in and out).

One timer, once a second, and only while a running guest (or one of its disks or interfaces) is selected and
its screen is in front (not under the host devices view or a dialog): selecting a host, a shut-off guest or
nothing stops it, so an idle ztui polls nothing. Each tick reads in a plain thread (a few RPCs) and skips
when the previous read has not come back yet. The minute starts over with each selection.
"""

from __future__ import annotations

import contextlib
import textwrap
import threading
import time
from collections import deque
from collections.abc import Callable

from rich.color import Color
from rich.console import Console
from rich.text import Text
from textual.events import Resize
from textual.renderables.sparkline import Sparkline
from textual.timer import Timer
from textual.widgets import Static

from ztui.backend.interface import HostError
from ztui.backend.iostats import IoKind, IoRate, IoSample, IoSource, human_rate, io_sources, rates
from ztui.model import Guest, GuestDevice

INTERVAL = 1.0
HISTORY = 60  # rates kept per device: the last minute, one a second
SPARK_CELLS = 12  # a cell for every five seconds of the minute
_BARS = Color.parse("cyan")

Sampler = Callable[[str, str, tuple[IoSource, ...], float], IoSample]
"""(host URI, guest UUID, sources, now) → the counters; `HostError` when they cannot be read
(`HostBackend.io_sample`)."""


class IoStatsView(Static):
    """Hidden unless something it can measure is selected."""

    def __init__(self, sample: Sampler | None = None, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.sample = sample
        self.polls = 0  # reads started (the tests count them: none while nothing is selected)
        self._timer: Timer | None = None
        self._key: tuple[str, str, tuple[IoSource, ...]] | None = None
        self._previous: IoSample | None = None
        self._busy = False
        self.lines: tuple[str, ...] = ()  # what is shown, as plain text (one line per device)
        self.history: dict[IoSource, deque[float]] = {}  # bytes per second in and out, oldest first
        self._rows: list[tuple[str, str, bool, IoSource | None]] = []  # the last rows shown, for a new width
        self._shown: object = None  # what was painted last (skip painting the same again)

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
        self.lines = ()
        self.history = {}
        self._rows = []
        self.display = False

    def on_unmount(self) -> None:
        self.stop()

    def _tick(self) -> None:
        if self._busy or self._key is None or self.sample is None or not self.screen.is_active:
            return  # a read still out, nothing to read, or another screen covers the details
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
            sample = self.sample(uri, uuid, sources, time.monotonic()) if self.sample is not None else None
        except HostError as exc:  # the guest stopped or went away between ticks: say so, keep the pane
            reason = str(exc)
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
        found = rates(previous, sample)
        for rate in found:
            self.history.setdefault(rate.source, deque(maxlen=HISTORY)).append(rate.in_bytes + rate.out_bytes)
        self._rows = rows_of(sample, found)
        self.lines = ("live I/O, per second", *(f"{name} {text}" for name, text, _, _ in self._rows))
        self._paint()

    def on_resize(self, event: Resize) -> None:
        if self._rows:
            self._paint()

    def _paint(self) -> None:
        """The rows laid out for the width there is: name, sparkline and numbers on one line when they fit,
        else the numbers on the lines below (wrapped at words: a figure is never cut). One `Text`: it paints
        in a fraction of the time a table of the same lines takes, once a second."""
        width = self.content_region.width or 80
        key = (width, tuple(self._rows), tuple(tuple(h) for h in self.history.values()))
        if key == self._shown:
            return  # an idle guest: the same zeros again, nothing to paint
        name_width = max((len(name) for name, _, _, _ in self._rows), default=0)
        shown = Text("live I/O, per second · the last minute", style="bold", no_wrap=True, overflow="ellipsis")
        height = 1
        for name, text, ok, source in self._rows:
            history = list(self.history.get(source, ())) if source is not None else []
            shown.append("\n")
            shown.append(name.ljust(name_width), style="bold")
            shown.append(" ")
            shown.append_text(spark_text(self.app.console, history, SPARK_CELLS) if ok else Text(" " * SPARK_CELLS))
            height += 1
            style = "" if ok else "dim"
            if name_width + SPARK_CELLS + len(text) + 2 <= width:
                shown.append(" " + text, style=style)
                continue
            for part in textwrap.wrap(text, max(width - 2, 20), break_long_words=False):
                shown.append("\n  " + part, style=style)
                height += 1
        self._set(shown, height, key)

    def _set(self, shown: Text, height: int, key: object = None) -> None:
        """Repaint only this widget while its height stays: a layout would re-render the whole details
        pane (tens of ms each second, measured) just to place the same lines again. Nothing at all when
        `key` (the text itself by default) says it is what is shown already."""
        key = shown if key is None else key
        if key == self._shown:
            return
        self._shown = key
        same = self.styles.height is not None and self.styles.height.value == height
        self.styles.height = height
        self.update(shown, layout=not same)


def spark_text(console: Console, history: list[float], cells: int) -> Text:
    """The minute so far as a sparkline (Textual's), right-aligned in `cells`: a cell for each 1/cells of the
    minute (its highest rate), so a new selection's first seconds take the last cell, not the whole width;
    the bars are scaled from zero to the minute's highest rate."""
    used = max(1, min(cells, -(-len(history) * cells // HISTORY)))
    # from zero, not from the minute's least rate: an idle device is a flat baseline, not full bars
    graph = Sparkline([0.0, *history], width=used, min_color=_BARS, max_color=_BARS)
    # one colour: the bars' heights say it all, and one span paints in a fraction of the time of one a cell
    bars = "".join(segment.text for segment in console.render(graph, console.options.update_width(used))
                   if segment.text != "\n")
    return Text(" " * (cells - used) + bars, style="cyan")


def rows_of(sample: IoSample, found: tuple[IoRate, ...]) -> list[tuple[str, str, bool, IoSource | None]]:
    """One row per device (name, text, measured, its source): block `read … op/s write …`, net `rx … tx …`."""
    rows: list[tuple[str, str, bool, IoSource | None]] = []
    for rate in found:
        if rate.source.kind is IoKind.BLOCK:
            text = (f"read {human_rate(rate.in_bytes)} {rate.in_ops:.0f} op/s  "
                    f"write {human_rate(rate.out_bytes)} {rate.out_ops:.0f} op/s")
        else:
            text = (f"rx {human_rate(rate.in_bytes)} {rate.in_ops:.0f} pkt/s  "
                    f"tx {human_rate(rate.out_bytes)} {rate.out_ops:.0f} pkt/s")
        rows.append((rate.source.name, text, True, rate.source))
    rows += [(source.name, f"no counters: {why}", False, None) for source, why in sample.errors]
    return rows
