"""The attach dialog (`a` on a guest): kind → backing → options → XML and virsh preview → apply.

The backing list offers only what the host has and validation would accept (eligible, unused devices,
active networks, existing bridges — `ops.candidates`); anything else can still be typed. The preview is
the validated plan itself (`plan_attach`), so what is shown is exactly what will be sent; a problem shows
as the same one-line message the command line gives, and `ctrl+s` does nothing until it is fixed.

Per keystroke the request is checked against the guest only (pure, instant). The host's side — does the
image exist *on that host*, is there a pool for a new one, is the bridge there — costs file-system or
libvirt round trips, so it runs in a worker once typing pauses (`HOST_CHECK_DELAY`), and again on
`ctrl+s`; an answer for a request that has changed meanwhile is dropped.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Input, Select, Static

from ztui.backend.attach import (
    PREPARE_PREFIX,
    AttachContext,
    AttachPlan,
    AttachRequest,
    BadRequest,
    HostCheck,
    parse_size,
    plan_attach,
    virsh_commands,
)
from ztui.backend.prepare import PrepKind, PrepRequest
from ztui.report.hostdevs import device_uses
from ztui.ui.screens.prepare import PrepareScreen
from ztui.ui.shell import ZtuiShell
from ztui.ui.widgets.ordered_input import OrderedInput

KINDS = [
    ("new image file (qcow2 or raw by its name)", "new"),
    ("existing image file", "disk"),
    ("host block device (multipath, NVMe, …)", "block"),
    ("DASD by bus-ID", "dasd"),
    ("SCSI LUN on virtio-scsi", "lun"),
    ("libvirt network", "net"),
    ("bridge (Linux or Open vSwitch)", "bridge"),
    ("macvtap on an interface (OSA, HiperSockets)", "macvtap"),
    ("mdev: vfio-ccw or vfio-ap", "mdev"),
    ("PCI / zPCI function (managed VFIO)", "pci"),
]

HOST_CHECK_DELAY = 0.3
"""Seconds of quiet typing before the host is asked (a remote host answers in round trips)."""

WHERE = [("default: live when running, else config", "default"), ("live only", "live"),
         ("persistent config only", "config"), ("live and config", "both")]

_PLACEHOLDER = {
    "new": "path of the new image, e.g. /var/lib/libvirt/images/data.qcow2",
    "disk": "path of an existing image",
    "block": "/dev/… block device", "dasd": "bus-ID, e.g. 0.0.5c3f", "lun": "/dev/… SCSI device",
    "net": "libvirt network name", "bridge": "bridge name", "macvtap": "interface name",
    "mdev": "mdev UUID", "pci": "PCI address dddd:bb:ss.f",
}


@dataclass(frozen=True)
class AttachChoice:
    """What the dialog hands back: the request and its validated plan."""

    request: AttachRequest
    plan: AttachPlan


class AttachScreen(ModalScreen[AttachChoice | None]):
    """Collects one attach request and shows its plan; dismisses with the plan or None.

    A free DASD offered as an mdev (`prepare:0.0.5c3f`) is prepared first: the preview shows the attach
    of the mdev-to-be (its UUID chosen now), `ctrl+s` opens the preparation's own plan, and only when
    that ran and was proven is the attach checked against the host and handed back."""

    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("ctrl+s", "apply", "Attach", id="apply", priority=True),
        Binding("pagedown", "scroll_preview(1)", "Scroll", id="scroll_down", priority=True),
        Binding("pageup", "scroll_preview(-1)", "Scroll up", show=False, id="scroll_up", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, context: AttachContext) -> None:
        super().__init__()
        self.uri = context.uri
        self.facts = context.facts
        self.candidates = context.candidates
        self.check: HostCheck | None = context.check
        self.plan: AttachPlan | None = None
        self.request: AttachRequest | None = None
        self._host_timer: Timer | None = None
        self._prepared_uuids: dict[str, str] = {}  # DASD bus-ID → the UUID its mdev will get

    def compose(self) -> ComposeResult:
        with Vertical(id="attach-box") as box:
            box.border_title = f"attach to {self.facts.guest.name} on {self.app.host_name(self.uri)}"
            yield Select(KINDS, value="new", allow_blank=False, id="attach-kind", compact=True)
            yield Select[str]([], prompt="host offers (eligible, unused)", id="attach-backing", compact=True)
            yield OrderedInput(placeholder=_PLACEHOLDER["new"], id="attach-source")
            yield OrderedInput(placeholder="size of the new image, e.g. 64M (default 64M)", id="attach-size")
            yield OrderedInput(placeholder="target (optional, e.g. vdc)", id="attach-target")
            yield OrderedInput(placeholder="ccw devno (optional, e.g. 0.0.0042)", id="attach-devno")
            yield Select(WHERE, value="default", allow_blank=False, id="attach-where", compact=True)
            with VerticalScroll(id="attach-preview"):
                yield Static("", id="attach-plan")
        yield Footer()

    def on_mount(self) -> None:
        self._kind_changed()
        # what to attach is the first question: enter opens the kinds rather than trying an empty request
        self.query_one("#attach-kind", Select).focus()

    @property
    def kind(self) -> str:
        return str(self.query_one("#attach-kind", Select).value)

    @on(Select.Changed, "#attach-kind")
    def _kind_changed(self) -> None:
        kind = self.kind
        self.query_one("#attach-size", Input).display = kind == "new"
        self.query_one("#attach-devno", Input).display = self.facts.is_s390 and kind not in ("lun", "pci")
        self.query_one("#attach-source", Input).placeholder = _PLACEHOLDER[kind]
        backing = self.query_one("#attach-backing", Select)
        offers = self.candidates.get(kind, [])
        backing.set_options([(c.label, c.value) for c in offers])
        backing.display = bool(offers)
        self._refresh()

    @on(Select.Changed, "#attach-backing")
    def _backing_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#attach-source", Input).value = event.value

    @on(Select.Changed, "#attach-where")
    @on(Input.Changed)
    def _changed(self) -> None:
        self._refresh()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def _prepare_first(self) -> str:
        """The DASD bus-ID when the chosen backing is a DASD to prepare first, else ''. Only a DASD the host
        offers for it (`ops.candidates`: one `ztui prepare` would take from the host) counts; a typed one is
        refused by `_build_request`."""
        source = self.query_one("#attach-source", Input).value.strip()
        offered = {c.value for c in self.candidates.get("mdev", [])}
        return source.removeprefix(PREPARE_PREFIX) if self.kind == "mdev" and source in offered \
            and source.startswith(PREPARE_PREFIX) else ""

    def _build_request(self) -> AttachRequest:
        kind = self.kind
        typed = self.query_one("#attach-source", Input).value.strip()
        if kind == "mdev" and typed.startswith(PREPARE_PREFIX) and not self._prepare_first():
            raise BadRequest(f"DASD {typed.removeprefix(PREPARE_PREFIX)} is not one this host offers to prepare for "
                             "vfio-ccw (its subchannel's readiness in the host devices view, H, says why)")
        size = None
        if kind == "new":
            size = parse_size(self.query_one("#attach-size", Input).value.strip() or "64M")
        where = str(self.query_one("#attach-where", Select).value)
        live = {"default": None, "live": True, "config": False, "both": True}[where]
        config = {"default": None, "live": False, "config": True, "both": True}[where]
        devno = self.query_one("#attach-devno", Input)
        return AttachRequest(
            guest=self.facts.guest.name,
            source_kind="disk" if kind == "new" else kind,
            source=(self._prepared_uuids.setdefault(busid, str(uuidlib.uuid4())) if (busid := self._prepare_first())
                    else self.query_one("#attach-source", Input).value.strip()),
            size=size,
            target=self.query_one("#attach-target", Input).value.strip(),
            devno=devno.value.strip() if devno.display else "",
            live=live,
            config=config,
        )

    def _refresh(self) -> None:
        """Re-validate against the guest only (no libvirt or file-system call on the UI thread), then ask
        the host in a worker once the typing pauses."""
        try:
            request = self._build_request()
            if not request.source:
                raise BadRequest("give the source (or pick what the host offers)")
            plan = plan_attach(request, self.facts, None)
        except BadRequest as exc:
            self._show(None, None, str(exc), checked=False)
            return
        self._show(request, plan, "", checked=False)
        if self.check is not None:
            if self._host_timer is not None:
                self._host_timer.stop()
            self._host_timer = self.set_timer(HOST_CHECK_DELAY, lambda: self._later(request))

    def _later(self, request: AttachRequest) -> None:
        self._check_host(request, apply=False)

    def _show(self, request: AttachRequest | None, plan: AttachPlan | None, problem: str, *, checked: bool) -> None:
        self.request, self.plan = (request, plan) if plan is not None else (None, None)
        body: RenderableType
        if plan is None:
            body = Text(problem, style="yellow")
        else:
            if checked:
                ready = "checked against the host"
            elif self.check is not None:
                ready = "checking the host…"
            else:
                ready = "ctrl+s checks the host and attaches"
            parts: list[RenderableType] = [Text(f"ready ({plan.where}) — {ready}", style="green")]
            busid = self._prepare_first()
            if busid and request is not None:
                parts.append(Text(f"first: prepare DASD {busid} for vfio-ccw as mdev {request.source} "
                                  f"(ztui prepare vfio-ccw {busid} --uuid {request.source}); ctrl+s shows its plan "
                                  "before anything changes, then this attach runs", style="magenta"))
            parts += [Text(c, style="dim") for c in virsh_commands(self.uri, plan)]
            parts += [Text(n, style="cyan") for n in plan.notes]
            parts.append(Syntax(plan.xml, "xml", theme="ansi_dark", word_wrap=True))
            body = Group(*parts)
        self.query_one("#attach-plan", Static).update(body)

    @work(thread=True, exclusive=True, group="attach-host-check")
    def _check_host(self, request: AttachRequest, *, apply: bool) -> None:
        """The full validation, host included, off the UI thread."""
        plan: AttachPlan | None = None
        try:
            if self.check is None:
                raise BadRequest("the host cannot be checked")
            plan, problem = self.check.plan(request, self.facts), ""
        except BadRequest as exc:
            problem = str(exc)
        except Exception as exc:  # the host went away: say so, offer nothing
            problem = f"cannot check the host: {exc}"
        self.app.call_from_thread(self._host_checked, request, plan, problem, apply)

    def _host_checked(self, request: AttachRequest, plan: AttachPlan | None, problem: str, apply: bool) -> None:
        try:
            current = self._build_request()
        except BadRequest:
            return
        if current != request or not self.is_attached:
            return  # typed on meanwhile: a newer check follows
        self._show(request, plan, problem, checked=True)
        if apply:
            self._finish()

    def _finish(self) -> None:
        if self.plan is not None and self.request is not None:
            self.dismiss(AttachChoice(self.request, self.plan))
        else:
            self.notify("The request is not valid yet (see the message).", severity="warning")

    def action_apply(self) -> None:
        busid = self._prepare_first()
        if busid:
            self._prepare_then_apply(busid)
            return
        self._refresh()
        if self._host_timer is not None:
            self._host_timer.stop()
        if self.plan is None or self.request is None or self.check is None:
            self._finish()
            return
        self._check_host(self.request, apply=True)

    def _prepare_then_apply(self, busid: str) -> None:
        """The preparation dialog for the DASD (its plan, then its run); the attach only after its proof."""
        self._refresh()
        if self.plan is None or self.request is None:
            self.notify("The request is not valid yet (see the message).", severity="warning")
            return
        inventory = self.app.backend.inventory(self.uri)
        snapshot = self.app.fleet.snapshot(self.uri)
        users = device_uses(snapshot, inventory) if inventory is not None and snapshot is not None else None
        request = PrepRequest(PrepKind.VFIO_CCW, busid, uuid=self.request.source)

        def prepared(proven: bool | None) -> None:
            if not proven:
                self.notify(f"DASD {busid} was not prepared: nothing was attached", severity="warning")
                return
            self.query_one("#attach-source", Input).value = request.uuid or ""
            self.action_apply()  # the mdev exists now: checked against the host, then attached

        self.app.push_screen(PrepareScreen(self.uri, request, users), prepared)

    def action_scroll_preview(self, pages: int) -> None:
        """The preview (virsh commands and XML) scrolls from any field: at 80x24 it has a few lines."""
        preview = self.query_one("#attach-preview", VerticalScroll)
        if pages > 0:
            preview.scroll_page_down(animate=False)
        else:
            preview.scroll_page_up(animate=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
