"""The app's hotplug workers: the attach dialog's facts read, the attach and the detach carried out, a
guest's domain XML read — each in a worker of the app (its one failure handler sees them), each posting
what it found as a message (`AttachReady`, `AttachEnded`, `DetachEnded`, `XmlRead`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.message import Message

from ztui.backend.interface import HostBackend, HostError
from ztui.fleet import Fleet
from ztui.ui.noderef import NodeRef

if TYPE_CHECKING:
    from ztui.backend.attach import AttachContext, AttachPlan, AttachRequest, DetachDone
    from ztui.backend.devices import DetachPlan


class AttachReady(Message):
    """The guest's facts are read: the attach dialog can open."""

    def __init__(self, context: AttachContext) -> None:
        super().__init__()
        self.context = context


class AttachEnded(Message):
    """A line about an attach: its outcome (`ok` when proven), or what could not be written beside it."""

    def __init__(self, text: str, ok: bool) -> None:
        super().__init__()
        self.text = text
        self.ok = ok


class DetachEnded(Message):
    """A detach of the device at `ref` ended."""

    def __init__(self, ref: NodeRef, done: DetachDone) -> None:
        super().__init__()
        self.ref = ref
        self.done = done


class XmlRead(Message):
    """A guest's domain XML, to show."""

    def __init__(self, title: str, xml: str) -> None:
        super().__init__()
        self.title = title
        self.xml = xml


class Hotplug:
    """Starts the hotplug workers on the app."""

    def __init__(self, app: App[int], backend: HostBackend, fleet: Fleet) -> None:
        self._app = app
        self._backend = backend
        self._fleet = fleet

    def read_for_attach(self, uri: str, name: str) -> None:
        """Read the guest's facts (live and persistent XML, its neighbours) off the UI thread."""
        self._app.run_worker(lambda: self._read(uri, name), thread=True, group="hotplug", exit_on_error=False,
                             description="reading the guest for attach")

    def attach(self, uri: str, request: AttachRequest, plan: AttachPlan) -> None:
        """The attach in its frame (guest lock, journal, audit); refused before any change when the guest is
        busy or the state directory cannot be written."""
        self._app.run_worker(lambda: self._attach(uri, request, plan), thread=True, group="hotplug",
                             exit_on_error=False, description="attach")

    def detach(self, ref: NodeRef, plan: DetachPlan, timeout: float) -> None:
        """The detach in its frame (see `attach`)."""
        self._app.run_worker(lambda: self._app.post_message(DetachEnded(ref, self._backend.detach(ref.uri, plan,
                                                                                                  timeout))),
                             thread=True, group="hotplug", exit_on_error=False, description="detach")

    def show_domain_xml(self, uri: str, name: str) -> None:
        """`x` on a guest: its whole domain XML as libvirt has it now (live when running)."""
        self._app.run_worker(lambda: self._xml(uri, name), thread=True, group="read", exit_on_error=False,
                             description="reading the domain XML")

    def _read(self, uri: str, name: str) -> None:
        try:
            context = self._backend.attach_context(uri, name, self._fleet.snapshot(uri))
        except HostError as exc:  # the guest or the host went away
            self._app.call_from_thread(self._app.notify, f"cannot attach to {name}: {exc}", severity="error")
            return
        self._app.post_message(AttachReady(context))

    def _attach(self, uri: str, request: AttachRequest, plan: AttachPlan) -> None:
        done = self._backend.attach(uri, request, plan)
        self._app.post_message(AttachEnded(done.message, done.ok))
        for problem in done.problems:  # the change stands; what could not be written is said beside it
            self._app.post_message(AttachEnded(problem, False))

    def _xml(self, uri: str, name: str) -> None:
        try:
            xml = self._backend.domain_xml(uri, name)
        except HostError as exc:
            self._app.call_from_thread(self._app.notify, f"cannot read the XML of {name}: {exc}", severity="error")
            return
        self._app.post_message(XmlRead(f"{name}: domain XML", xml.strip()))
