"""Shell completion on the lab, in bash: `ztui att` → `attach`, the guests of the lab's hosts (by `-c` and by
`--lab`, which never starts a lab for a completion), a guest's devices, and the simulated z16's DASD bus-IDs
from its host facts."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab
from tests.shell_completion import bash_complete

pytestmark = pytest.mark.lab


def test_commands_and_guest_names_on_the_lab(lab: Lab, tmp_path: Path) -> None:
    assert bash_complete(tmp_path, "ztui att") == ["attach"]
    uri = lab.uris["zlab-a"]
    conn = libvirt.openReadOnly(uri)
    try:
        running = sorted(d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        every = sorted(d.name() for d in conn.listAllDomains(0))
    finally:
        conn.close()
    assert sorted(bash_complete(tmp_path, f"ztui -c {uri} attach ")) == every
    assert sorted(bash_complete(tmp_path, f"ztui -c {uri} shutdown ")) == running
    device = bash_complete(tmp_path, f"ztui -c {uri} detach {running[0]} vd")
    assert device and all(d.startswith("vd") for d in device)


def test_lab_option_reads_the_running_lab(lab: Lab, tmp_path: Path) -> None:
    env = {"ZTUI_LAB_DIR": str(lab.base)}
    offered = bash_complete(tmp_path, "ztui --lab tree ", env=env)
    for uri in [*lab.uris.values(), lab.z_uri]:
        conn = libvirt.openReadOnly(uri)
        try:
            assert {d.name() for d in conn.listAllDomains(0)} <= set(offered)
        finally:
            conn.close()
    nothing = bash_complete(tmp_path, "ztui --lab tree ", env={"ZTUI_LAB_DIR": str(tmp_path / "no-lab")})
    assert nothing == []
    assert not (tmp_path / "no-lab").exists()  # no lab was started for it


def test_dasd_bus_ids_of_the_simulated_z16(lab: Lab, tmp_path: Path) -> None:
    if not lab.z_uri:
        pytest.skip("the lab runs without its simulated z16")
    from ztui.facts import CcwRole, ccw_role, is_dasd_alias
    from ztui.host.facts_source import facts_source_for
    from ztui.model import HostDeviceKind

    dasds = sorted(d.id for d in facts_source_for(lab.z_uri).devices()
                   if d.kind is HostDeviceKind.CCW and ccw_role(d) is CcwRole.DASD and not is_dasd_alias(d))
    assert dasds
    assert sorted(bash_complete(tmp_path, f"ztui -c {lab.z_uri} attach zlnx01 --dasd ")) == dasds
    assert sorted(bash_complete(tmp_path, f"ztui -c {lab.z_uri} prepare vfio-ccw 0.0.5c")) == [
        d for d in dasds if d.startswith("0.0.5c")]
