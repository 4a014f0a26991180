"""`libvirtd.conf` and `qemu.conf` for a lab host.

The daemon runs as root but must neither need nor touch anything of the system's: no polkit (unix socket
auth none), no cgroups, no private /dev namespaces, no security driver, no virtlogd (QEMU's output goes to
a plain file). Each daemon gets a distinct `host_uuid` and migration port range, without which libvirt
refuses migration between two daemons on one machine; `migration_host` stays unset because the daemon
refuses a local address there (the URI given to each migration names 127.0.0.1 instead).

Each daemon also listens on `qemu+tcp://127.0.0.1:PORT/system` (loopback only, no authentication: the lab
is this machine's root's), so the remote transport — and everything ztui must not do locally for a remote
host — is exercised without a second machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

ConfValue = str | int | bool | Sequence[str]


def format_conf(values: Mapping[str, ConfValue]) -> str:
    """libvirt's configuration syntax: `key = "string"`, `key = 1`, `key = [ "a", "b" ]`."""

    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["# written by ztui lab; rewritten on every start of this host"]
    for key, value in values.items():
        if isinstance(value, bool):
            rendered = "1" if value else "0"
        elif isinstance(value, int):
            rendered = str(value)
        elif isinstance(value, str):
            rendered = quote(value)
        else:
            rendered = "[ " + ", ".join(quote(v) for v in value) + " ]"
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"


def libvirtd_conf(host_uuid: str, tcp_port: int = 0) -> dict[str, ConfValue]:
    tcp: dict[str, ConfValue] = {
        "listen_tcp": 1, "listen_tls": 0, "listen_addr": "127.0.0.1", "tcp_port": str(tcp_port),
        "auth_tcp": "none",
    } if tcp_port else {"listen_tcp": 0, "listen_tls": 0}
    return {**tcp,
        "unix_sock_group": "root",
        "unix_sock_ro_perms": "0777",
        "unix_sock_rw_perms": "0700",
        "auth_unix_ro": "none",
        "auth_unix_rw": "none",
        "host_uuid": host_uuid,
        "keepalive_interval": 5,
        "keepalive_count": 5,
        "log_outputs": "3:file:/var/log/libvirt/libvirtd.log",
    }


def qemu_conf(migration_ports: tuple[int, int]) -> dict[str, ConfValue]:
    return {
        "user": "root",
        "group": "root",
        "dynamic_ownership": False,
        "remember_owner": False,
        "security_driver": "none",
        "cgroup_controllers": [],
        "namespaces": [],
        "stdio_handler": "file",
        "migration_port_min": migration_ports[0],
        "migration_port_max": migration_ports[1],
        "max_core": 0,
    }


def write_configs(etc: Path, host_uuid: str, migration_ports: tuple[int, int], tcp_port: int = 0) -> None:
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "libvirtd.conf").write_text(format_conf(libvirtd_conf(host_uuid, tcp_port)))
    (etc / "qemu.conf").write_text(format_conf(qemu_conf(migration_ports)))
