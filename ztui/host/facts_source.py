"""Where a host's facts come from: this machine (live), nothing but libvirt (remote), or a snapshot.

The host side of ztui — udev's device records, the mount table and what the file system says about image
paths — is read on this machine when the host is this machine. A *snapshot* of those facts, written by
`ztui hostfacts save`, can stand in for them: a support engineer reads a customer's domain XML against the
customer's host facts on any machine, and the lab's simulated IBM Z host is a libvirt daemon on this
machine whose host facts are a generated snapshot (the machine itself has no DASD).

`facts_source_for(uri)` is the one function that decides which host is which: every question about a
host's udev, /sys, mounts or files asks it. The source it gives a URI:

1. a snapshot given for that URI (`--host-facts FILE`, `use_snapshot`);
2. a snapshot next to the daemon's unix socket (`ztui-hostfacts.json` in the socket's directory): a daemon
   that runs on this machine but stands for another host (the lab's simulated Z host) says so itself;
3. live facts when the daemon shares this machine's kernel, none (libvirt's node devices only) when it is
   remote.

Every source also carries the host's *place* (`ztui.host.place.host_place`: this machine, this kernel in
another mount namespace, or remote), which decides whose file system a path names: only a host in this
process's own mount namespace has its files examined here; every other host's files — a lab host's, the
simulated Z host's, a remote host's — are its storage pools' (`ztui.host.storage.host_files`).

Snapshots are versioned JSON; one that is not a snapshot, is damaged or is of a newer version is refused
with a `SnapshotError` whose text is one line.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ztui.host.files import files_info, read_system_use
from ztui.host.index import FileInfo
from ztui.host.place import HostPlace, host_place
from ztui.host.system import NOTHING, Mount, Swap, SystemUse
from ztui.model import Fact, HostDevice, HostDeviceKind, MdevType
from ztui.zsysfs import ChannelPath, ap_card, apqn, chp_name, report_misreads

log = logging.getLogger("ztui.host.facts_source")

FORMAT = "ztui-host-facts"
VERSION = 2
"""2: IBM Z facts in the kernel's words, channel paths as records, AP cards and queues named `card07` and
`07.0038`, swap areas. A version 1 snapshot is read and brought up to it (`_upgrade_v1`)."""
SOCKET_SNAPSHOT = "ztui-hostfacts.json"
"""The snapshot a daemon's socket directory may carry (see `facts_source_for`)."""


class SnapshotError(ValueError):
    """A snapshot that cannot be used; the message is one line naming the file and the reason."""


class FactsOrigin(StrEnum):
    """Where the facts of one host come from."""

    LIVE = "live"  # udev and /sys of this machine's kernel (files: only in this mount namespace)
    REMOTE = "libvirt"  # nothing beyond what libvirt reports
    RECORDED = "recorded"  # a snapshot saved on some host
    SIMULATED = "simulated"  # a snapshot generated for a host that does not exist (the lab's Z host)


@dataclass(frozen=True)
class HostFacts:
    """Everything the resolver uses about one host besides libvirt's own objects."""

    origin: FactsOrigin
    hostname: str = ""
    description: str = ""  # `IBM z16 (simulated)`: shown next to the host wherever it appears
    created: str = ""
    devices: tuple[HostDevice, ...] = ()
    mounts: tuple[Mount, ...] = ()
    files: tuple[FileInfo, ...] = ()
    swaps: tuple[Swap, ...] = ()
    _files: dict[str, FileInfo] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._files.update((f.path, f) for f in self.files)

    def file(self, path: str) -> FileInfo | None:
        return self._files.get(path)

    @property
    def system(self) -> SystemUse:
        """What the host itself had mounted and swapped on."""
        return SystemUse(self.mounts, self.swaps)


# --- the sources ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactsSource:
    """The host facts of one URI: its device records and the facts of paths its guests use."""

    origin: FactsOrigin
    snapshot: HostFacts | None = None
    path: str = ""  # the snapshot's file
    place: HostPlace = HostPlace.REMOTE  # where the host's daemon is (its files are ours only on THIS_MACHINE)

    @property
    def same_machine(self) -> bool:
        """True when the facts are this machine's kernel's, read now (udev watched, /sys read); a lab host in
        a mount namespace of its own is on the same machine, but its files are not (`files_here`)."""
        return self.origin is FactsOrigin.LIVE

    @property
    def files_here(self) -> bool:
        """True when a path the host names is a path this process can stat, read and create."""
        return self.place.files_here

    @property
    def label(self) -> str:
        """What to show next to the host when its facts are not read live here; empty otherwise."""
        if self.snapshot is None:
            return ""
        if self.origin is FactsOrigin.SIMULATED:
            return self.snapshot.description or "simulated host facts"
        return f"host facts recorded {self.snapshot.created} ({Path(self.path).name})".replace("  ", " ")

    def devices(self, udev: tuple[HostDevice, ...] | None = None) -> tuple[HostDevice, ...]:
        """The host's device records; `udev` passes a live walk already made (several local URIs in one
        command share it) and is used only by the live source."""
        if self.snapshot is not None:
            return self.snapshot.devices
        if self.origin is not FactsOrigin.LIVE:
            return ()
        return local_udev_devices() if udev is None else udev

    def system_use(self) -> SystemUse:
        """What the host itself has mounted and swaps on: its snapshot's, this machine's read now (live),
        nothing known for a remote host."""
        if self.snapshot is not None:
            return self.snapshot.system
        if self.origin is FactsOrigin.LIVE:
            return read_system_use()
        return NOTHING

    def files(self, paths: Iterable[str]) -> tuple[FileInfo, ...]:
        """Facts of these paths: examined now (live, in this mount namespace), as recorded (snapshot: a path
        it does not hold was not examined), none for any other host (its storage pools' volumes say what
        they are)."""
        if self.snapshot is None:
            return files_info(paths) if self.same_machine and self.files_here else ()
        found = (self.snapshot.file(p) for p in dict.fromkeys(paths))
        return tuple(f for f in found if f is not None)


_OVERRIDES: dict[str, FactsSource] = {}


def use_snapshot(uri: str, path: str) -> FactsSource:
    """From now on (in this process) `uri` is resolved against the snapshot in `path`. Raises
    SnapshotError for a file that is not a usable snapshot."""
    source = snapshot_source(path)
    _OVERRIDES[uri] = source
    return source


def forget_snapshots() -> None:
    """Drop every `use_snapshot` (tests)."""
    _OVERRIDES.clear()


def snapshot_source(path: str) -> FactsSource:
    facts = load_snapshot(path)
    return FactsSource(origin=facts.origin, snapshot=facts, path=path)


def facts_source_for(uri: str | None) -> FactsSource:
    """The source of the host facts of `uri` (None: saved XML without a connection, no facts). The one
    function that decides it; see the module's docstring for the order."""
    if uri is None:
        return _OVERRIDES.get("", FactsSource(FactsOrigin.REMOTE))
    place = host_place(uri)
    given = _OVERRIDES.get(uri)
    if given is not None:
        return replace(given, place=place)
    beside = socket_snapshot(uri)
    if beside is not None:
        try:
            return replace(_cached_snapshot(beside), place=place)
        except SnapshotError:
            pass  # a damaged file next to a socket: the daemon's host is then read like any other
    return FactsSource(FactsOrigin.REMOTE if place is HostPlace.REMOTE else FactsOrigin.LIVE, place=place)


def socket_snapshot(uri: str) -> str | None:
    """`<dir>/ztui-hostfacts.json` for a `…+unix:///…?socket=<dir>/…` URI when that file exists."""
    parts = urlsplit(uri)
    if not parts.scheme.endswith("+unix"):
        return None
    sockets = parse_qs(parts.query).get("socket")
    if not sockets:
        return None
    candidate = os.path.join(os.path.dirname(sockets[0]), SOCKET_SNAPSHOT)
    return candidate if os.path.isfile(candidate) else None


_CACHE: dict[str, tuple[float, int, FactsSource]] = {}


def _cached_snapshot(path: str) -> FactsSource:
    """A snapshot next to a socket is read once per change of the file (the TUI asks on every rescan)."""
    st = os.stat(path)
    cached = _CACHE.get(path)
    if cached is not None and cached[:2] == (st.st_mtime, st.st_size):
        return cached[2]
    source = snapshot_source(path)
    _CACHE[path] = (st.st_mtime, st.st_size, source)
    return source


def local_udev_devices() -> tuple[HostDevice, ...]:
    """udev's records, or none when pyudev or sysfs is unusable here (a container without /sys)."""
    try:  # only here: a host known by libvirt or a snapshot alone never needs pyudev (11 ms to import)
        from ztui.host.udev import udev_available, udev_devices  # noqa: PLC0415 - pyudev, only for this host
    except ImportError:  # pragma: no cover - pyudev is a dependency, but be kind to trimmed installs
        return ()
    if not udev_available():
        return ()
    try:
        return udev_devices()
    except Exception as exc:  # libudev missing or broken: the libvirt half still works
        log.warning("udev inventory failed: %s", exc)
        return ()


# --- recording ------------------------------------------------------------------------------------------


def record_live(paths: Iterable[str] = (), *, udev: tuple[HostDevice, ...] | None = None) -> HostFacts:
    """This machine's facts now: udev's records, the mount table, and the facts of these paths."""
    live = FactsSource(FactsOrigin.LIVE, place=HostPlace.THIS_MACHINE)
    own = read_system_use()
    return HostFacts(origin=FactsOrigin.RECORDED, hostname=socket.gethostname(),
                     created=time.strftime("%Y-%m-%d %H:%M:%S %Z"), devices=live.devices(udev),
                     mounts=own.mounts, swaps=own.swaps, files=live.files(paths))


# --- the JSON form --------------------------------------------------------------------------------------


def device_json(dev: HostDevice) -> dict[str, Any]:
    """One record, with only the fields that are set (a snapshot of a big host stays small)."""
    out: dict[str, Any] = {"kind": dev.kind.value, "name": dev.name, "id": dev.id}
    for key in ("parent", "driver", "sysfs_path", "xml"):
        value = getattr(dev, key)
        if value:
            out[key] = value
    if dev.devnodes:
        out["devnodes"] = list(dev.devnodes)
    if dev.mdev_types:
        out["mdev_types"] = [asdict(t) for t in dev.mdev_types]
    if dev.iommu_group is not None:
        out["iommu_group"] = dev.iommu_group
    if dev.facts:
        out["facts"] = [[f.key, f.value] if f.source == dev.source else [f.key, f.value, f.source]
                        for f in dev.facts]
    if dev.source != "udev":
        out["source"] = dev.source
    if dev.warnings:
        out["warnings"] = list(dev.warnings)
    return out


def device_from_json(raw: Mapping[str, Any]) -> HostDevice:
    source = str(raw.get("source", "udev"))
    facts = tuple(Fact(str(f[0]), str(f[1]), str(f[2]) if len(f) > 2 else source) for f in raw.get("facts", ()))
    group = raw.get("iommu_group")
    return HostDevice(
        kind=HostDeviceKind(raw["kind"]), name=str(raw["name"]), id=str(raw["id"]),
        parent=str(raw.get("parent", "")), driver=str(raw.get("driver", "")),
        sysfs_path=str(raw.get("sysfs_path", "")), devnodes=tuple(str(d) for d in raw.get("devnodes", ())),
        mdev_types=tuple(MdevType(**t) for t in raw.get("mdev_types", ())),
        iommu_group=int(group) if group is not None else None, facts=facts, source=source,
        xml=str(raw.get("xml", "")), warnings=tuple(str(w) for w in raw.get("warnings", ())))


def snapshot_json(facts: HostFacts) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": VERSION, "origin": facts.origin.value, "hostname": facts.hostname,
        "description": facts.description, "created": facts.created,
        "devices": [device_json(d) for d in facts.devices],
        "mounts": [asdict(m) for m in facts.mounts],
        "swaps": [asdict(w) for w in facts.swaps],
        "files": [{k: v for k, v in asdict(f).items() if v not in ("", None)} for f in facts.files],
    }


def snapshot_from_json(doc: Any, name: str = "snapshot") -> HostFacts:
    """The facts of a parsed snapshot; SnapshotError (one line) for anything else."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SnapshotError(f"{name}: not a ztui host-facts snapshot (no \"format\": \"{FORMAT}\")")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise SnapshotError(f"{name}: host-facts snapshot without a valid version")
    if version > VERSION:
        raise SnapshotError(f"{name}: host-facts snapshot of version {version}; this ztui reads version "
                            f"{VERSION} (update ztui)")
    try:
        origin = FactsOrigin(doc.get("origin", "recorded"))
        if origin not in (FactsOrigin.RECORDED, FactsOrigin.SIMULATED):
            raise ValueError(f"origin {origin.value!r}")
        devices = tuple(device_from_json(d) for d in doc.get("devices", ()))
        facts = HostFacts(
            origin=origin, hostname=str(doc.get("hostname", "")), description=str(doc.get("description", "")),
            created=str(doc.get("created", "")),
            devices=_upgrade_v1(devices) if version == 1 else devices,
            mounts=tuple(Mount(**m) for m in doc.get("mounts", ())),
            swaps=tuple(Swap(**w) for w in doc.get("swaps", ())),
            files=tuple(FileInfo(**f) for f in doc.get("files", ())))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise SnapshotError(f"{name}: damaged host-facts snapshot ({type(exc).__name__}: {exc})") from None
    report_misreads(name, facts.devices)
    return facts


def _upgrade_v1(devices: tuple[HostDevice, ...]) -> tuple[HostDevice, ...]:
    """A version 1 snapshot in version 2's terms: its facts were read stripped of blanks (`chpids` lost its
    trailing space, which the reader allows), each subchannel and qeth card carried the states of its
    CHPIDs as `chp_states` (`05:1:1:1b`: chpid, vary, configure, type), which become channel path records,
    AP cards and queues were named `0x07` and `0x07.0x0038`, and a vfio-ap mdev's matrix was `ap_queues`
    in that notation."""
    chps: dict[str, HostDevice] = {}
    out: list[HostDevice] = []
    for dev in devices:
        facts = list(dev.facts)
        for item in dev.fact("chp_states").split():
            chpid, vary, configure, kind = [*item.split(":"), "", "", ""][:4]
            if len(chpid) == 2 and f"0.{chpid}" not in chps:
                chps[f"0.{chpid}"] = HostDevice(
                    HostDeviceKind.CHPID, chp_name(0, int(chpid, 16)), f"0.{chpid}",
                    sysfs_path=f"/sys/devices/css0/{chp_name(0, int(chpid, 16))}", source=dev.source,
                    facts=tuple(Fact(k, v, dev.source) for k, v in (
                        ("status", {"1": ChannelPath.status.write(True), "0": ChannelPath.status.write(False)}
                         .get(vary, "")), ("configure", configure), ("type", kind)) if v))
        ident = dev.id
        if dev.kind is HostDeviceKind.AP_CARD and ident.startswith("0x"):
            ident = ap_card(int(ident, 16))
        elif dev.kind is HostDeviceKind.AP_QUEUE and ident.startswith("0x"):
            adapter, _, domain = ident.partition(".")
            ident = apqn(int(adapter, 16), int(domain, 16))
        queues = dev.fact("ap_queues")
        if dev.kind is HostDeviceKind.MDEV and queues and not dev.has_fact("matrix"):
            lines = [apqn(int(a, 16), int(d, 16)) for a, _, d in (q.partition(".") for q in queues.split(","))]
            facts.append(Fact("matrix", "\n".join(lines), dev.source))
        dropped = ("chp_states", "ap_queues", "ap_adapters", "ap_domains")
        out.append(replace(dev, id=ident, facts=tuple(f for f in facts if f.key not in dropped)))
    return (*out, *chps.values())


def load_snapshot(path: str) -> HostFacts:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SnapshotError(f"{path}: not a ztui host-facts snapshot (not text)") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise SnapshotError(f"{path}: not a ztui host-facts snapshot (not JSON)") from None
    return snapshot_from_json(doc, path)


def write_snapshot(facts: HostFacts, path: str) -> None:
    """Written whole or not at all (a temporary file renamed into place)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(snapshot_json(facts), separators=(",", ":")) + "\n", encoding="utf-8")
    tmp.replace(target)
