"""The process that owns one lab host: a private mount namespace around one `libvirtd`.

Run as a script (`python supervisor.py HOSTDIR LIBVIRTD`) in a new session; it forks once more so that
its caller can reap it at once. It

1. moves itself into a new mount namespace with private propagation, so nothing mounted here is seen by
   the rest of the system and everything vanishes with the last process in the namespace (and into a new
   UTS namespace, so that the host's hostname is its name);
2. bind-mounts the host's private directories over libvirt's system paths (`/etc/libvirt`, `/run/libvirt`,
   ...), so an unmodified `libvirtd` reads its own configuration and keeps its state in the lab directory,
   never in the system's;
3. for a host that stands for another machine (the simulated Z host), gives the namespace its own /dev:
   a copy of the machine's (device nodes re-made, directories such as /dev/pts bound) plus block device
   nodes under the names that host's disks have (`/dev/disk/by-path/ccw-0.0.5c01` → a loop device), as
   listed in `BLOCK_NODES` in the host's directory; nothing of it is seen outside the namespace;
4. becomes a child subreaper and runs `libvirtd` as its child. QEMU daemonizes away from libvirtd and is
   re-parented to the nearest subreaper: without one, PID 1 reaps it and every guest destroy waits ~2 s.

It stays alive after libvirtd exits for as long as any QEMU it adopted runs, reaping them; a restarted
daemon (a new supervisor) reconnects to those guests through the monitor sockets in the lab directory.

Only the standard library is used: the file is run by path, without the ztui package on `sys.path`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import stat
import sys
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_CHILD_SUBREAPER = 36

#: lab host subdirectory -> the system path it replaces inside the namespace
BIND_MOUNTS: tuple[tuple[str, str], ...] = (
    ("etc", "/etc/libvirt"),
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("cache", "/var/cache/libvirt"),
    ("log", "/var/log/libvirt"),
)

#: parts of the real /run that stay visible inside the namespace
RUN_KEEP = ("/run/udev",)

#: in the host directory: `[{"path": "/dev/…", "major": 7, "minor": 3}, …]`, block nodes of a private /dev
BLOCK_NODES = "block-nodes.json"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(),
                       fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                       data.encode() if data else None),
           f"mount {source} {target}")


def private_dev(hostdir: Path) -> None:
    """A /dev of the namespace's own, when the host directory lists block nodes (see the module's
    docstring); the machine's /dev is untouched."""
    spec = hostdir / BLOCK_NODES
    if not spec.exists():
        return
    nodes = json.loads(spec.read_text())
    real = os.open("/dev", os.O_RDONLY | os.O_DIRECTORY)
    old = f"/proc/self/fd/{real}"
    _mount("tmpfs", "/dev", "tmpfs", 0, "mode=755")
    for entry in os.scandir(old):
        source, target = f"{old}/{entry.name}", f"/dev/{entry.name}"
        st = os.lstat(source)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(source), target)
        elif stat.S_ISDIR(st.st_mode):
            os.mkdir(target, stat.S_IMODE(st.st_mode))
            _mount(source, target, None, MS_BIND | MS_REC)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            os.mknod(target, st.st_mode, st.st_rdev)
        else:  # sockets (/dev/log) and plain files: the same object, bound
            with open(target, "w"):
                pass
            _mount(source, target, None, MS_BIND)
    os.close(real)
    for node in nodes:
        path = str(node["path"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mknod(path, stat.S_IFBLK | 0o660, os.makedev(int(node["major"]), int(node["minor"])))


def enter_private_namespace(hostdir: Path) -> None:
    """Unshare the mount namespace and put the host's directories in place of libvirt's."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWUTS), "unshare(CLONE_NEWNS|CLONE_NEWUTS)")
    # Its own hostname too, so that each lab host reports itself (virsh hostname: zlab-a).
    name = hostdir.name.encode()
    _check(_libc.sethostname(name, len(name)), "sethostname")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # An empty /run of our own: libvirtd writes more than /run/libvirt (its pid file, locks), and none of
    # that may land next to a system libvirtd's files. udev's database stays visible for the node devices.
    keep = [(os.open(path, os.O_RDONLY | os.O_DIRECTORY), path) for path in RUN_KEEP if os.path.isdir(path)]
    _mount("tmpfs", "/run", "tmpfs", 0)
    for fd, path in keep:
        os.makedirs(path)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
        os.close(fd)
    os.mkdir("/run/libvirt")
    os.mkdir("/run/lock")  # /var/lock: libvirtd locks a guest console's pty there (`virsh console`)
    for sub, target in BIND_MOUNTS:  # the lab directory is never under /run (see paths.py)
        _mount(str(hostdir / sub), target, None, MS_BIND)
    private_dev(hostdir)


def supervise(hostdir: Path, libvirtd: str) -> int:
    """Run libvirtd as a child and reap every adopted process until none is left."""
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - replaced by exec
        # --listen: the TCP socket libvirtd.conf asks for (loopback only; none when listen_tcp = 0)
        os.execv(libvirtd, [libvirtd, "--listen", "-f", "/etc/libvirt/libvirtd.conf", "-p",
                            "/run/libvirt/libvirtd.pid"])
    (hostdir / "libvirtd.child").write_text(f"{pid}\n")
    daemon_alive = True

    def forward(signum: int, _frame: object) -> None:
        if daemon_alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while True:
        try:
            child, wstatus = os.wait()
        except ChildProcessError:
            return status
        if child == pid:
            daemon_alive = False
            status = os.waitstatus_to_exitcode(wstatus)
            print(f"supervisor: libvirtd {pid} exited with {status}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: supervisor.py HOSTDIR LIBVIRTD", file=sys.stderr)
        return 2
    hostdir = Path(argv[1]).resolve()
    os.chdir("/")
    enter_private_namespace(hostdir)  # failures here end this process with a traceback in the log
    # Detach: the caller waits for this first process only (and so reaps it), the supervisor proper is
    # adopted by init. Otherwise it would stay a zombie of a long-lived caller (a test session) after exit.
    child = os.fork()
    if child:
        (hostdir / "supervisor.pid").write_text(f"{child}\n")
        return 0
    return supervise(hostdir, argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
