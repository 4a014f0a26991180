"""Backing chains: for each guest device, what it is on the host, step by step down to the hardware.

Pure functions over the model and an `Inventory` (no libvirt, no udev, no file system): a guest device
plus the inventory gives a tuple of `BackingStep`s, from the guest's view downwards, e.g. a disk on
`/dev/disk/by-path/ccw-0.0.5c3f` → block `/dev/dasda` → DASD `0.0.5c3f` → subchannel `0.0.0010`. A
step that cannot be followed (image gone, DASD offline, mdev not started) ends the chain with a warning on
the step instead of an error: the administrator sees where the chain breaks.

Resolving is per device and per guest, so after an event one guest is re-resolved alone
(`resolve_guest`); the inventory's indexes make each lookup a dict access.

A missing device only warns when the inventory could have known it: with udev (local host) or libvirt's
node devices. With neither (saved XML read without a connection) chains stop quietly at what the XML says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace

from ztui.facts import (
    ApMatrix,
    CcwRole,
    ChpState,
    F,
    FactSource,
    alias_problem,
    ap_card,
    ap_card_of,
    ap_queue_state,
    card_kind,
    carried_busid,
    ccw_role,
    chp_state,
    chpid_id,
    dasd_problem,
    dasd_uid,
    is_dasd_alias,
    is_linux_bridge,
    is_online,
    is_ovs_interface,
    is_virtual_interface,
    kernel_flag,
    mdev_ap_matrix,
    mdev_control_domains,
    mdev_guest_matrix,
    subchannel_paths,
    wwn,
    zfcp_path,
)
from ztui.host.index import FileInfo, FileKind, VolumeInfo
from ztui.host.inventory import Inventory
from ztui.host.usage import with_sharing_warnings
from ztui.model import (
    BackingStep,
    DeviceCategory,
    DeviceKind,
    Guest,
    GuestDevice,
    Host,
    HostDevice,
    HostDeviceKind,
    StepKind,
    device_key,
)
from ztui.zsysfs import CcwDevice, CcwGroup, FcHost

__all__ = [
    "chpid_id",
    "fcp_lun_from_linux",
    "paths_to_examine",
    "resolve_device",
    "resolve_guest",
    "resolve_host",
]

_BY_PATH_CCW = re.compile(r"/dev/disk/by-path/ccw-(\d+\.\d+\.[0-9a-fA-F]{4})(?:-part(\d+))?$")
_SCSI_SOURCE = re.compile(r"^scsi_host(\d+):(\d+):(\d+):(\d+)$")
_NVME_SOURCE = re.compile(r"^nvme (\S+)")
_VIRTUAL_TAPS = ("vnet", "tap", "macvtap", "vif", "veth")
_NETWORK_KINDS = frozenset(k for k in DeviceKind if k.category is DeviceCategory.NETWORK)
_KINDS_WITH_CHAINS = _NETWORK_KINDS | {
    DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.FLOPPY, DeviceKind.LUN, DeviceKind.FILESYSTEM,
    DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_VFIO_AP, DeviceKind.MDEV_OTHER, DeviceKind.HOSTDEV_PCI,
    DeviceKind.HOSTDEV_SCSI, DeviceKind.HOSTDEV_SCSI_HOST}


@dataclass
class _Chain:
    """The steps collected so far; `seen` stops loops in damaged data (a device its own parent)."""

    inv: Inventory
    steps: list[BackingStep] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    @property
    def knows(self) -> bool:
        """True when a device missing from the inventory is really missing on the host."""
        return self.inv.local or self.inv.has_libvirt

    def add(self, kind: StepKind, ident: str, name: str = "", *, key: str = "", warning: str | None = None,
            exclusive: bool = False, level: int = 0, host_use: str = "") -> bool:
        """Append a step; False (and nothing appended) when this device was already in the chain."""
        k = key or device_key(kind, ident)
        if k in self.seen:
            return False
        self.seen.add(k)
        self.steps.append(BackingStep(kind=kind, id=ident, name=name, warning=warning or None, device_key=k,
                                      exclusive=exclusive, level=level, host_use=host_use))
        return True

    def add_device(self, kind: StepKind, dev: HostDevice, name: str = "", *, warning: str | None = None,
                   exclusive: bool = False, level: int = 0) -> bool:
        """A step for a host device, with the host's own use of it (`Inventory.host_use`) other than through
        a step above it: shown on every step, and a warning where the guest takes the device for itself."""
        use = self.inv.host_use(dev)
        if use:
            use = use.besides(self.seen)  # a multipath path or LVM volume reached through its holder above
        if use and exclusive:
            warning = f"{warning}; the host itself uses it: {use.text}" if warning else \
                f"the host itself uses it: {use.text}"
        return self.add(kind, dev.id, name, key=dev.key, warning=warning, exclusive=exclusive, level=level,
                        host_use=use.text if use else "")


_BUILDING = object()


def _shared(chain: _Chain, key: Hashable, build: Callable[[_Chain], None]) -> None:
    """Steps below something many devices share (a file system, a network) are the same for each of them:
    they are built once per inventory and copied into every chain. A chain that already holds one of
    those steps builds them in place instead, so the loop guard sees exactly what it saw before."""
    derived = chain.inv.derived
    steps = derived.get(key)
    if steps is _BUILDING:  # the part leads back into itself (a loop device on its own file system)
        build(chain)
        return
    if steps is None:
        derived[key] = _BUILDING
        alone = _Chain(chain.inv)
        try:
            build(alone)
        finally:
            derived.pop(key, None)
        steps = derived[key] = tuple(alone.steps)
    if chain.seen.isdisjoint(s.device_key for s in steps):
        chain.steps.extend(steps)
        chain.seen.update(s.device_key for s in steps)
    else:
        build(chain)


# --- public API -------------------------------------------------------------------------------------------


def resolve_host(host: Host, inv: Inventory) -> Host:
    """The host with every guest's devices carrying their backing chains, and a warning on each device
    that shares a host device with another running guest without `<shareable/>`."""

    return with_sharing_warnings(replace(host, guests=tuple(resolve_guest(g, inv) for g in host.guests),
                                         volumes=inv.host_volumes))


def resolve_guest(guest: Guest, inv: Inventory) -> Guest:
    """One guest with backing chains (cheap: re-run it for the one guest an event names)."""
    return replace(guest, devices=tuple(d.with_backing(resolve_device(d, inv)) for d in guest.devices))


def resolve_device(device: GuestDevice, inv: Inventory) -> tuple[BackingStep, ...]:
    """The chain from one guest device down to the host hardware; empty for purely virtual devices."""
    kind = device.kind
    if kind not in _KINDS_WITH_CHAINS:
        return ()
    chain = _Chain(inv)
    if kind in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.FLOPPY, DeviceKind.LUN):
        _disk(chain, device)
    elif kind is DeviceKind.FILESYSTEM and device.source.startswith("/"):
        _file(chain, device.source, "", exclusive=False, level=0)
    elif kind in _NETWORK_KINDS:
        _interface(chain, device)
    elif kind in (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_VFIO_AP, DeviceKind.MDEV_OTHER):
        _mdev(chain, device)
    elif kind is DeviceKind.HOSTDEV_PCI:
        _pci_hostdev(chain, device)
    elif kind is DeviceKind.HOSTDEV_SCSI:
        _scsi_hostdev(chain, device)
    elif kind is DeviceKind.HOSTDEV_SCSI_HOST and device.source:
        chain.add(StepKind.VHOST_SCSI, device.source, "vhost-scsi target (WWPN)", exclusive=True)
    return _with_volume(chain.steps, inv)


def _with_volume(steps: list[BackingStep], inv: Inventory) -> tuple[BackingStep, ...]:
    """The chain with the identity of its volume (`Inventory.identity` of its first step that is one) on the
    step of the device that stands for the volume on this host — the DASD, not its block device; a LUN's
    multipath map — or, when that is not in the chain, on that first step."""
    first = next((i for i, step in enumerate(steps) if step.device_key and inv.identity(step.device_key)), None)
    if first is None:
        return tuple(steps)
    identity = inv.identity(steps[first].device_key)
    volume = inv.host_volume(identity) if identity is not None else None
    shown = volume.key if volume is not None else ""
    at = next((i for i in range(first, len(steps)) if steps[i].device_key == shown), first)
    steps[at] = replace(steps[at], volume=identity)
    return tuple(steps)


def paths_to_examine(guest: Guest) -> list[str]:
    """The host paths whose file-system facts (`ztui.host.files.files_info`) the guest's chains use."""
    paths: list[str] = []
    for d in guest.devices:
        if d.kind in _DISK_KINDS and d.source:
            dtype = backing = None  # one pass over the details (`detail` scans them once per key)
            for key, value in d.details:
                if key == "type" and dtype is None:
                    dtype = value
                elif key == "backing" and backing is None:
                    backing = value
            if dtype in ("file", "dir", None):
                paths.append(d.source)
                if backing:
                    paths.append(backing)
        elif d.kind is DeviceKind.FILESYSTEM and d.source.startswith("/"):
            paths.append(d.source)
    return paths


_DISK_KINDS = frozenset((DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.FLOPPY, DeviceKind.LUN))


# --- disks ----------------------------------------------------------------------------------------------


def _disk(chain: _Chain, device: GuestDevice) -> None:
    source = device.source
    if not source:
        return
    writable = device.kind in (DeviceKind.DISK, DeviceKind.LUN) and not device.detail_flag("readonly") \
        and not device.detail_flag("shareable")
    dtype = device.detail("type") or "file"
    if dtype in ("file", "dir"):
        _file(chain, source, device.detail("format"), exclusive=writable, level=0)
        backing = device.detail("backing")
        if backing and backing.startswith("/"):
            _file(chain, backing, "backing image", exclusive=False, level=1)
    elif dtype == "block":
        # guests share block devices (a DASD or a multipath LUN attached to several, shareable or not): the
        # chain below a path is the same for each of them
        _shared(chain, ("block source", source, writable), lambda c: _block_source(c, source, exclusive=writable))
    elif dtype == "volume":
        pool, _, volume = source.partition("/")
        _volume(chain, pool, volume, exclusive=writable)
    elif dtype == "nvme":
        m = _NVME_SOURCE.match(source)
        if m:
            _pci_function(chain, m.group(1), exclusive=True, level=0, what="NVMe controller")
    elif dtype == "network":
        chain.add(StepKind.REMOTE, source, "network disk", exclusive=False)
    else:
        chain.add(StepKind.SOURCE, source, dtype)


def _file(chain: _Chain, path: str, fmt: str, *, exclusive: bool, level: int) -> None:
    info = chain.inv.file(path)
    vol = chain.inv.volume(path)
    kind = StepKind.DIRECTORY if info is not None and info.kind is FileKind.DIRECTORY else StepKind.FILE
    if info is None:
        name = " ".join(p for p in (fmt, "image" if fmt else "", "(not examined)" if not vol else "") if p)
        chain.add(kind, path, name, exclusive=exclusive, level=level)
        if vol is not None:
            _pool_volume(chain, vol.pool, vol.volume, level, vol)
        return
    if not info.exists:
        chain.add(kind, path, fmt, warning=f"missing on the host ({info.error or 'not found'})",
                  exclusive=exclusive, level=level)
        return
    size = _human(info.size) if info.size is not None else ""
    chain.add(kind, path, ", ".join(p for p in (f"{fmt} image" if fmt else "", size) if p), exclusive=exclusive,
              level=level)
    if vol is not None:
        _pool_volume(chain, vol.pool, vol.volume, level, vol)
    if info.kind is FileKind.BLOCK:
        dev = chain.inv.by_path(info.realpath or path)
        if dev is not None:
            _block(chain, dev, level)
        return
    _shared(chain, ("file system", info.mount_point, info.fs_type, info.mount_source, info.majmin, level),
            lambda c: _file_system(c, info, level))


def _file_system(chain: _Chain, info: FileInfo, level: int) -> None:
    """The mount a file lives on and the block device under it."""
    if info.mount_point:
        chain.add(StepKind.MOUNT, info.mount_point, f"{info.fs_type} on {info.mount_source}".strip(),
                  key=device_key("mount", info.mount_point), level=level)
    dev = chain.inv.by_majmin(info.majmin) if info.majmin else None
    if dev is None and info.mount_source.startswith("/dev/"):
        dev = chain.inv.by_path(info.mount_source)
    if dev is not None:
        _block(chain, dev, level)


def _volume(chain: _Chain, pool: str, volume: str, *, exclusive: bool) -> None:
    for vol in chain.inv.volumes:
        if vol.pool == pool and vol.volume == volume and vol.path.startswith("/"):
            _file(chain, vol.path, "", exclusive=exclusive, level=0)
            return
    found = next((v for v in chain.inv.volumes if v.pool == pool and v.volume == volume), None)
    _pool_volume(chain, pool, volume, 0, found)


def _pool_volume(chain: _Chain, pool: str, volume: str, level: int, info: VolumeInfo | None = None) -> None:
    """The pool and the volume, then what the pool is made of: its block devices (an `fs`, `logical` or
    `disk` pool; on a remote host these are its node devices) or its network source (iSCSI, RBD, NFS)."""
    kind = info.pool_type if info is not None else ""
    chain.add(StepKind.POOL, pool, f"{kind} storage pool" if kind else "storage pool", level=level)
    chain.add(StepKind.VOLUME, f"{pool}/{volume}", volume, level=level)
    if info is None:
        return
    for path in info.pool_devices:
        dev = chain.inv.by_path(path)
        if dev is not None:
            _block(chain, dev, level)
        else:
            chain.add(StepKind.BLOCK, path, f"source of pool {pool}", level=level)
    if info.pool_source:
        chain.add(StepKind.REMOTE, info.pool_source, f"{kind} source of pool {pool}", level=level)


def _block_source(chain: _Chain, path: str, *, exclusive: bool) -> None:
    """A disk on a block device path: devnode, udev link, `/dev/mapper/<name>`, or an offline DASD."""
    inv = chain.inv
    dev = inv.by_path(path)
    if dev is None and path.startswith("/dev/mapper/"):
        name = path[len("/dev/mapper/"):]
        dev = inv.by_fact(HostDeviceKind.BLOCK, F.DM_NAME, name)
    if dev is not None:
        _block(chain, dev, 0, exclusive=exclusive)
        return
    m = _BY_PATH_CCW.match(path)
    ccw = inv.get(HostDeviceKind.CCW, m.group(1).lower()) if m else None
    if m and ccw is not None:
        why = ("no block device: the DASD is offline" if is_online(ccw) is False else
               "no block device: a PAV alias has none, its base has" if is_dasd_alias(ccw) else
               "the DASD has no block device")
        chain.add(StepKind.BLOCK, path, "", warning=why, exclusive=exclusive)
        _ccw_device(chain, ccw, 0)
        return
    warning = "not found on the host" if chain.inv.local else None
    chain.add(StepKind.BLOCK, path, "", warning=warning, exclusive=exclusive)
    if m and chain.knows:
        chain.add(StepKind.DASD, m.group(1).lower(), "", key=device_key(HostDeviceKind.CCW, m.group(1).lower()),
                  warning="no such ccw device (not defined for this LPAR, or cio_ignore'd?)")


def _block(chain: _Chain, dev: HostDevice, level: int, *, exclusive: bool = False) -> None:
    """A block device and everything below it: partition → disk, multipath → paths, disk → hardware."""
    inv = chain.inv
    name = dev.fact(F.UDEV_NAME) or dev.name
    size = _human(int(dev.fact(F.SIZE)) * 512) if dev.fact(F.SIZE).isdigit() else ""
    dm_uuid, dm_name = dev.fact(F.DM_UUID), dev.fact(F.DM_NAME)
    if dev.fact(F.DEVTYPE) == "partition":
        if not chain.add_device(StepKind.PARTITION, dev, _join(name, size), exclusive=exclusive, level=level):
            return
        disk = inv.parent(dev)
        if disk is not None and disk.kind in (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE):
            _block(chain, disk, level)
        return
    if dm_uuid.startswith("mpath-") or (dm_name and dm_uuid == "" and dev.fact(F.SLAVES)):
        paths = [p for p in dev.fact(F.SLAVES).split(",") if p]
        wwid = dm_uuid[6:] if dm_uuid.startswith("mpath-") else ""
        label = _join(f"multipath {dm_name or wwid},", f"WWID {wwid}," if wwid and wwid != dm_name else "",
                      f"{len(paths)} path{'s' if len(paths) != 1 else ''}")
        if dm_uuid.startswith("mpath-"):
            kind = StepKind.MULTIPATH
        else:
            kind, label = StepKind.DM, _join(dm_name, size)
        shown = ", ".join(x for x in (label, size if kind is StepKind.MULTIPATH else "") if x)
        if not chain.add_device(kind, dev, shown, exclusive=exclusive, level=level):
            return
        warning = "multipath device has no paths" if kind is StepKind.MULTIPATH and not paths else None
        if warning:
            chain.steps[-1] = replace(chain.steps[-1], warning=warning)
        for p in paths:
            below = inv.by_path(p)
            if below is not None:
                _block(chain, below, level + 1, exclusive=exclusive)
            else:
                chain.add(StepKind.BLOCK, p, "path", level=level + 1, warning="path device not found")
        return
    if dm_uuid or dm_name:
        if not chain.add_device(StepKind.DM, dev, _join(dm_name, size), exclusive=exclusive, level=level):
            return
        for p in (x for x in dev.fact(F.SLAVES).split(",") if x):
            below = inv.by_path(p)
            if below is not None:
                _block(chain, below, level + 1, exclusive=exclusive)
        return
    backing = dev.fact(F.LOOP_BACKING_FILE)
    if backing:
        if chain.add_device(StepKind.LOOP, dev, _join(name, size), exclusive=exclusive, level=level):
            _file(chain, backing.removesuffix(" (deleted)"), "", exclusive=False, level=level)
        return
    if not chain.add_device(StepKind.BLOCK, dev, _join(name, size), exclusive=exclusive, level=level):
        return
    _hardware(chain, dev, level, exclusive=exclusive)


def _hardware(chain: _Chain, dev: HostDevice, level: int, *, exclusive: bool = False) -> None:
    """What a whole disk sits on: DASD (ccw), SCSI (zFCP or any HBA), NVMe/virtio (PCI)."""
    inv = chain.inv
    holder = inv.ancestor(dev, HostDeviceKind.SCSI, HostDeviceKind.CCW, HostDeviceKind.PCI)
    if holder is None:
        return
    # a guest writing a whole disk holds its SCSI LUN or DASD too; the channel and PCI adapter stay shared
    if holder.kind is HostDeviceKind.SCSI:
        _scsi_device(chain, holder, level, exclusive=exclusive)
    elif holder.kind is HostDeviceKind.CCW:
        _ccw_device(chain, holder, level, exclusive=exclusive)
    else:
        _pci_device(chain, holder, level, exclusive=False)


# --- ccw, SCSI, PCI -------------------------------------------------------------------------------------


def _ccw_device(chain: _Chain, ccw: HostDevice, level: int, *, exclusive: bool = False) -> None:
    """A ccw device and its subchannel: the same steps for every disk on one FCP channel and every guest
    of one DASD, so built once per inventory (`_shared`)."""
    _shared(chain, ("ccw", ccw.key, level, exclusive),
            lambda c: _ccw_device_steps(c, ccw, level, exclusive=exclusive))


def _ccw_device_steps(chain: _Chain, ccw: HostDevice, level: int, *, exclusive: bool = False) -> None:
    role = ccw_role(ccw)
    kind = StepKind.DASD if role is CcwRole.DASD else StepKind.FCP if role is CcwRole.FCP else StepKind.CCW
    devtype, cutype = ccw.fact(F.DEVTYPE), ccw.fact(F.CUTYPE)
    name = ", ".join(p for p in (_join(devtype, f"(CU {cutype})" if cutype else ""), ccw.driver,
                                 *(_dasd_traits(ccw) if kind is StepKind.DASD else ())) if p)
    warning = None
    availability = CcwDevice.availability.read(ccw.fact(F.AVAILABILITY))
    if is_online(ccw) is False:
        warning = f"offline (chccwdev -e {ccw.id})"
    elif availability not in (None, "good"):
        warning = f"availability: {availability}"
    elif kind is StepKind.FCP:
        warning = _fcp_problem(chain.inv, ccw) or None
    elif kind is StepKind.DASD and dasd_problem(ccw):
        warning = dasd_problem(ccw)
    elif kind is StepKind.DASD and is_dasd_alias(ccw):
        warning = alias_problem(ccw, chain.inv.of_kind(HostDeviceKind.CCW), lambda b: not chain.inv.host_use(b))
    if not chain.add_device(kind, ccw, name, warning=warning, exclusive=exclusive, level=level):
        return
    css = inv_parent_of_kind(chain.inv, ccw, HostDeviceKind.CSS)
    if css is not None:
        _subchannel(chain, css, level, exclusive=exclusive and kind != "fcp")


def _fcp_problem(inv: Inventory, fcp: HostDevice) -> str:
    """Why an FCP channel carries no I/O: zFCP's error recovery gave up on it (`failed`), or its FC port is
    not `Online` (fc_host `port_state`: Linkdown, Error); '' otherwise."""
    if kernel_flag(fcp, F.FAILED):
        return (f"FCP channel failed: zFCP error recovery gave up (echo 0 > /sys/bus/ccw/drivers/zfcp/{fcp.id}/failed "
                "recovers it)")
    for host in (c for c in inv.children(fcp) if c.kind is HostDeviceKind.SCSI_HOST):
        state = FcHost.port_state.read(host.fact(F.PORT_STATE))
        if state not in (None, "Online"):
            return f"FC port {state}"
    return ""


def _dasd_traits(ccw: HostDevice) -> tuple[str, ...]:
    """What sets one DASD apart, as lsdasd and lszdev show it: alias, read-only, raw-track, ESE, its uid."""
    uid = dasd_uid(ccw)
    alias = ""
    if is_dasd_alias(ccw):
        alias = "HyperPAV alias" if uid.hyperpav else f"PAV alias of volume {uid.text}" if uid else "PAV alias"
    return (alias, "read-only" if kernel_flag(ccw, F.READONLY) else "",
            "raw-track access" if kernel_flag(ccw, F.RAW_TRACK_ACCESS) else "",
            "ESE (thin)" if kernel_flag(ccw, F.ESE) else "",
            f"uid {uid.text}" if uid and not is_dasd_alias(ccw) else "")


def inv_parent_of_kind(inv: Inventory, dev: HostDevice, kind: HostDeviceKind) -> HostDevice | None:
    parent = inv.parent(dev)
    return parent if parent is not None and parent.kind is kind else None


def _subchannel(chain: _Chain, css: HostDevice, level: int, *, exclusive: bool = False,
                warning: str | None = None) -> bool:
    """A subchannel with the channel paths it has installed (PIM), CHPID 00 included, and why any of them
    carries no I/O (the CHPID in standby or varied offline, the path not available per the PAM or not
    operational per the POM), each once, with the command that changes it."""
    paths = subchannel_paths(css, lambda chpid: chain.inv.get(HostDeviceKind.CHPID, chpid))
    name = ", ".join(p for p in ("subchannel", css.driver,
                                 f"CHPIDs {','.join(c.chpid for c in paths)}" if paths else "") if p)
    off = [c.chpid for c in paths if c.problem]
    if off:
        name += f" ({','.join(off)} not in use)"
    problems = [c.problem for c in paths if c.problem]
    if paths and len(problems) == len(paths):
        problems.insert(0, "no usable channel path")
    if problems:
        warning = "; ".join(([warning] if warning else []) + problems)
    return chain.add_device(StepKind.CSS, css, name, warning=warning, exclusive=exclusive, level=level)


def _lun_problem(scsi: HostDevice) -> str:
    """Why a SCSI device (one path of a LUN) carries no I/O: its SCSI state (offline, blocked,
    transport-offline), or zFCP's LUN state (access denied by LUN masking, failed)."""
    problems = []
    state = scsi.fact(F.STATE)
    if state and state != "running":
        problems.append(f"path state {state}")
    if kernel_flag(scsi, F.ZFCP_ACCESS_DENIED):
        problems.append("access denied (LUN masking or zoning)")
    if kernel_flag(scsi, F.ZFCP_FAILED):
        problems.append("LUN failed (zFCP error recovery gave up)")
    return "; ".join(problems)


def _npiv(host: HostDevice | None) -> str:
    """`via NPIV port 0x…` when the FCP channel's FC host is an NPIV virtual port (its `port_type`, or a
    `port_name` other than the adapter's `permanent_port_name`), `via the adapter's port` otherwise."""
    if host is None:
        return ""
    port_type = FcHost.port_type.read(host.fact(F.PORT_TYPE)) or ""
    port, permanent = (FcHost.port_name.read(host.fact(F.PORT_NAME)),
                       FcHost.permanent_port_name.read(host.fact(F.PERMANENT_PORT_NAME)))
    if not (port_type or port is not None):
        return ""
    text = f"0x{port:016x}" if port is not None else ""
    if port_type == "NPIV VPORT" or (port is not None and permanent is not None and port != permanent):
        return f"via NPIV port {text}" if text else "via an NPIV port"
    return f"via the channel's own port {text} (no NPIV: every LPAR on it shares it)" if text else ""


def fcp_lun_from_linux(lun: int) -> str:
    """The FCP LUN (`0x4001400000000000`) of a Linux SCSI LUN number (1073758209), as the kernel's
    `int_to_scsilun` maps them: 16-bit words in reverse order."""
    out = 0
    for word in range(4):
        out |= ((lun >> (16 * word)) & 0xFFFF) << (16 * (3 - word))
    return f"0x{out:016x}"


def _scsi_device(chain: _Chain, scsi: HostDevice, level: int, *, exclusive: bool = False) -> None:
    """SCSI device → FCP channel → WWPN → LUN (zFCP), or → the PCI HBA."""
    inv = chain.inv
    state = scsi.fact(F.STATE)
    name = _join(scsi.fact(F.VENDOR), scsi.fact(F.MODEL), state if state and state != "running" else "")
    if not chain.add_device(StepKind.SCSI, scsi, name, exclusive=exclusive, level=level,
                            warning=_lun_problem(scsi) or None):
        return
    hba, wwpn, lun = zfcp_path(scsi)
    fcp = inv.get(HostDeviceKind.CCW, hba) if hba else inv.ancestor(scsi, HostDeviceKind.CCW)
    if not wwpn:
        target = inv.ancestor(scsi, HostDeviceKind.SCSI_TARGET)
        wwpn = target.fact(F.WWPN) if target is not None else ""
        wwpn = wwn(wwpn)
    if not lun and scsi.fact(F.LUN).isdigit() and (wwpn or fcp is not None):
        lun = fcp_lun_from_linux(int(scsi.fact(F.LUN)))
    if fcp is not None:
        _ccw_device(chain, fcp, level)  # shared: many LUNs and guests use one FCP channel
    elif hba:
        chain.add(StepKind.FCP, hba, "FCP channel", key=device_key(HostDeviceKind.CCW, hba),
                  warning="FCP channel not found on the host" if chain.knows else None, level=level)
    else:
        pci = inv.ancestor(scsi, HostDeviceKind.PCI)
        if pci is not None:
            _pci_device(chain, pci, level, exclusive=False)
    channel = hba or (fcp.id if fcp is not None else "")
    if wwpn:
        rport = FcHost.rport_state.read(scsi.fact(F.RPORT_STATE))
        chain.add(StepKind.WWPN, wwpn, _join("remote port", _npiv(inv.ancestor(scsi, HostDeviceKind.SCSI_HOST))),
                  key=f"wwpn:{channel}:{wwpn}", level=level,
                  warning=f"remote port {rport}" if rport not in (None, "Online") else None)
    if lun:
        chain.add(StepKind.LUN, lun, "FCP LUN", key=f"lun:{wwpn}:{lun}", exclusive=exclusive, level=level)


def _pci_name(dev: HostDevice) -> str:
    uid, fid, pchid = dev.fact(F.UID), dev.fact(F.FUNCTION_ID) or dev.fact(F.FID), dev.fact(F.PCHID)
    vendor = dev.fact(F.VENDOR_ID) or dev.fact(F.VENDOR)
    product = dev.fact(F.PRODUCT_ID) or dev.fact(F.DEVICE)
    zpci = _join(f"uid {uid}" if uid else "", f"fid {fid}" if fid else "", f"pchid {pchid}" if pchid else "")
    return _join(zpci + ("," if zpci else ""), f"driver {dev.driver}" if dev.driver else "no driver",
                 f"[{vendor}:{product}]".replace("0x", "") if vendor and product else "")


def _pci_device(chain: _Chain, dev: HostDevice, level: int, *, exclusive: bool, warning: str | None = None) -> None:
    chain.add_device(StepKind.PCI, dev, _pci_name(dev), exclusive=exclusive, level=level, warning=warning)


def _pci_function(chain: _Chain, address: str, *, exclusive: bool, level: int, what: str) -> HostDevice | None:
    dev = chain.inv.get(HostDeviceKind.PCI, address)
    if dev is None:
        chain.add(StepKind.PCI, address, what, warning="PCI function not found on the host" if chain.knows else None,
                  exclusive=exclusive, level=level)
        return None
    _pci_device(chain, dev, level, exclusive=exclusive)
    return dev


# --- pass-through ---------------------------------------------------------------------------------------


def _pci_hostdev(chain: _Chain, device: GuestDevice) -> None:
    if not device.source:
        return
    dev = chain.inv.get(HostDeviceKind.PCI, device.source)
    if dev is None:
        _pci_function(chain, device.source, exclusive=True, level=0, what="PCI function")
        return
    warning = None
    managed = device.detail_flag("managed") is True  # libvirt's default: not managed
    if dev.driver and dev.driver != "vfio-pci" and not managed:
        warning = f"bound to {dev.driver}, not vfio-pci (and managed='no': libvirt will not rebind it)"
    elif not dev.driver and FactSource.UDEV in dev.source and not managed:
        warning = "bound to no driver (needs vfio-pci)"
    if dev.iommu_group is None and FactSource.UDEV in dev.source:
        warning = (warning + "; " if warning else "") + "no IOMMU group (IOMMU off?)"
    _pci_device(chain, dev, 0, exclusive=True, warning=warning)


def _scsi_hostdev(chain: _Chain, device: GuestDevice) -> None:
    m = _SCSI_SOURCE.match(device.source)
    if not m:
        if device.source:
            chain.add(StepKind.REMOTE if "://" in device.source else StepKind.SCSI, device.source, "", exclusive=True)
        return
    hctl = ":".join(str(int(g)) for g in m.groups())
    scsi = chain.inv.get(HostDeviceKind.SCSI, hctl)
    if scsi is None:
        chain.add(StepKind.SCSI, hctl, "", warning="SCSI device not found on the host" if chain.knows else None,
                  exclusive=True)
        return
    _scsi_device(chain, scsi, 0, exclusive=True)


def _mdev(chain: _Chain, device: GuestDevice) -> None:
    uuid = device.source.lower()
    if not uuid:
        return
    inv = chain.inv
    mdev = inv.get(HostDeviceKind.MDEV, uuid)
    if mdev is None:
        chain.add(StepKind.MDEV, uuid, device.model,
                  key=device_key(HostDeviceKind.MDEV, uuid),
                  warning="mdev not started: not found on the host (mdevctl start / virsh nodedev-start)"
                  if chain.knows else None, exclusive=True)
        return
    warning = None
    if mdev.fact(F.START) and not mdev.sysfs_path and mdev.source == FactSource.LIBVIRT and not mdev.driver:
        warning = "mdev defined but not started"
    chain.add_device(StepKind.MDEV, mdev, mdev.fact(F.MDEV_TYPE) or device.model, warning=warning, exclusive=True)
    parent = inv.parent(mdev)
    if parent is None:
        if mdev.parent:
            chain.add(StepKind.PARENT, mdev.parent, "", warning="parent device not found on the host")
        return
    if parent.kind is HostDeviceKind.CSS:
        _vfio_ccw_parent(chain, parent)
    elif parent.kind is HostDeviceKind.AP_MATRIX:
        _vfio_ap(chain, mdev, parent)
    elif parent.kind is HostDeviceKind.PCI:
        _pci_device(chain, parent, 0, exclusive=False)
    else:
        chain.add_device(StepKind.PARENT, parent, parent.name)


def _vfio_ccw_parent(chain: _Chain, css: HostDevice) -> None:
    """mdev → subchannel (bound to vfio_ccw) → the ccw device it carries (typically a DASD)."""
    warning = None if css.driver in ("vfio_ccw", "") else f"subchannel bound to {css.driver}, not vfio_ccw"
    _subchannel(chain, css, 0, exclusive=True, warning=warning)
    busid = carried_busid(css)
    if not busid:
        return
    ccw = chain.inv.get(HostDeviceKind.CCW, busid)
    if ccw is not None:
        _ccw_device(chain, ccw, 0, exclusive=True)
    else:
        chain.add(StepKind.CCW, busid, "device on the subchannel (held by vfio_ccw, invisible to the host)",
                  key=device_key(HostDeviceKind.CCW, busid), exclusive=True)


def _ap_card(chain: _Chain, card_id: str) -> None:
    """An assigned adapter: its card (`card07`) with type, mode and state."""
    card = chain.inv.get(HostDeviceKind.AP_CARD, card_id)
    if card is not None:
        chain.add_device(StepKind.AP_CARD, card, _join(card.fact(F.AP_TYPE), card.fact(F.AP_MODE),
                                                       ap_queue_state(card)),
                         warning="adapter is offline" if is_online(card) is False else None, level=1)
    else:
        chain.add(StepKind.AP_CARD, card_id, "adapter", key=device_key(HostDeviceKind.AP_CARD, card_id),
                  warning="adapter not found on the host" if chain.knows else None, level=1)


def _guest_matrix_warning(mdev: HostDevice, assigned: ApMatrix) -> str | None:
    """What the running guest does not get of what is assigned: the kernel leaves an adapter (or domain)
    out of `guest_matrix` when one of its queues is not bound to vfio_ap or not available."""
    guest = mdev_guest_matrix(mdev)
    if guest is None:
        return None  # not read (libvirt record, an older kernel)
    adapters = sorted(assigned.adapters - guest.adapters)
    domains = sorted(assigned.domains - guest.domains)
    if not adapters and not domains:
        return None
    missing = [f"adapter{'s' if len(adapters) > 1 else ''} {','.join(f'{a:02x}' for a in adapters)}"
               if adapters else "", f"domain{'s' if len(domains) > 1 else ''} "
               f"{','.join(f'{d:04x}' for d in domains)}" if domains else ""]
    return (f"the guest does not get {' and '.join(m for m in missing if m)} (guest_matrix): a queue is not "
            "bound to vfio_ap or not online")


def _vfio_ap(chain: _Chain, mdev: HostDevice, matrix: HostDevice) -> None:
    """mdev → matrix → each adapter (card) → its assigned queues (adapter x domain)."""
    inv = chain.inv
    chain.add(StepKind.AP_MATRIX, "matrix", _join("vfio_ap matrix", f"driver {matrix.driver}" if matrix.driver else ""),
              key=matrix.key)
    assigned = mdev_ap_matrix(mdev)
    queues = assigned.queue_ids()
    control = sorted(mdev_control_domains(mdev))
    if control:
        chain.steps[-1] = replace(chain.steps[-1], name=_join(
            chain.steps[-1].name, f"control domains {','.join(f'{d:04x}' for d in control)}"))
    if not queues:
        # adapters assigned without a domain (`0c.` lines) or domains without an adapter (`.0038`): shown as
        # assigned, but no queue is there for the guest
        why = ("no adapters and domains assigned to the mdev" if not assigned.adapters and not assigned.domains
               else "no domain assigned to the mdev" if assigned.adapters else "no adapter assigned to the mdev")
        half = _join(f"adapters {','.join(f'{a:02x}' for a in sorted(assigned.adapters))}" if assigned.adapters
                     else "", f"domains {','.join(f'{d:04x}' for d in sorted(assigned.domains))}"
                     if assigned.domains else "")
        chain.steps[-1] = replace(chain.steps[-1], warning=why, name=_join(chain.steps[-1].name, half))
        for adapter in sorted(assigned.adapters):
            _ap_card(chain, ap_card(adapter))
        return
    guest_warning = _guest_matrix_warning(mdev, assigned)
    if guest_warning:
        chain.steps[-1] = replace(chain.steps[-1], warning=guest_warning)
    by_card: dict[str, list[str]] = {}
    for q in queues:
        by_card.setdefault(ap_card_of(q), []).append(q)
    for card_id, card_queues in by_card.items():
        _ap_card(chain, card_id)
        for q in card_queues:
            queue = inv.get(HostDeviceKind.AP_QUEUE, q)
            if queue is None:
                chain.add(StepKind.AP_QUEUE, q, "domain", key=device_key(HostDeviceKind.AP_QUEUE, q),
                          warning="queue not found on the host" if chain.knows else None, exclusive=True, level=2)
                continue
            warning = None
            state = ap_queue_state(queue)
            if queue.driver and queue.driver != "vfio_ap":
                warning = f"queue held by {queue.driver}, not vfio_ap: the guest does not get it"
            elif state and state != "online":
                warning = f"queue is {state}"
            chain.add_device(StepKind.AP_QUEUE, queue, _join(f"domain {q.split('.')[1]}", state,
                                                      f"driver {queue.driver}" if queue.driver else ""),
                             warning=warning, exclusive=True, level=2)


# --- network ---------------------------------------------------------------------------------------------


def _interface(chain: _Chain, device: GuestDevice) -> None:
    kind, source = device.kind, device.source
    if kind is DeviceKind.NET_NETWORK and source:
        _shared(chain, ("network", source), lambda c: _network(c, source))
    elif kind is DeviceKind.NET_BRIDGE and source:
        _bridge(chain, source, 0)
    elif kind is DeviceKind.NET_OVS and source:
        _ovs(chain, source)
    elif kind is DeviceKind.NET_DIRECT and source:
        mode = device.detail("mode") or "vepa"
        tap = chain.inv.get(HostDeviceKind.NET, device.detail("host_dev")) if device.detail("host_dev") else None
        if tap is not None:
            chain.add_device(StepKind.MACVTAP, tap, _join(f"mode {mode}", tap.fact(F.ADDRESS)), exclusive=True)
        _net(chain, source, 0, role=f"macvtap lower device, mode {mode}",
             exclusive=mode == "passthrough", layer2_for="macvtap")
    elif kind is DeviceKind.NET_HOSTDEV and source:
        _pci_hostdev(chain, device)
    elif kind is DeviceKind.NET_VDPA and source:
        chain.add(StepKind.VDPA, source, "vDPA device", exclusive=True)


def _network(chain: _Chain, name: str) -> None:
    info = chain.inv.network(name)
    if info is None:
        chain.add(StepKind.NETWORK, name, "libvirt network",
                  warning="no such libvirt network" if chain.inv.has_networks else None)
        return
    label = ", ".join(x for x in (f"forward {info.forward_mode}" if info.forward_mode else "isolated",
                                  f"bridge {info.bridge}" if info.bridge else "") if x)
    warning = "network is not active" if info.active is False else None
    chain.add(StepKind.NETWORK, name, label, warning=warning)
    if info.bridge:
        _bridge(chain, info.bridge, 0)
    elif info.forward_devs:
        for dev in info.forward_devs:
            _net(chain, dev, 1, role=f"{info.forward_mode} device")


def _bridge(chain: _Chain, name: str, level: int) -> None:
    dev = chain.inv.get(HostDeviceKind.NET, name)
    if dev is None:
        chain.add(StepKind.BRIDGE, name, "", key=device_key(HostDeviceKind.NET, name), level=level,
                  warning="bridge not found on the host" if chain.knows else None)
        return
    if is_ovs_interface(dev) or (not is_linux_bridge(dev) and dev.driver == "openvswitch"):
        _ovs(chain, name)
        return
    ports = [p for p in dev.fact(F.BRIDGE_PORTS).split(",") if p]
    uplinks = [p for p in ports if _is_uplink(chain.inv, p)]
    label = ", ".join(("Linux bridge" if is_linux_bridge(dev) else "bridge",
                       f"uplink {','.join(uplinks)}" if uplinks else "no uplink"))
    if not chain.add_device(StepKind.BRIDGE, dev, label, level=level):
        return
    for port in uplinks:
        _net(chain, port, level + 1, role="uplink", layer2_for="a bridge port")


def _is_uplink(inv: Inventory, port: str) -> bool:
    """A bridge port that leads off the host (not a guest's tap device)."""
    dev = inv.get(HostDeviceKind.NET, port)
    if dev is None:
        return not port.startswith(_VIRTUAL_TAPS)
    return not is_virtual_interface(dev) or bool(dev.fact(F.LOWER)) or is_linux_bridge(dev)


def _ovs(chain: _Chain, name: str) -> None:
    dev = chain.inv.get(HostDeviceKind.NET, name)
    chain.add(StepKind.OVS_BRIDGE, name, "Open vSwitch bridge", key=device_key(HostDeviceKind.NET, name),
              warning="Open vSwitch bridge not found on the host" if dev is None and chain.inv.local else None)


def _net(chain: _Chain, name: str, level: int, *, role: str, exclusive: bool = False,
         layer2_for: str = "") -> None:
    """A host interface and the hardware under it: VLAN/bond lower devices, qeth card + CHPID, PCI.
    `layer2_for` names the use that needs a layer-2 qeth card (macvtap, a bridge port)."""
    inv = chain.inv
    dev = inv.get(HostDeviceKind.NET, name)
    if dev is None:
        chain.add(StepKind.NET, name, role, key=device_key(HostDeviceKind.NET, name), exclusive=exclusive, level=level,
                  warning="interface not found on the host" if chain.knows else None)
        return
    if is_linux_bridge(dev):
        _bridge(chain, name, level)
        return
    state = dev.fact(F.OPERSTATE) or dev.fact(F.LINK_STATE)
    warning = f"link {state}" if state in ("down", "lowerlayerdown", "notpresent") else None
    if not chain.add_device(StepKind.NET, dev, _join(role, dev.fact(F.ADDRESS)), warning=warning, exclusive=exclusive,
                            level=level):
        return
    lowers = [x for x in dev.fact(F.LOWER).split(",") if x]
    for lower in lowers:
        _net(chain, lower, level, role="lower device", layer2_for=layer2_for)
    if lowers:
        return
    holder = inv.ancestor(dev, HostDeviceKind.CCWGROUP, HostDeviceKind.PCI)
    if holder is None:
        holder = _qeth_by_ifname(inv, name)
    if holder is None:
        return
    if holder.kind is HostDeviceKind.CCWGROUP:
        _qeth(chain, holder, level, layer2_for=layer2_for)
    else:
        _pci_device(chain, holder, level, exclusive=False)


def _qeth_by_ifname(inv: Inventory, name: str) -> HostDevice | None:
    return inv.by_fact(HostDeviceKind.CCWGROUP, F.IF_NAME, name)


def _qeth(chain: _Chain, card: HostDevice, level: int, *, layer2_for: str = "") -> None:
    """A qeth card (OSA, HiperSockets) and its CHPID. macvtap and bridging need a layer-2 card; a card
    that is UP with its LAN OFFLINE has no link (qeth's `state`); a bridge port role is shown."""
    card_type = card.fact(F.CARD_TYPE)
    kind = card.fact(F.CARD_KIND) or card_kind(card_type) or "qeth"
    members = card.fact(F.CCW_DEVICES) or card.fact(F.MEMBER_BUSIDS)
    state = CcwGroup.state.read(card.fact(F.STATE)) or ""
    layer2 = CcwGroup.layer2.read(card.fact(F.LAYER2))
    layer = {1: "layer 2", 0: "layer 3"}.get(layer2, "") if layer2 is not None else ""
    role = card.fact(F.BRIDGE_ROLE)
    warnings: list[str] = []
    if is_online(card) is False:
        warnings.append(f"card is offline (chzdev -e qeth {card.id})")
    elif state == "UP (LAN OFFLINE)":
        warnings.append("LAN OFFLINE: the card has no link")
    elif state and not state.startswith(("UP", "SOFTSETUP")):
        warnings.append(f"state {state}")
    if layer2_for and layer2 == 0:
        warnings.append(f"{layer2_for} needs a layer-2 card; this one runs layer 3 (chzdev qeth {card.id} "
                        "layer2=1, with the card offline)")
    name = _join(kind, f"({card_type})" if card_type and card_type != kind else "",
                 members.replace(",", " ") if members else "", layer,
                 f"bridge role {role}" if role and role != "none" else "")
    if not chain.add_device(StepKind.QETH, card, name, warning="; ".join(warnings) or None, level=level):
        return
    chpid = chpid_id(card.fact(F.CHPID))
    if chpid:
        record = chain.inv.get(HostDeviceKind.CHPID, chpid)
        state_of = chp_state(record) if record is not None else None
        chain.add(StepKind.CHPID, chpid, _join(f"{kind} channel path",
                                               _chp_words(state_of) if state_of is not None else ""),
                  key=device_key(HostDeviceKind.CHPID, chpid),
                  warning=(state_of.chp_problem or None) if state_of is not None else None, level=level)


def _chp_words(chp: ChpState) -> str:
    """`online, configured, type 11`, the columns of lschp."""
    return ", ".join(p for p in ({True: "online", False: "offline"}.get(chp.online, "") if chp.online is not None
                                 else "", chp.configure, f"type {chp.type}" if chp.type else "") if p)


# --- small helpers ---------------------------------------------------------------------------------------


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _human(size: int | None) -> str:
    if size is None or size <= 0:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # pragma: no cover
