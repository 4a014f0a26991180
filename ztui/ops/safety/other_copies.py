"""One guest, one running copy: before a guest starts (or resumes) on a host, every other host ztui knows is
asked whether the same guest — the same UUID — runs or is paused there.

After a plain live migration the source keeps the guest's shut-off definition; on IBM Z, where LPARs share
their DASD and LUNs, starting it there runs a second QEMU on the same volumes while the first still
writes them. libvirt stops that only with a lock manager (`ztui.ops.safety.lock_manager`). So `start`, `resume`
and the TUI's `s` refuse, naming the host where the guest runs, unless the user insists (`--force`, a
confirmation naming both hosts and the devices both copies would use); the migration preflight asks the
same of every host but the two it moves between.

`ztui.ops.lifecycle.start_one_copy` is the one way ztui starts or resumes a guest: the check and the start
happen under one lock that spans every host (`EVERY_HOST`), so two ztui processes sharing a state directory
cannot both find the guest stopped elsewhere and both start it; a confirmation the user gave is held against
the hosts as they answer then, not as they answered when the question was asked. What no lock of ztui's can
cover — `virsh start`, another machine's ztui, a host's autostart between the check and the start — only a
libvirt lock manager refuses.

A host that does not answer is not "not running it": the check says which hosts could not be asked, and
a caller treats that like a copy found (refuse, or ask). Each host is asked in a thread of its own, all at
once, and the answers are waited for until one deadline, the answer time away (`answer_timeout`, what every
command gives a host): hosts that do not answer cost that long together, never that long each.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import libvirt

from ztui.bounded import answers_within
from ztui.libvirt.connection import ConnectError, answer_timeout, libvirt_reason, open_connection
from ztui.libvirt.link import HostLink
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.domain import parse_domain
from ztui.model import DeviceKind, Guest, GuestDevice, GuestState
from ztui.ops.safety.known_hosts import KnownHost, host_named, known_hosts
from ztui.ops.safety.lock_manager import lock_advice, lock_state

_HERE = "\0here"  # the key of the question that recognises the copy here (no URI looks like it)
EVERY_HOST = "*"  # the guest lock's host for "this guest, wherever it starts": held from the check to the start

#: the devices two copies of a guest would write at once: the disks (when not read-only) and LUNs
_WRITTEN = frozenset({DeviceKind.DISK, DeviceKind.LUN, DeviceKind.FLOPPY, DeviceKind.HOSTDEV_SCSI})


@dataclass(frozen=True)
class OtherCopy:
    """The guest on another host: its state there, or why the host could not be asked."""

    host: KnownHost
    name: str  # the host as people name it (the lab's name, libvirt's hostname, else the URI)
    state: GuestState | None = None  # running, paused, …; None when the host did not answer
    guest: Guest | None = None  # that copy as it runs (its live XML), when it could be read
    error: str = ""
    hostname: str = ""  # libvirt's hostname of that host
    domain_id: int = -1  # the copy's domain id there (-1: not active)

    @property
    def answered(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class CopyCheck:
    """What every other known host said about one guest."""

    guest: Guest  # the copy to be started, as this host defines it
    here: str  # this host's name
    running: tuple[OtherCopy, ...] = ()  # active (running or paused) copies elsewhere
    unanswered: tuple[OtherCopy, ...] = ()  # hosts that could not be asked

    @property
    def clear(self) -> bool:
        """No other copy runs and every known host answered."""
        return not self.running and not self.unanswered

    @property
    def shared(self) -> tuple[str, ...]:
        """The devices this copy and the running ones would both write."""
        found: dict[str, None] = {}
        for copy in self.running:
            found.update(dict.fromkeys(shared_devices(self.guest, copy.guest)))
        return tuple(found)

    def within(self, accepted: CopyCheck | None) -> bool:
        """Whether a user who confirmed `accepted` agreed to this too: every host that runs the guest now was
        named as running it then, and every host silent now was named then."""
        if accepted is None:
            return False
        running = {c.host.uri for c in accepted.running}
        named = running | {c.host.uri for c in accepted.unanswered}
        return all(c.host.uri in running for c in self.running) and all(c.host.uri in named
                                                                        for c in self.unanswered)

    def reason(self) -> str:
        """One line: where the guest runs (or who could not be asked) and what both copies would write."""
        parts = []
        if self.running:
            where = ", ".join(f"{c.name} ({c.state.value if c.state else '?'})" for c in self.running)
            parts.append(f"{self.guest.name} already runs on {where}")
            if self.shared:
                parts.append(f"a second copy on {self.here} would write the same devices: {', '.join(self.shared)}")
        if self.unanswered:
            parts.append("ztui could not ask " + ", ".join(f"{c.name} ({c.error})" for c in self.unanswered)
                         + f" whether {self.guest.name} runs there")
        return "; ".join(parts)


def check_before_start(link: HostLink, dom: libvirt.virDomain, session: Sequence[str] = (),
                       conns: Mapping[str, libvirt.virConnect] | None = None) -> CopyCheck:
    """Ask every host ztui knows (`session` with the link's host, the lab, saved hosts) about the guest `dom`
    of `link` before it starts or resumes there; reads its definition (what would start) for the devices it
    uses."""
    hosts = known_hosts([link.uri, *session])
    here = host_named(hosts, link.uri)
    guest = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    return look_elsewhere(guest, here, hosts, here_name=here.name or _hostname(link.conn) or link.uri,
                          conns={**(conns or {}), link.uri: link.conn})


def shared_devices(mine: Guest, theirs: Guest | None) -> tuple[str, ...]:
    """`vda /dev/disk/by-path/ccw-0.0.5c05`: each writable disk or LUN of `mine` whose source the other copy
    uses too (all of them when the other copy's devices are not known). The other copy is the same guest: a
    disk it has under the same target at another path is the same disk under that host's name (another LPAR
    numbers the same DASD otherwise): `vda /dev/disk/by-path/ccw-0.0.5c05 (vda there: …ccw-0.0.6c05)`."""
    if theirs is None:
        return tuple(f"{d.display_name} {d.source}" for d in mine.devices if _written(d))
    sources = {d.source for d in theirs.devices}
    targets = {d.target: d.source for d in theirs.devices if d.target and d.kind in _WRITTEN}
    found = []
    for device in (d for d in mine.devices if _written(d)):
        if device.source in sources:
            found.append(f"{device.display_name} {device.source}")
        elif device.target in targets:
            found.append(f"{device.display_name} {device.source} ({device.target} there: {targets[device.target]})")
    return tuple(found)


def _written(device: GuestDevice) -> bool:
    return device.kind in _WRITTEN and bool(device.source) and not device.detail_flag("readonly")


def look_elsewhere(guest: Guest, here: KnownHost, hosts: Sequence[KnownHost], *, here_name: str = "",
                   conns: Mapping[str, libvirt.virConnect] | None = None, skip: Sequence[str] = (),
                   timeout: float | None = None) -> CopyCheck:
    """Ask every host but `here` (and those `skip` names) whether `guest` (by UUID) runs there.

    `conns` are open connections to reuse (the TUI's sessions); other hosts get a read-only connection of
    their own, closed afterwards. The copy `here` is never counted, even when another URI reaches the same
    daemon: a host whose hostname is here's and whose copy has here's domain id is here."""
    timeout = answer_timeout() if timeout is None else timeout
    others = [h for h in hosts if not here.reaches(h.uri) and not any(h.reaches(s) for s in skip)]
    if not others:
        return CopyCheck(guest, here_name or here.label)
    questions: dict[str, Callable[[], OtherCopy | tuple[str, int]]] = {
        h.uri: partial(_ask, h, guest.uuid, conns.get(h.uri) if conns else None) for h in others}
    questions[_HERE] = partial(_identity, conns.get(here.uri) if conns else None, here.uri, guest.uuid)
    answers = answers_within(questions, timeout)  # here is recognised within the same deadline
    identity = answers.get(_HERE)
    if not isinstance(identity, tuple):  # unknown: every active copy elsewhere counts
        identity = ("", -1)
    running, unanswered = [], []
    for host in others:
        answer = answers.get(host.uri)
        copy = answer if isinstance(answer, OtherCopy) else \
            OtherCopy(host, host.label, error=f"no answer within {timeout:g} s")
        if not copy.answered:
            unanswered.append(copy)
        elif copy.state is not None and copy.state.is_active and (copy.hostname, copy.domain_id) != identity:
            running.append(copy)
    return CopyCheck(guest, here_name or here.label, tuple(running), tuple(unanswered))


def _identity(conn: libvirt.virConnect | None, uri: str, uuid: str) -> tuple[str, int]:
    """(hostname, domain id) of the copy here, to recognise it behind another URI; ('', -1) unknown."""
    owned = None
    try:
        if conn is None:
            conn = owned = open_connection(uri, readonly=True)
        dom = conn.lookupByUUIDString(uuid)
        return str(conn.getHostname()), int(dom.ID()) if dom.isActive() else -1
    except (ConnectError, libvirt.libvirtError):
        return "", -1
    finally:
        if owned is not None:
            with contextlib.suppress(libvirt.libvirtError):
                owned.close()


def _ask(host: KnownHost, uuid: str, conn: libvirt.virConnect | None) -> OtherCopy:
    if host.unreadable:
        return OtherCopy(host, host.label, error=host.unreadable)
    owned = None
    try:
        if conn is None:
            conn = owned = open_connection(host.uri, readonly=True)
        hostname = _hostname(conn)
        name = host.name or hostname or host.uri
        try:
            dom = conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return OtherCopy(host, name, hostname=hostname)
            raise
        if not dom.isActive():
            return OtherCopy(host, name, GuestState.SHUTOFF, hostname=hostname)
        state = GuestState.from_libvirt(dom.state()[0])
        try:
            copy: Guest | None = parse_domain(dom.XMLDesc(0), what=f"XML of {uuid} on {name}")
        except (libvirt.libvirtError, XmlError):
            copy = None
        return OtherCopy(host, name, state, copy, hostname=hostname, domain_id=int(dom.ID()))
    except ConnectError as exc:
        return OtherCopy(host, host.label, error=exc.reason)
    except libvirt.libvirtError as exc:
        return OtherCopy(host, host.label, error=libvirt_reason(exc))
    finally:
        if owned is not None:
            with contextlib.suppress(libvirt.libvirtError):
                owned.close()


def _hostname(conn: libvirt.virConnect) -> str:
    try:
        return str(conn.getHostname())
    except libvirt.libvirtError:
        return ""


def lock_notes(check: CopyCheck, here_uri: str) -> dict[str, str]:
    """By host name: what to configure on each host involved (here and where the guest runs) whose libvirt
    would not stop a second copy on shared disks; only when the copies share devices."""
    if not check.running or not check.shared:
        return {}
    hosts = [(check.here, here_uri), *((c.name, c.host.uri) for c in check.running)]
    return {name: note for name, uri in dict.fromkeys(hosts) if (note := lock_advice(name, lock_state(uri)))}
