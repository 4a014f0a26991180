"""The main screen's keys, declared once: the screen binds them, and the help screen and the README's key
table (`ztui.ui.keys`) are built from them.

Each binding's `tooltip` is its line in the help screen and in the README's key table: a new key is one
`Binding` here, and both follow.
"""

from __future__ import annotations

from textual.binding import Binding

from ztui.ui.widgets.details import DETAILS_BINDING

LIFECYCLE_BINDINGS = [
    Binding("s", "lifecycle('start')", "Start/resume", show=False, id="start",
            tooltip="start the selected guest (resume it when paused); asks first when it runs on another host"),
    Binding("S", "lifecycle('shutdown')", "Shut down", show=False, id="shutdown",
            tooltip="shut the selected guest down (graceful: its OS is asked), after a confirmation"),
    Binding("R", "lifecycle('reboot')", "Reboot", show=False, id="reboot",
            tooltip="reboot the selected guest (its OS is asked), after a confirmation"),
    Binding("D", "lifecycle('destroy')", "Destroy", show=False, id="destroy",
            tooltip="destroy: force the selected guest off at once, after a confirmation"),
    Binding("P", "lifecycle('suspend')", "Pause", show=False, id="pause",
            tooltip="pause the selected guest (`s` resumes it)"),
    Binding("c", "console", "Console", show=False, id="console",
            tooltip="the selected guest's console (`virsh console`, ztui suspended; `ctrl+]` returns)"),
]
"""A guest's daily actions: s S R D P c (`ztui.ui.screens.lifecycle`)."""

PLACEMENT_BINDINGS = [
    Binding("w", "where", "Where", show=False, id="where",
            tooltip="where can the selected guest go: every other host ready, ready after steps, or not and why "
                    "(`m` migrates to the highlighted one)"),
    Binding("E", "evacuate", "Evacuate", show=False, id="evacuate",
            tooltip="empty the selected host: a destination for every running guest, the plan, then `ctrl+s` "
                    "migrates them one by one"),
]
"""Where a guest can go (w), emptying a host (E): `ztui.ui.screens.placement`."""

MAIN_BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("slash", "filter", "Filter", id="filter",
            tooltip="filter: guest name, device target, bus-ID, host device id or path; `esc` clears"),
    Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter",
            tooltip="clear the filter: every guest again, collapsed as before, the cursor where it was"),
    Binding("x", "show_xml", "XML", id="xml",
            tooltip="the selected guest's domain XML, or the selected device's XML"),
    Binding("a", "attach", "Attach", id="attach",
            tooltip="attach a device to the selected guest: kind, backing (unused host devices are "
                    "suggested), XML and virsh preview, `ctrl+s`"),
    Binding("d", "detach", "Detach", id="detach",
            tooltip="detach the selected device, after a confirmation that shows the virsh command and XML"),
    Binding("m", "migrate", "Migrate", id="migrate",
            tooltip="migrate the selected guest: destination, preflight and plan, progress (`ctrl+a` aborts, "
                    "`ctrl+t` post-copy), report; `escape` leaves it running"),
    Binding("H", "host_devices", "Host devs", id="host_devices",
            tooltip="host devices, grouped, with the guests that use each one (`u`: free for pass-through "
                    "only)"),
    DETAILS_BINDING,
    Binding("r", "resync", "Resync", show=False, id="resync", tooltip="re-read every host now"),
    Binding("question_mark", "help", "Help", id="help", tooltip="help: every key, and the marks in the tree"),
    Binding("q", "quit", "Quit", id="quit", tooltip="quit"),
    *LIFECYCLE_BINDINGS,
    *PLACEMENT_BINDINGS,
]
"""Every key of the main screen (the tree's own moves are `GuestTree.BINDINGS`)."""
