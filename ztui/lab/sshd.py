"""The lab's ssh endpoint: an `sshd` of its own, so that every lab host is reachable the way administrators
reach their Z hosts, `qemu+ssh://root@127.0.0.1:PORT/system?socket=…`.

* Loopback only, public-key authentication only, with keys the lab generates: a host key, and a client key
  whose public half is the only authorized key. Nothing of the machine's own ssh set-up is read or changed
  (`/etc/ssh`, `~/.ssh`): the client side is a small wrapper the URI names (`command=`), running `ssh` with
  the lab's known_hosts and without the user's ssh config, so no key the lab makes lands in `~/.ssh`.
* sshd refuses to start without its privilege-separation directory `/run/sshd`, which must not be made on
  the machine. So it runs in a mount namespace of its own whose /run is the lab's `ssh/run` directory; that
  mount is also how its processes are found again (`ztui.lab.daemon.lab_processes`), and it vanishes with
  them.
* libvirt runs `ssh … nc -U SOCKET` for a URI with `socket=` (Debian's netcat-openbsd), reaching the lab
  host's unix socket in the lab directory.

`ztui lab stop` stops it and the lab directory goes with everything in it.
"""

from __future__ import annotations

import logging
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ztui.lab.daemon import find_binary, lab_processes, process_alive, read_pid, terminate_pids
from ztui.lab.errors import LabError

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0
USER = "root"


@dataclass(frozen=True)
class SshPaths:
    """The files of the lab's sshd, all under `root` (`<lab>/ssh`)."""

    root: Path

    @property
    def host_key(self) -> Path:
        return self.root / "host_ed25519_key"

    @property
    def client_key(self) -> Path:
        return self.root / "client_ed25519_key"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def config(self) -> Path:
        return self.root / "sshd_config"

    @property
    def pidfile(self) -> Path:
        return self.root / "sshd.pid"

    @property
    def log(self) -> Path:
        return self.root / "sshd.log"

    @property
    def client(self) -> Path:
        """The `ssh` the lab's URIs run (`command=`): the lab's known_hosts, not the user's config."""
        return self.root / "ssh"

    @property
    def run(self) -> Path:
        """/run inside sshd's mount namespace (its `sshd` subdirectory is the privilege-separation one)."""
        return self.root / "run"


def ssh_uri(port: int, socket: Path, paths: SshPaths, *, known: bool = True) -> str:
    """A lab host as `qemu+ssh://root@127.0.0.1:PORT/system?socket=…&keyfile=…&command=…`. Without `known`,
    plain `ssh` runs instead of the lab's wrapper: the host key is then one the user's ssh has never seen
    (what a newly installed host looks like)."""
    query = f"socket={socket}&keyfile={paths.client_key}"
    if known:
        query += f"&command={paths.client}"
    return f"qemu+ssh://{USER}@127.0.0.1:{port}/system?{query}"


def sshd_config(port: int, paths: SshPaths) -> str:
    """Loopback, keys only, root only, nothing but commands (no tty, no forwarding)."""
    lines = [
        "# written by ztui lab; rewritten on every start",
        "ListenAddress 127.0.0.1",
        f"Port {port}",
        f"HostKey {paths.host_key}",
        f"PidFile {paths.pidfile}",
        f"AuthorizedKeysFile {paths.authorized_keys}",
        "AuthenticationMethods publickey",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        f"AllowUsers {USER}",
        "UsePAM no",
        # the lab lives under /var/tmp, which others may write to: sshd's ownership checks would refuse it
        "StrictModes no",
        "PermitTTY no",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "AllowAgentForwarding no",
        "PermitUserRC no",
        "PrintMotd no",
        "PrintLastLog no",
        # a fleet opens many connections at once (each a process)
        "MaxStartups 200:30:400",
        "MaxSessions 100",
    ]
    return "\n".join(lines) + "\n"


def _keygen(path: Path, comment: str) -> None:
    keygen = find_binary("ssh-keygen")
    if keygen is None:
        raise LabError("the lab's ssh needs ssh-keygen (Debian package openssh-client)")
    if path.exists():
        return
    result = subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise LabError(f"ssh-keygen failed: {result.stderr.strip()}")


def write_files(paths: SshPaths, port: int) -> None:
    """Keys (kept across restarts of the lab), the authorized key, known_hosts, sshd_config, the wrapper."""
    ssh = find_binary("ssh")
    if ssh is None:
        raise LabError("the lab's ssh needs ssh (Debian package openssh-client)")
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.run.mkdir(mode=0o755, exist_ok=True)
    _keygen(paths.host_key, "ztui-lab-host")
    _keygen(paths.client_key, "ztui-lab-client")
    _write(paths.authorized_keys, Path(f"{paths.client_key}.pub").read_text())
    host_key = Path(f"{paths.host_key}.pub").read_text().split()
    _write(paths.known_hosts, f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    _write(paths.config, sshd_config(port, paths))
    options = ["-F", "none", "-o", f"UserKnownHostsFile={paths.known_hosts}", "-o", "GlobalKnownHostsFile=none",
               "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"]
    _write(paths.client, f"#!/bin/sh\n# the lab's ssh: its own known_hosts, none of the user's ssh config\n"
                         f"exec {shlex.join([ssh, *options])} \"$@\"\n", mode=0o700)


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)


def sshd_pid(paths: SshPaths) -> int | None:
    """The running sshd's pid (its pid file, checked against the process)."""
    pid = read_pid(paths.pidfile)
    if pid is None or not process_alive(pid):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return pid if comm == "sshd" else None


def start_sshd(paths: SshPaths, port: int) -> int:
    """Write its files and start the lab's sshd in its own mount namespace (see the module docstring); its
    pid once it listens. A running one is restarted (its port or keys may have changed)."""
    sshd = find_binary("sshd", "/usr/sbin/sshd")
    unshare = find_binary("unshare", "/usr/bin/unshare")
    if sshd is None or unshare is None:
        raise LabError("the lab's ssh endpoint needs sshd (Debian package openssh-server) and unshare (util-linux)")
    stop_sshd(paths)
    write_files(paths, port)
    check = subprocess.run([sshd, "-t", "-f", str(paths.config)], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    if check.returncode != 0 and "privilege separation" not in check.stderr:
        raise LabError(f"sshd refuses its configuration: {check.stderr.strip()}")
    paths.pidfile.unlink(missing_ok=True)
    script = 'mount --bind "$1" /run && mkdir -p -m 0755 /run/sshd && exec "$2" -f "$3" -E "$4"'
    with open(paths.log, "ab") as out:
        result = subprocess.run(
            [unshare, "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh",
             str(paths.run), sshd, str(paths.config), str(paths.log)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd="/", start_new_session=True, timeout=START_TIMEOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        pid = sshd_pid(paths)
        if pid is not None and _listens(port):
            return pid
        time.sleep(0.02)
    detail = paths.log.read_text(errors="replace").strip().splitlines()[-5:] if paths.log.exists() else []
    stop_sshd(paths)
    raise LabError(f"the lab's sshd did not start (exit {result.returncode})", details="\n".join(detail))


def _listens(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stop_sshd(paths: SshPaths) -> bool:
    """Stop the lab's sshd and every session it runs (found by their namespace's mount); whether there was
    any. Idempotent."""
    pids = [p for p in [sshd_pid(paths)] if p is not None]
    if paths.run.exists():  # its namespace binds `run` (under `root`) over /run: sessions of a dead sshd too
        pids += [p.pid for p in lab_processes(paths.root) if p.pid not in pids]
    if not pids:
        return False
    survivors = terminate_pids(pids, 2.0)
    if survivors:
        raise LabError(f"the lab's sshd survived SIGKILL: {', '.join(map(str, survivors))}")
    paths.pidfile.unlink(missing_ok=True)
    return True
