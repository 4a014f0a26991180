"""Where a guest runs after a migration fault, read from both hosts and decided by libvirt's own rules.

A migration that ends in an error (a daemon killed, a connection lost) can leave the guest in any of
these places: still running on the source; paused on the source with its data already sent; running on
the destination while the source holds a paused copy; as a paused incoming copy on the destination; or,
after post-copy began, split between the two. Asking one host "is it active?" answers none of this: a
paused copy is active too. So both hosts are asked for state *and reason*, and the pair is read the way
libvirt's migration protocol (Begin → Prepare → Perform → Finish → Confirm) assigns the guest:

- The destination's CPUs are started only in Finish, after the source's Perform sent everything. So a
  guest *running* on the destination (reason other than post-copy) owns the guest; a source copy paused
  for the migration is what Confirm would have killed, and is destroyed.
- A destination copy that is paused as an incoming migration (reason starting-up or migration) never ran;
  while the source holds the guest (running, or paused for the migration), that copy is destroyed and the
  source is resumed — what libvirt does itself when Finish fails, and what its recovery after a daemon
  restart leaves to "a third party" when the source stopped in phase perform3_done.
- Post-copy (reasons post-copy / post-copy failed): the CPU state is on the destination and part of the
  memory still on the source; neither copy may be destroyed or resumed. Recovery is libvirt's
  `virsh migrate --postcopy --postcopy-resume`; ztui only reports.
- Both running: the source was resumed although the destination had started (libvirt documents this for
  a Finish whose answer was lost). The destination owns the guest by the rule above; the source copy is
  *paused* (reversible, and it stops two guests writing one disk), never destroyed, and the outcome is
  reported as unknown for a person to confirm.
- A host that does not answer is "unreachable", never "absent": a guest may run there. Any verdict that
  depends on it is uncertain (exit 3), and nothing is resumed that could then run twice.

`resolve` is pure (states in, verdict out) so that every combination is tested without a lab; `locate`
reads one host (re-connecting, bounded) and `Fix` names what `migrate_run` carries out.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from enum import StrEnum

import libvirt

from ztui.libvirt.connection import ConnectError, libvirt_reason, open_connection
from ztui.model import GuestState
from ztui.ops.migrate.report import DEFINED_SHUT_OFF

RECONNECT_INTERVAL = 0.5


class Presence(StrEnum):
    ACTIVE = "active"  # a running or paused copy is there
    ABSENT = "absent"  # the host answered: no active copy of the guest
    UNREACHABLE = "unreachable"  # the host did not answer: anything may be there


_RUNNING_REASONS = {
    libvirt.VIR_DOMAIN_RUNNING_MIGRATED: "migrated",
    libvirt.VIR_DOMAIN_RUNNING_MIGRATION_CANCELED: "migration cancelled",
    libvirt.VIR_DOMAIN_RUNNING_POSTCOPY: "post-copy",
    libvirt.VIR_DOMAIN_RUNNING_UNPAUSED: "resumed",
    libvirt.VIR_DOMAIN_RUNNING_BOOTED: "booted",
}
_PAUSED_REASONS = {
    libvirt.VIR_DOMAIN_PAUSED_MIGRATION: "migrating",
    libvirt.VIR_DOMAIN_PAUSED_STARTING_UP: "incoming migration",
    libvirt.VIR_DOMAIN_PAUSED_POSTCOPY: "post-copy",
    libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED: "post-copy failed",
    libvirt.VIR_DOMAIN_PAUSED_USER: "by a user",
    libvirt.VIR_DOMAIN_PAUSED_IOERROR: "I/O error",
    libvirt.VIR_DOMAIN_PAUSED_UNKNOWN: "unknown reason",
}
_POSTCOPY_FAILED_RUNNING = getattr(libvirt, "VIR_DOMAIN_RUNNING_POSTCOPY_FAILED", 11)


@dataclass(frozen=True)
class Copy:
    """The guest as one host sees it: there or not (or no answer), and libvirt's state and reason."""

    uri: str
    presence: Presence
    state: int = 0  # virDomainState
    reason: int = 0  # its reason
    error: str = ""  # why the host did not answer
    persistent: bool = False  # the host keeps a definition of the guest (shut off, when ABSENT)

    @property
    def paused(self) -> bool:
        return self.presence is Presence.ACTIVE and self.state == libvirt.VIR_DOMAIN_PAUSED

    @property
    def running(self) -> bool:
        """Active and not paused: its CPUs run (or ran until a crash it was kept for)."""
        return self.presence is Presence.ACTIVE and self.state != libvirt.VIR_DOMAIN_PAUSED

    @property
    def postcopy(self) -> bool:
        """In or after a post-copy phase: its memory is split between the hosts."""
        if self.presence is not Presence.ACTIVE:
            return False
        if self.paused:
            return self.reason in (libvirt.VIR_DOMAIN_PAUSED_POSTCOPY, libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED)
        return self.reason in (libvirt.VIR_DOMAIN_RUNNING_POSTCOPY, _POSTCOPY_FAILED_RUNNING)

    @property
    def paused_for_migration(self) -> bool:
        """Paused by the migration itself (outgoing, or incoming that never ran)."""
        return self.paused and self.reason in (libvirt.VIR_DOMAIN_PAUSED_MIGRATION,
                                               libvirt.VIR_DOMAIN_PAUSED_STARTING_UP)

    @property
    def state_text(self) -> str:
        """`running`, `paused`, ... — the word the rest of ztui uses ('' when not active)."""
        if self.presence is not Presence.ACTIVE:
            return ""
        return GuestState.from_libvirt(self.state).value

    @property
    def defined_only(self) -> bool:
        """No copy runs here, but the host keeps the guest's definition: a `virsh start` starts it here."""
        return self.presence is Presence.ABSENT and self.persistent

    def describe(self) -> str:
        """For people: `running (migrated)`, `paused (migrating)`, `defined, shut off`, `absent`,
        `unreachable: <why>`."""
        if self.presence is Presence.UNREACHABLE:
            return f"unreachable: {self.error}" if self.error else "unreachable"
        if self.presence is Presence.ABSENT:
            return DEFINED_SHUT_OFF if self.persistent else "absent"
        names = _PAUSED_REASONS if self.paused else _RUNNING_REASONS
        reason = names.get(self.reason, f"reason {self.reason}")
        return f"{self.state_text} ({reason})"

    def to_json(self) -> dict[str, object]:
        return {"uri": self.uri, "presence": self.presence.value, "state": self.state_text,
                "reason": self.reason, "text": self.describe()}


class Owner(StrEnum):
    SOURCE = "source"
    DESTINATION = "destination"
    NEITHER = "neither"  # both hosts answered: no copy anywhere
    UNKNOWN = "unknown"  # a host did not answer and the other's copy does not decide it


class Fix(StrEnum):
    """A change that makes the pair consistent again, each one safe only in the verdict that names it."""

    DESTROY_SOURCE = "destroy-source"  # the stale paused source copy (what Confirm does)
    DESTROY_DESTINATION = "destroy-destination"  # the incoming copy that never ran
    RESUME_SOURCE = "resume-source"  # the source, paused by the migration, owns the guest again
    PAUSE_SOURCE = "pause-source"  # both ran: stop the source copy writing, keep it for a person


@dataclass(frozen=True)
class Verdict:
    owner: Owner
    fixes: tuple[Fix, ...]
    why: str  # libvirt's rule that decided, for the report
    certain: bool  # False: a host did not answer or a person must confirm → exit 3


def resolve(src: Copy, dst: Copy) -> Verdict:
    """Who owns the guest after a migration, and what (if anything) makes the pair consistent; see module."""
    if src.postcopy or dst.postcopy:
        if src.presence is Presence.ABSENT and dst.running:
            return Verdict(Owner.DESTINATION, (), "post-copy completed: the source copy is gone", True)
        return Verdict(Owner.DESTINATION, (), "post-copy began: the guest's CPU state is on the destination and "
                       "part of its memory still on the source; neither copy may be destroyed or resumed — "
                       "recover with virsh migrate --postcopy --postcopy-resume", False)
    unreachable = [c for c in (src, dst) if c.presence is Presence.UNREACHABLE]
    if len(unreachable) == 2:
        return Verdict(Owner.UNKNOWN, (), "neither host answers", False)
    if src.presence is Presence.UNREACHABLE:
        if dst.running:
            return Verdict(Owner.DESTINATION, (), "the destination runs the guest (its CPUs start only after the "
                           "source sent everything); the source does not answer and may hold a paused copy",
                           False)
        return Verdict(Owner.UNKNOWN, (), "the source does not answer and the destination does not run the guest",
                       False)
    if dst.presence is Presence.UNREACHABLE:
        if src.running:
            return Verdict(Owner.SOURCE, (), "the source runs the guest; the destination does not answer and may "
                           "hold a copy", False)
        return Verdict(Owner.UNKNOWN, (), "the destination does not answer and the source does not run the guest "
                       "(it may have handed it over)", False)
    if src.running and dst.running:
        return Verdict(Owner.DESTINATION, (Fix.PAUSE_SOURCE,), "both hosts ran the guest: the destination owns it "
                       "once it has started (libvirt's Finish); the source copy was paused, check and destroy it",
                       False)
    if dst.running:
        if src.presence is Presence.ABSENT:
            return Verdict(Owner.DESTINATION, (), "the guest runs on the destination", True)
        if src.paused_for_migration or src.reason == libvirt.VIR_DOMAIN_PAUSED_UNKNOWN:
            return Verdict(Owner.DESTINATION, (Fix.DESTROY_SOURCE,), "the destination runs the guest; the source "
                           "copy paused by the migration is stale (libvirt's Confirm step would have destroyed it)",
                           True)
        return Verdict(Owner.DESTINATION, (), "the destination runs the guest; the source holds a copy paused "
                       f"({src.describe()}) that ztui does not touch", False)
    if src.running:
        if dst.paused_for_migration:
            return Verdict(Owner.SOURCE, (Fix.DESTROY_DESTINATION,), "the source runs the guest; the destination's "
                           "incoming copy never ran", True)
        if dst.presence is Presence.ABSENT:
            return Verdict(Owner.SOURCE, (), "the guest runs on the source", True)
        return Verdict(Owner.SOURCE, (), f"the source runs the guest; the destination holds a copy "
                       f"({dst.describe()}) that ztui does not touch", False)
    if src.paused:
        fixes = (Fix.DESTROY_DESTINATION,) if dst.paused_for_migration else ()
        if src.paused_for_migration and (dst.presence is Presence.ABSENT or dst.paused_for_migration):
            return Verdict(Owner.SOURCE, (*fixes, Fix.RESUME_SOURCE), "the migration did not finish: the source, "
                           "paused by it, owns the guest and is resumed", True)
        if dst.presence is Presence.ABSENT:
            return Verdict(Owner.SOURCE, (), f"the guest is on the source, {src.describe()}", True)
        return Verdict(Owner.UNKNOWN, (), f"both hosts hold a paused copy ({src.describe()} / {dst.describe()})",
                       False)
    # the source has no copy
    if dst.paused:
        return Verdict(Owner.DESTINATION, (), f"the only copy is on the destination, {dst.describe()}", False)
    return Verdict(Owner.NEITHER, (), "neither host has the guest", True)


def look(conn: libvirt.virConnect | None, uri: str, uuid: str) -> Copy:
    """The guest on one host through `conn` (UNREACHABLE when it fails for any reason but "no such guest")."""
    if conn is None:
        return Copy(uri, Presence.UNREACHABLE, error="not connected")
    try:
        dom = conn.lookupByUUIDString(uuid)
        if not dom.isActive():
            return Copy(uri, Presence.ABSENT, persistent=True)  # an inactive domain exists only as a definition
        state, reason = dom.state()
        return Copy(uri, Presence.ACTIVE, int(state), int(reason), persistent=bool(dom.isPersistent()))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return Copy(uri, Presence.ABSENT)
        return Copy(uri, Presence.UNREACHABLE, error=libvirt_reason(exc))


class ReopeningLink:
    """A connection to one host that is opened again when it broke (a daemon killed and restarted)."""

    def __init__(self, uri: str, conn: libvirt.virConnect | None) -> None:
        self.uri = uri
        self.conn = conn
        self._opened: list[libvirt.virConnect] = []
        self.last_error = ""

    def alive(self) -> bool:
        if self.conn is None:
            return False
        try:
            return bool(self.conn.isAlive())
        except libvirt.libvirtError:
            return False

    def reopen(self) -> bool:
        try:
            conn = open_connection(self.uri)
        except ConnectError as exc:
            self.last_error = str(exc)
            return False
        self.conn = conn
        self._opened.append(conn)
        return True

    def look(self, uuid: str) -> Copy:
        """The guest here; a broken connection is opened again once before the host counts as unreachable."""
        copy = look(self.conn if self.alive() else None, self.uri, uuid)
        if copy.presence is Presence.UNREACHABLE and self.reopen():
            copy = look(self.conn, self.uri, uuid)
        if copy.presence is Presence.UNREACHABLE and self.last_error and copy.error in ("", "not connected"):
            copy = Copy(self.uri, Presence.UNREACHABLE, error=self.last_error)  # why the new connection failed
        return copy

    def close(self) -> None:
        """Close the connections this link opened (not the one it was given)."""
        for conn in self._opened:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
        self._opened.clear()


def locate(src: ReopeningLink, dst: ReopeningLink, uuid: str, timeout: float) -> tuple[Copy, Copy]:
    """Both copies; a host that does not answer is asked again until `timeout` (a restarting daemon)."""
    deadline = time.monotonic() + timeout
    while True:
        pair = src.look(uuid), dst.look(uuid)
        if all(c.presence is not Presence.UNREACHABLE for c in pair):
            return pair
        if time.monotonic() + RECONNECT_INTERVAL > deadline:
            return pair
        time.sleep(RECONNECT_INTERVAL)
