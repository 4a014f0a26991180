"""The striker's reading of libvirt's status XML: the migration phase and the guest's state (pure part)."""

from __future__ import annotations

from ztui.lab.strike import _matches, job_phase

STATUS = """<domstatus state='{state}' reason='migration' pid='4711'>
  <taint flag='high-privileges'/>
  <job type='none' async='{job}' phase='{phase}' flags='0x203' asyncStarted='1795952441571'/>
  <domain type='qemu'><name>g</name></domain>
</domstatus>"""


def test_phase_and_state() -> None:
    assert job_phase(STATUS.format(state="paused", job="migration out", phase="perform3_done")) == \
        "perform3_done@paused"
    assert job_phase(STATUS.format(state="running", job="migration in", phase="finish3")) == "finish3@running"


def test_no_migration_job() -> None:
    assert job_phase(STATUS.format(state="running", job="none", phase="none")) == ""
    assert job_phase("<domstatus state='running'><domain/></domstatus>") == ""
    assert job_phase(STATUS.format(state="running", job="snapshot", phase="none")) == ""


def test_a_phase_matches_with_or_without_the_state() -> None:
    assert _matches("finish3@paused", ("finish3",)) and _matches("finish3@running", ("finish3@running",))
    assert not _matches("finish3@paused", ("finish3@running",)) and not _matches("prepare@paused", ("finish3",))
