"""One host's device inventory: its devices indexed (`ztui.host.index.DeviceIndex`), with what is worked out
from the whole of it once and then asked per device: the host's own use of each device (`ztui.host.hostuse`)
and the identity of each volume (`ztui.host.identity`). Pure: no libvirt, no pyudev, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ztui.host.hostuse import NO_USE, HostUse, host_uses
from ztui.host.identity import identities
from ztui.host.index import DeviceIndex, FileInfo, VolumeInfo, merge_devices
from ztui.host.system import NOTHING, SystemUse
from ztui.model import HostDevice, HostVolume, NetworkInfo, VolumeIdentity


@dataclass(frozen=True)
class Inventory(DeviceIndex):
    """Every known device of one host plus files, networks and volumes (`DeviceIndex`), and the answers
    worked out from all of them on the first question, once."""

    _host_uses: list[dict[str, HostUse]] = field(default_factory=list, init=False, repr=False, compare=False)
    _identities: list[tuple[dict[str, VolumeIdentity], dict[VolumeIdentity, HostVolume]]] = field(
        default_factory=list, init=False, repr=False, compare=False)

    def host_use(self, dev: HostDevice) -> HostUse:
        """How the host itself uses this device (mounted, swap, LVM, multipath, dump or IPL device, an
        interface that is up), empty when it does not: the one answer to "does the host hold it?" for every
        report, suggestion, check and printed command (`ztui.host.hostuse`). Worked out for the whole
        inventory on the first question, once."""
        if not self._host_uses:
            self._host_uses.append(host_uses(self))
        return self._host_uses[0].get(dev.key, NO_USE)

    def identity(self, key: str) -> VolumeIdentity | None:
        """The volume the device (or host object) of this key is, by the identity its storage gives it on
        every host (a DASD's uid, a LUN's WWID, …; `ztui.host.identity`): the one answer to "is this the same
        volume as that one over there?". Worked out for the whole inventory on the first question, once."""
        return self._identity_table()[0].get(key)

    @property
    def host_volumes(self) -> tuple[HostVolume, ...]:
        """Every volume of the host that has an identity, with the device that stands for it here."""
        return tuple(self._identity_table()[1].values())

    def host_volume(self, identity: VolumeIdentity) -> HostVolume | None:
        """This host's view of the volume of that identity (None when the host does not see it)."""
        return self._identity_table()[1].get(identity)

    def _identity_table(self) -> tuple[dict[str, VolumeIdentity], dict[VolumeIdentity, HostVolume]]:
        if not self._identities:
            by_key, volumes = identities(self)
            self._identities.append((by_key, {v.identity: v for v in volumes}))
        return self._identities[0]


def build_inventory(udev: Iterable[HostDevice] = (), libvirt: Iterable[HostDevice] = (), *,
                    local: bool | None = None, files: Iterable[FileInfo] = (),
                    networks: Iterable[NetworkInfo] | None = None, volumes: Iterable[VolumeInfo] = (),
                    uri: str | None = None, same_machine: bool = False, system: SystemUse = NOTHING) -> Inventory:
    """Merge udev and libvirt records into one inventory (pure; see `ztui.host.scan.scan_host` for I/O)."""
    udev_t = tuple(udev)
    lv_t = tuple(libvirt)
    return Inventory(
        devices=merge_devices(udev_t, lv_t),
        local=bool(udev_t) if local is None else local,
        has_libvirt=bool(lv_t),
        files=tuple(files),
        networks=tuple(networks or ()),
        volumes=tuple(volumes),
        has_networks=networks is not None,
        uri=uri,
        same_machine=same_machine,
        system=system,
    )

