"""The lab as a whole: start it, ask how it is, stop it.

A lab is N private libvirt daemons ("hosts", `zlab-a`, `zlab-b`, ...) on this machine, each with real
QEMU s390x guests under TCG, and by default two more, `zlab-z` and `zlab-y`, whose host facts are two
simulated z16 LPARs sharing their storage (DASD, zFCP, OSA, HiperSockets, vfio-ccw, vfio-ap, zPCI; see
zhost.py and zlab.py).
The hosts share nothing with the system's libvirtd: each runs in its own mount
namespace with its own configuration, state, sockets and logs under the lab directory (see supervisor.py).

`start_lab` is idempotent: it reuses running hosts, restarts hosts whose daemon died (their guests keep
running and the new daemon reconnects to them) and provisions guests only on hosts that never had them.
`stop_lab` is idempotent too and leaves nothing behind: no process, no mount, no bridge, no file.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libvirt

from ztui.lab import capcache
from ztui.lab.config import write_configs
from ztui.lab.connect import open_host
from ztui.lab.daemon import (
    STOP_TIMEOUT,
    daemon_pid,
    daemon_running,
    find_binary,
    lab_processes,
    log_excerpt,
    start_daemon,
    terminate_pids,
)
from ztui.lab.debian import linux_boot
from ztui.lab.errors import LabError
from ztui.lab.guests import BootSpec, GuestSpec, create_images, direct_io_supported, domain_xml, host_guests
from ztui.lab.kernel import write_idle_kernel
from ztui.lab.network import NETWORK_NAME, ensure_bridge, network_xml, remove_bridge
from ztui.lab.paths import MAX_HOSTS, HostPaths, LabPaths, cache_dir
from ztui.lab.sshd import SshPaths, ssh_uri, sshd_pid, start_sshd, stop_sshd
from ztui.lab.state import HostRecord, LabState, lab_lock, load_state, save_state
from ztui.lab.storage import ensure_pools, refresh_shared
from ztui.lab.zguests import Z_GUESTS, Z_TWIN_GUESTS, ZGuest, z_domain_xml
from ztui.lab.zlab import Z_HOST, Z_HOSTS, is_z_host, prepare_z_host, release_z_loops, simulated_label
from ztui.model import GuestState

log = logging.getLogger(__name__)

DEFAULT_HOSTS = 2
OVER_SSH = "zlab-b"
"""The lab host that `--lab` reaches over qemu+ssh (`lab_uris`)."""


@dataclass(frozen=True)
class LabHost:
    """A running lab host: what a client needs to connect to it."""

    name: str
    uri: str
    pid: int | None = None
    simulated: str = ""  # what the host's simulated facts stand for (`IBM z16 LPAR …`); '' for a real one
    tcp_uri: str = ""  # the same daemon over qemu+tcp on loopback: the remote transport
    ssh_uri: str = ""  # the same daemon over qemu+ssh through the lab's sshd: how Z hosts are reached


@dataclass(frozen=True)
class GuestStatus:
    name: str
    state: str


@dataclass(frozen=True)
class HostStatus:
    name: str
    uri: str
    pid: int | None  # libvirtd's; None when the daemon is not running
    guests: tuple[GuestStatus, ...] = ()
    simulated: str = ""
    tcp_uri: str = ""
    ssh_uri: str = ""

    @property
    def running(self) -> bool:
        return self.pid is not None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "uri": self.uri, "tcp_uri": self.tcp_uri, "ssh_uri": self.ssh_uri,
                "pid": self.pid, "simulated": self.simulated or None,
                "guests": [{"name": g.name, "state": g.state} for g in self.guests]}


@dataclass(frozen=True)
class SshStatus:
    """The lab's sshd: its port and pid (None when it does not run), the key and known_hosts the URIs use."""

    port: int
    pid: int | None
    keyfile: str
    known_hosts: str

    def to_json(self) -> dict[str, Any]:
        return {"port": self.port or None, "pid": self.pid, "keyfile": self.keyfile, "known_hosts": self.known_hosts}


@dataclass(frozen=True)
class LabStatus:
    base: Path
    hosts: tuple[HostStatus, ...] = ()
    ssh: SshStatus | None = None

    def to_json(self) -> dict[str, Any]:
        return {"hosts": [h.to_json() for h in self.hosts], "ssh": self.ssh.to_json() if self.ssh else None}


@dataclass(frozen=True)
class Tools:
    libvirtd: str
    qemu: str
    qemu_img: str
    ip: str


def check_requirements() -> Tools:
    """Root and the binaries, or one message that says what is missing and where it comes from."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root: it runs private libvirt daemons in their own mount namespaces "
                       "(try `sudo ztui lab start`)")
    libvirtd = find_binary("libvirtd", "/usr/sbin/libvirtd")
    qemu = find_binary("qemu-system-s390x")
    qemu_img = find_binary("qemu-img")
    ip = find_binary("ip", "/usr/sbin/ip", "/sbin/ip")
    missing = [what for found, what in ((libvirtd, "libvirtd (Debian package libvirt-daemon-system)"),
                                        (qemu, "qemu-system-s390x (qemu-system-misc)"),
                                        (qemu_img, "qemu-img (qemu-utils)"),
                                        (ip, "ip (iproute2)"),
                                        (find_binary("sshd", "/usr/sbin/sshd"), "sshd (openssh-server)"),
                                        (find_binary("nc"), "nc (netcat-openbsd)")) if not found]
    if missing or libvirtd is None or qemu is None or qemu_img is None or ip is None:
        raise LabError("the lab needs " + ", ".join(missing))
    return Tools(libvirtd=libvirtd, qemu=qemu, qemu_img=qemu_img, ip=ip)


def capabilities_seed() -> Path:
    return cache_dir() / "qemu-capabilities"


def _lab_host(paths: LabPaths, record: HostRecord, ssh_port: int) -> LabHost:
    host = paths.host(record.name)
    return LabHost(name=record.name, uri=host.uri, pid=daemon_pid(host), simulated=simulated_label(record.name),
                   tcp_uri=record.tcp_uri, ssh_uri=lab_ssh_uri(paths, record.name, ssh_port))


def lab_ssh_uri(paths: LabPaths, name: str, port: int, *, known: bool = True) -> str:
    """`qemu+ssh://root@127.0.0.1:PORT/system?socket=…` of a lab host through the lab's sshd, '' before its
    port was chosen (`ztui.lab.sshd.ssh_uri`; without `known`, one whose host key ssh has never seen)."""
    return ssh_uri(port, paths.host(name).socket, SshPaths(paths.ssh_dir), known=known) if port else ""


def _shown_order(records: list[HostRecord]) -> list[HostRecord]:
    """The Z hosts first (zlab-z, then its twin): they are what ztui is for; then the others by name."""
    return sorted(records, key=lambda r: (r.name != Z_HOST, not is_z_host(r.name), r.index))


def _free_port(wanted: int) -> int:
    """`wanted` when nothing listens there on loopback, else a port the kernel hands out free now (kept in
    the lab's record, so a restarted host keeps its URI when it can)."""
    for port in ((wanted, 0) if wanted else (0,)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise LabError("no free TCP port on 127.0.0.1 for a lab host")


def lab_uris(hosts: list[LabHost]) -> dict[str, str]:
    """How `--lab` reaches each lab host, by name: over its unix socket, but zlab-b through the lab's sshd
    (`qemu+ssh`), the way far Z hosts are reached, so that the demo and every `--lab` command use ssh too."""
    return {h.name: h.ssh_uri if h.name == OVER_SSH and h.ssh_uri else h.uri for h in hosts}


# --- start ---------------------------------------------------------------------------------------------


def start_lab(hosts: int = DEFAULT_HOSTS, linux: bool = False, base_dir: Path | None = None,
              z: bool = True) -> list[LabHost]:
    """Start (or reuse) a lab of at least `hosts` hosts (plus the simulated Z host unless `z` is false)
    and return all of its hosts, the Z host first.

    On failure, a lab that did not exist before is removed completely; the error carries the daemon's log.
    """
    tools = check_requirements()
    if not 1 <= hosts <= MAX_HOSTS - len(Z_HOSTS):
        raise LabError(f"a lab has 1 to {MAX_HOSTS - len(Z_HOSTS)} hosts, not {hosts}")
    paths = LabPaths.for_dir(base_dir)
    with lab_lock(paths):
        existed = paths.state_file.exists()
        try:
            return _start_locked(paths, tools, hosts, linux, z)
        except BaseException:
            if not existed:
                log.info("start failed: removing the partly started lab %s", paths.base)
                try:
                    _stop_locked(paths)
                except LabError as exc:
                    log.warning("cleanup after a failed start: %s", exc)
            raise


def _start_locked(paths: LabPaths, tools: Tools, count: int, linux: bool, z: bool) -> list[LabHost]:
    state = load_state(paths) or LabState()
    state.grow(count)
    for name, index in Z_HOSTS if z else ():
        if state.host(name) is None:
            state.hosts.append(HostRecord(name=name, index=index, host_uuid=str(uuid.uuid4())))
    save_state(paths, state)  # first, so that a cleanup after a failure knows every host
    kernel = write_idle_kernel(paths.kernel)
    seed = capabilities_seed()
    for record in state.hosts:
        host = paths.host(record.name)
        if daemon_running(host):
            continue
        _start_host(paths, host, record, tools, seed)
        save_state(paths, state)  # its TCP port
        conn = open_host(host.uri)
        try:
            _ensure_network(conn, paths.bridge_name(record.name), tools)
            if not record.provisioned and is_z_host(record.name):
                # zlab-z runs the Z guests; its twin, where they migrate, defines one on a volume they share
                _provision_z(conn, paths, BootSpec(kernel), tools, Z_GUESTS if record.name == Z_HOST else Z_TWIN_GUESTS)
                record.provisioned = True
                save_state(paths, state)
            elif not record.provisioned:
                guests = host_guests(record.index, record.name, paths.slot)
                _provision(conn, paths, guests, BootSpec(kernel), tools)
                record.provisioned = True
                save_state(paths, state)
            ensure_pools(conn, paths.images)
        except libvirt.libvirtError as exc:
            raise LabError(f"{record.name}: {exc.get_error_message()}", details=log_excerpt(host)) from exc
        finally:
            conn.close()
        capcache.collect(host.capabilities, seed)
    if linux and not state.linux:
        _provision_linux(paths, state.hosts[0], tools)
        state.linux = True
        save_state(paths, state)
    _refresh_shared_everywhere(paths, state)
    ssh = SshPaths(paths.ssh_dir)
    if sshd_pid(ssh) is None:
        state.ssh_port = _free_port(state.ssh_port)
        save_state(paths, state)
        start_sshd(ssh, state.ssh_port)
    return [_lab_host(paths, record, state.ssh_port) for record in _shown_order(state.hosts)]


def _start_host(paths: LabPaths, host: HostPaths, record: HostRecord, tools: Tools, seed: Path) -> int:
    for sub in host.subdirs():
        sub.mkdir(parents=True, exist_ok=True, mode=0o700)
    record.tcp_port = _free_port(record.tcp_port)
    write_configs(host.etc, record.host_uuid, paths.migration_ports(record.index), record.tcp_port)
    if is_z_host(record.name):
        prepare_z_host(paths, host)
    capcache.seed_daemon(seed, host.capabilities)
    started = time.monotonic()
    pid = start_daemon(host, tools.libvirtd)
    log.info("%s: libvirtd %d up in %.2f s", record.name, pid, time.monotonic() - started)
    return pid


def _ensure_network(conn: libvirt.virConnect, bridge: str, tools: Tools) -> None:
    ensure_bridge(bridge, tools.ip)
    try:
        net = conn.networkLookupByName(NETWORK_NAME)
    except libvirt.libvirtError:
        net = conn.networkDefineXML(network_xml(bridge))
    if not net.isActive():
        net.create()


def _provision(conn: libvirt.virConnect, paths: LabPaths, guests: list[GuestSpec], boot: BootSpec,
               tools: Tools) -> None:
    create_images(guests, paths.images, tools.qemu_img)
    direct_io = direct_io_supported(paths.images)
    for guest in guests:
        xml = domain_xml(guest, boot, paths.images, paths.base, direct_io=direct_io, emulator=tools.qemu)
        dom = conn.defineXML(xml)
        if guest.running:
            dom.create()


def _provision_z(conn: libvirt.virConnect, paths: LabPaths, boot: BootSpec, tools: Tools,
                 guests: tuple[ZGuest, ...]) -> None:
    """A Z host's guests: all defined, those whose devices exist in its namespace (disks) started."""
    for guest in guests:
        dom = conn.defineXML(z_domain_xml(guest, boot, paths.base, emulator=tools.qemu))
        if guest.running:
            dom.create()


def _provision_linux(paths: LabPaths, record: HostRecord, tools: Tools) -> None:
    boot = linux_boot(cache_dir() / "debian", paths.base / "linux")
    guests = [g for g in host_guests(record.index, record.name, paths.slot, linux=True) if g.linux]
    conn = open_host(paths.host(record.name).uri)
    try:
        _provision(conn, paths, guests, boot, tools)
    except libvirt.libvirtError as exc:
        raise LabError(f"{record.name}: {exc.get_error_message()}") from exc
    finally:
        conn.close()


def _refresh_shared_everywhere(paths: LabPaths, state: LabState) -> None:
    """Every host's view of the shared pool, after images were written there beside libvirt."""
    for record in state.hosts:
        conn = open_host(paths.host(record.name).uri)
        try:
            refresh_shared(conn)
        finally:
            conn.close()


def ensure_lab(base_dir: Path | None = None) -> list[LabHost]:
    """The lab's hosts, starting the lab first if it is not (completely) running.

    When everything runs this only reads the state file and probes each daemon's pid and socket: no
    lock, no libvirt call, a few milliseconds.
    """
    paths = LabPaths.for_dir(base_dir)
    state = load_state(paths)
    if state is not None and state.hosts:
        found = [_lab_host(paths, record, state.ssh_port) for record in _shown_order(state.hosts)]
        if (all(h.pid is not None and daemon_running(paths.host(h.name)) for h in found)
                and sshd_pid(SshPaths(paths.ssh_dir)) is not None):
            return found
    ordinary = len([r for r in state.hosts if not is_z_host(r.name)]) if state else 0
    z = state is None or not state.hosts or state.host(Z_HOST) is not None
    return start_lab(hosts=max(DEFAULT_HOSTS, ordinary), base_dir=base_dir, z=z)


# --- status --------------------------------------------------------------------------------------------


def _guests_of(uri: str) -> tuple[GuestStatus, ...]:
    conn = open_host(uri)
    try:
        found = [GuestStatus(d.name(), str(GuestState.from_libvirt(d.state()[0])))
                 for d in conn.listAllDomains(0)]
    finally:
        conn.close()
    return tuple(sorted(found, key=lambda g: g.name))


def lab_status(base_dir: Path | None = None) -> LabStatus:
    """Each host with its daemon's pid and its guests; an empty status when there is no lab."""
    paths = LabPaths.for_dir(base_dir)
    state = load_state(paths)
    if state is None:
        return LabStatus(paths.base)
    hosts = []
    for record in _shown_order(state.hosts):
        host = paths.host(record.name)
        pid = daemon_pid(host)
        guests: tuple[GuestStatus, ...] = ()
        if pid is not None:
            try:
                guests = _guests_of(host.uri)
            except (LabError, libvirt.libvirtError) as exc:
                log.info("%s: %s", record.name, exc)
        hosts.append(HostStatus(record.name, host.uri, pid, guests, simulated_label(record.name), record.tcp_uri,
                                lab_ssh_uri(paths, record.name, state.ssh_port)))
    ssh = SshPaths(paths.ssh_dir)
    return LabStatus(paths.base, tuple(hosts), SshStatus(state.ssh_port, sshd_pid(ssh), str(ssh.client_key),
                                                         str(ssh.known_hosts)))


# --- stop ----------------------------------------------------------------------------------------------


def stop_lab(base_dir: Path | None = None) -> bool:
    """Destroy the lab's guests, stop its daemons, remove its bridges and its directory.

    Returns whether there was anything to stop. Safe to call any number of times, also after a crash.
    """
    paths = LabPaths.for_dir(base_dir)
    if not paths.base.exists() and not lab_processes(paths.hosts_dir):
        return False
    with lab_lock(paths):
        return _stop_locked(paths)


def _host_dirs(paths: LabPaths) -> list[HostPaths]:
    try:
        return [paths.host(p.name) for p in sorted(paths.hosts_dir.iterdir()) if p.is_dir()]
    except OSError:
        return []


def _destroy_guests(host: HostPaths) -> None:
    """Through libvirt, so that it tears down taps and its own state the usual way."""
    if not daemon_running(host):
        return
    try:
        conn = open_host(host.uri)
    except LabError as exc:
        log.info("%s", exc)
        return
    try:
        domains = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(_destroy_one, domains))
        for net in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE):
            net.destroy()
    except libvirt.libvirtError as exc:
        log.info("%s: %s", host.name, exc.get_error_message())
    finally:
        conn.close()


def _destroy_one(dom: libvirt.virDomain) -> None:
    try:
        dom.destroy()
    except libvirt.libvirtError as exc:
        log.info("destroy %s: %s", dom.name(), exc.get_error_message())


def _stop_locked(paths: LabPaths) -> bool:
    hosts = _host_dirs(paths)
    found = bool(hosts) or paths.state_file.exists()
    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        list(pool.map(_destroy_guests, hosts))
    seed = capabilities_seed()
    for host in hosts:
        capcache.collect(host.capabilities, seed)
    found = stop_sshd(SshPaths(paths.ssh_dir)) or found
    daemons = [pid for pid in (daemon_pid(h) for h in hosts) if pid is not None]
    terminate_pids(daemons, STOP_TIMEOUT)
    # Whatever is left: QEMU whose daemon had died, supervisors, leftovers of an earlier crash.
    # QEMU first, so that each supervisor reaps its children and exits on its own.
    leftovers = lab_processes(paths.hosts_dir)
    found = found or bool(leftovers)
    terminate_pids([p.pid for p in leftovers if "python" not in p.name], 2.0)
    survivors = terminate_pids([p.pid for p in lab_processes(paths.hosts_dir)], 2.0)
    ip = find_binary("ip", "/usr/sbin/ip", "/sbin/ip") or "ip"
    for host in hosts:
        remove_bridge(paths.bridge_name(host.name), ip)
    release_z_loops(paths)
    if survivors:
        raise LabError(f"lab processes survived SIGKILL: {', '.join(map(str, survivors))}")
    _remove_tree(paths.base)
    return found


def _remove_tree(base: Path) -> None:
    def onerror(_func: Any, path: str, exc_info: Any) -> None:
        log.warning("cannot remove %s: %s", path, exc_info[1])

    shutil.rmtree(base, onerror=onerror)


def lab_hosts(base_dir: Path | None = None) -> list[LabHost]:
    """The hosts the lab's record lists, running or not (no daemon is started)."""
    paths = LabPaths.for_dir(base_dir)
    state = load_state(paths)
    return [_lab_host(paths, record, state.ssh_port) for record in _shown_order(state.hosts)] if state else []
