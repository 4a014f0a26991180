"""The attach dialog (`a` on a guest): kind → backing → options → XML and virsh preview → apply.

The preview is the validated plan itself (`plan_attach`), so what is shown is exactly what will be sent;
a problem shows as the same one-line message the command line gives, and nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Select, Static

from ztui.ops.hotplug import AttachPlan, AttachRequest, BadRequest, GuestFacts, parse_size, plan_attach, virsh_attach

KINDS = [
    ("new image file (qcow2 or raw by name)", "new"),
    ("existing image file", "disk"),
    ("host block device", "block"),
    ("DASD by bus-ID", "dasd"),
    ("SCSI LUN (virtio-scsi)", "lun"),
    ("libvirt network", "net"),
    ("host bridge", "bridge"),
    ("macvtap on an interface (OSA, HiperSockets)", "macvtap"),
    ("vfio-ccw mdev (UUID)", "mdev"),
    ("PCI / zPCI function", "pci"),
]


@dataclass(frozen=True)
class AttachChoice:
    """What the dialog hands back: a validated plan for the guest."""

    plan: AttachPlan


class AttachScreen(ModalScreen[AttachChoice | None]):
    BINDINGS = [
        Binding("ctrl+s", "apply", "Attach", id="apply"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, uri: str, facts: GuestFacts, suggestions: dict[str, list[str]] | None = None) -> None:
        super().__init__()
        self.uri = uri
        self.facts = facts
        self.suggestions = suggestions or {}
        self.plan: AttachPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="attach-box") as box:
            box.border_title = f"attach to {self.facts.guest.name}"
            yield Select(KINDS, value="new", allow_blank=False, id="attach-kind")
            yield Input(placeholder="path, device, network, bridge, interface, UUID or PCI address",
                        id="attach-source")
            yield Static("", id="attach-hint")
            yield Input(placeholder="size for a new image, e.g. 64M", id="attach-size")
            yield Input(placeholder="target (optional, e.g. vdc)", id="attach-target")
            yield Input(placeholder="ccw devno (optional, e.g. 0.0.0042)", id="attach-devno")
            with VerticalScroll(id="attach-preview"):
                yield Static("", id="attach-plan")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#attach-source", Input).focus()
        self._refresh()

    @on(Select.Changed)
    @on(Input.Changed)
    def _changed(self) -> None:
        self._refresh()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def _request(self) -> AttachRequest:
        kind = str(self.query_one("#attach-kind", Select).value)
        size_text = self.query_one("#attach-size", Input).value.strip()
        size = None
        if kind == "new":
            size = parse_size(size_text or "64M")
        return AttachRequest(
            guest=self.facts.guest.name,
            source_kind="disk" if kind == "new" else kind,
            source=self.query_one("#attach-source", Input).value.strip(),
            size=size,
            target=self.query_one("#attach-target", Input).value.strip(),
            devno=self.query_one("#attach-devno", Input).value.strip(),
        )

    def _refresh(self) -> None:
        kind = str(self.query_one("#attach-kind", Select).value)
        self.query_one("#attach-size", Input).display = kind == "new"
        hint = self.suggestions.get(kind, [])
        self.query_one("#attach-hint", Static).update(
            Text("unused on this host: " + ", ".join(hint[:6]), style="magenta") if hint else Text(""))
        body: RenderableType
        try:
            request = self._request()
            if not request.source:
                raise BadRequest("give the source")
            self.plan = plan_attach(request, self.facts)
        except BadRequest as exc:
            self.plan = None
            body = Text(str(exc), style="yellow")
        else:
            where = " + ".join(w for w, on_ in (("live", self.plan.live), ("config", self.plan.config)) if on_)
            parts: list[RenderableType] = [Text(f"ready ({where}) — ctrl+s attaches", style="green"),
                                           Text(virsh_attach(self.uri, self.plan), style="dim")]
            parts += [Text(n) for n in self.plan.notes]
            parts.append(Syntax(self.plan.xml, "xml", theme="ansi_dark", word_wrap=True))
            body = Group(*parts)
        self.query_one("#attach-plan", Static).update(body)

    def action_apply(self) -> None:
        self._refresh()
        if self.plan is not None:
            self.dismiss(AttachChoice(self.plan))

    def action_cancel(self) -> None:
        self.dismiss(None)
