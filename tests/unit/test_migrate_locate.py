"""Where the guest runs after a migration fault: every pair of copies the lab produced (and the ones it
can) read by libvirt's rules. Each case names the fault that leaves that pair (measured on the lab)."""

from __future__ import annotations

import libvirt
import pytest

from ztui.ops.migrate.locate import Copy, Fix, Owner, Presence, resolve

S, D = "qemu+unix:///a", "qemu+unix:///b"
P, R = libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_RUNNING


def src(presence: Presence = Presence.ACTIVE, state: int = R, reason: int = 1) -> Copy:
    return Copy(S, presence, state, reason, "gone" if presence is Presence.UNREACHABLE else "")


def dst(presence: Presence = Presence.ACTIVE, state: int = R, reason: int = 2) -> Copy:
    return Copy(D, presence, state, reason, "gone" if presence is Presence.UNREACHABLE else "")


ABSENT_S, ABSENT_D = src(Presence.ABSENT), dst(Presence.ABSENT)
GONE_S, GONE_D = src(Presence.UNREACHABLE), dst(Presence.UNREACHABLE)
PAUSED_MIGRATING = src(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_MIGRATION)
INCOMING = dst(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_STARTING_UP)
RUNNING_MIGRATED = dst(state=R, reason=libvirt.VIR_DOMAIN_RUNNING_MIGRATED)
CANCELLED = src(state=R, reason=libvirt.VIR_DOMAIN_RUNNING_MIGRATION_CANCELED)

CASES = [
    # (case, source, destination, owner, fixes, certain)
    ("success", ABSENT_S, RUNNING_MIGRATED, Owner.DESTINATION, (), True),
    ("destination refused / killed in prepare, restarted", src(), INCOMING, Owner.SOURCE,
     (Fix.DESTROY_DESTINATION,), True),
    ("destination killed in finish3 before CPUs ran, restarted", CANCELLED, ABSENT_D, Owner.SOURCE, (), True),
    ("source killed in perform3_done, restarted", PAUSED_MIGRATING, ABSENT_D, Owner.SOURCE,
     (Fix.RESUME_SOURCE,), True),
    ("source paused, incoming copy left", PAUSED_MIGRATING, INCOMING, Owner.SOURCE,
     (Fix.DESTROY_DESTINATION, Fix.RESUME_SOURCE), True),
    ("destination killed after its CPUs ran, restarted", PAUSED_MIGRATING, RUNNING_MIGRATED, Owner.DESTINATION,
     (Fix.DESTROY_SOURCE,), True),
    ("destination killed after its CPUs ran, not back", PAUSED_MIGRATING, GONE_D, Owner.UNKNOWN, (), False),
    ("source killed in confirm3, not back", GONE_S, RUNNING_MIGRATED, Owner.DESTINATION, (), False),
    ("source killed in perform3, not back", GONE_S, ABSENT_D, Owner.UNKNOWN, (), False),
    ("destination killed, not back", CANCELLED, GONE_D, Owner.SOURCE, (), False),
    ("source gone, destination not back either", GONE_S, GONE_D, Owner.UNKNOWN, (), False),
    ("both ran", CANCELLED, RUNNING_MIGRATED, Owner.DESTINATION, (Fix.PAUSE_SOURCE,), False),
    ("guest crashed on both", ABSENT_S, ABSENT_D, Owner.NEITHER, (), True),
    ("paused by a user, never migrated", src(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_USER), ABSENT_D,
     Owner.SOURCE, (), True),
    ("post-copy running", src(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_POSTCOPY),
     dst(reason=libvirt.VIR_DOMAIN_RUNNING_POSTCOPY), Owner.DESTINATION, (), False),
    ("post-copy failed", src(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED),
     dst(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED), Owner.DESTINATION, (), False),
    ("post-copy failed, source not back", GONE_S, dst(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED),
     Owner.DESTINATION, (), False),
    ("post-copy completed", ABSENT_S, dst(reason=libvirt.VIR_DOMAIN_RUNNING_POSTCOPY), Owner.DESTINATION, (),
     True),
    ("only a paused incoming copy", ABSENT_S, INCOMING, Owner.DESTINATION, (), False),
]


@pytest.mark.parametrize(("case", "source", "destination", "owner", "fixes", "certain"), CASES,
                         ids=[c[0] for c in CASES])
def test_resolve(case: str, source: Copy, destination: Copy, owner: Owner, fixes: tuple[Fix, ...],
                 certain: bool) -> None:
    verdict = resolve(source, destination)
    assert (verdict.owner, verdict.fixes, verdict.certain) == (owner, fixes, certain), verdict.why
    assert verdict.why


def test_a_paused_copy_is_never_running_and_a_silent_host_never_absent() -> None:
    assert PAUSED_MIGRATING.paused and not PAUSED_MIGRATING.running
    assert PAUSED_MIGRATING.describe() == "paused (migrating)"
    assert GONE_D.presence is Presence.UNREACHABLE and GONE_D.describe() == "unreachable: gone"
    assert RUNNING_MIGRATED.describe() == "running (migrated)" and ABSENT_S.describe() == "absent"


def test_nothing_is_destroyed_or_resumed_when_a_host_is_silent() -> None:
    """Whatever the answering host holds, a silent peer makes every verdict a report only."""
    answering = [src(), PAUSED_MIGRATING, CANCELLED, ABSENT_S, src(state=P, reason=0)]
    for copy in answering:
        assert resolve(copy, GONE_D).fixes == ()
    for copy in (RUNNING_MIGRATED, INCOMING, ABSENT_D, dst(state=P, reason=0)):
        assert resolve(GONE_S, copy).fixes == ()


def test_post_copy_is_never_destroyed_or_resumed() -> None:
    postcopy = [src(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_POSTCOPY),
                src(state=P, reason=libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED)]
    for source in postcopy:
        for destination in (RUNNING_MIGRATED, INCOMING, ABSENT_D, dst(reason=libvirt.VIR_DOMAIN_RUNNING_POSTCOPY)):
            assert resolve(source, destination).fixes == ()
