"""Nothing libvirt's ssh starts can ask on ztui's terminal: ssh runs in a session of its own, without a
controlling terminal, so that what a ProxyJump's ssh or a ProxyCommand would ask there fails instead. Real
libvirt and a real terminal (a pty); the ssh is a script that tries to ask as they would."""

from __future__ import annotations

import os
import pty
import shutil
import sys
from pathlib import Path

import pytest

from tests.pty_text import read_to_end
from ztui.libvirt.connection import ssh_problem, without_prompts
from ztui.libvirt.detached_ssh import detached_ssh, script_text


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """`python -m ztui ARGS` with a pty as its controlling terminal: its exit status and what the pty showed."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(sys.executable, [sys.executable, "-m", "ztui", *args], {**os.environ, **env})
    shown = read_to_end(fd)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


@pytest.mark.skipif(shutil.which("setsid") is None, reason="no setsid (util-linux)")
def test_what_ssh_starts_cannot_ask_on_the_terminal(tmp_path: Path) -> None:
    reached = tmp_path / "reached"
    ssh = tmp_path / "ssh"  # asks on /dev/tty, as a ProxyJump host's ssh asks "yes/no" for a key it never saw
    ssh.write_text(f"#!/bin/sh\nif (printf 'continue connecting (yes/no)? ' >/dev/tty) 2>/dev/null; then "
                   f"touch {reached}; read answer </dev/tty; fi\n"
                   "echo 'ssh: connect to host lpar9 port 22: Connection refused' >&2\nexit 255\n")
    ssh.chmod(0o755)
    status, shown = _run_on_a_terminal(["tree", "-c", f"qemu+ssh://root@lpar9/system?command={ssh}"],
                                       {"XDG_STATE_HOME": str(tmp_path / "state"), "ZTUI_CONNECT_TIMEOUT": "10"})
    assert not reached.exists() and "yes/no" not in shown
    assert status == 1
    assert shown.strip().splitlines() == [
        f"ztui: cannot connect to qemu+ssh://root@lpar9/system?command={ssh}: nothing listens for ssh on lpar9 "
        f"(is sshd running there? try: {ssh} root@lpar9 true)"]


def test_the_ssh_libvirt_runs_is_the_command_of_the_uri_in_a_session_of_its_own(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    script = detached_ssh("/opt/my ssh")
    assert script is not None and Path(script).parent == tmp_path / "ztui" / "ssh"
    assert Path(script).read_text() == script_text("/opt/my ssh", str(shutil.which("setsid")))
    assert "exec " in Path(script).read_text() and "-w '/opt/my ssh' \"$@\"" in Path(script).read_text()
    assert Path(script).stat().st_mode & 0o777 == 0o700
    shims = {"ssh": "/state/ztui/ssh/ssh-1", "/opt/my ssh": "/state/ztui/ssh/ssh 2"}
    assert (without_prompts("qemu+ssh://root@lpar2/system", shims.get) ==
            "qemu+ssh://root@lpar2/system?command=/state/ztui/ssh/ssh-1&no_tty=1")
    assert (without_prompts("qemu+ssh://lpar2/system?command=/opt/my%20ssh&keyfile=/k&no_tty=0", shims.get) ==
            "qemu+ssh://lpar2/system?keyfile=/k&command=/state/ztui/ssh/ssh%202&no_tty=1")
    # without the script (no setsid, a state directory that cannot take it): BatchMode alone
    assert without_prompts("qemu+ssh://lpar2/system", lambda _: None) == "qemu+ssh://lpar2/system?no_tty=1"
    # libssh and libssh2 start no program
    assert without_prompts("qemu+libssh2://lpar2/system", shims.get) == "qemu+libssh2://lpar2/system?no_tty=1"


# libvirt 9.0's errors, as ztui got them from the lab's sshd (the ssh transport's carry ssh's stderr)
LIBSSH_UNKNOWN_KEY = "libssh transport error: No user interaction callback provided: Can't verify the session host key"
LIBSSH2_PASSPHRASE = ("SSH transport error: No user interaction callback provided: Can't retrieve private key "
                      "passphrase")
LIBSSH_REJECTED = ("authentication failed: All provided authentication methods with credentials were rejected by "
                   "the server")
LIBSSH2_CHANGED_KEY = ("authentication failed: !!! SSH HOST KEY VERIFICATION FAILED !!!: Identity of host "
                       "'127.0.0.1:57087' differs from stored identity. Please verify the new host key 'AAAAC3Nz' to "
                       "avoid possible man in the middle attack. The key is stored in '/k/known'.")
SSH_CHANGED_KEY = (
    "Cannot recv data: @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n@    WARNING: REMOTE HOST "
    "IDENTIFICATION HAS CHANGED!     @\r\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\nOffending "
    "ED25519 key in /k/known:1\r\n  remove with:\r\n  ssh-keygen -f \"/k/known\" -R \"[127.0.0.1]:57087\"\r\nHost key "
    "for [127.0.0.1]:57087 has changed and you have requested strict checking.\r\nHost key verification failed.: "
    "Connection reset by peer")
SSH_NO_KEY_ACCEPTED = "Cannot recv data: root@127.0.0.1: Permission denied (publickey).: Connection reset by peer"
SSH_PASSWORD = "Cannot recv data: root@lpar1: Permission denied (publickey,password).: Connection reset by peer"
SSH_JUMP_UNKNOWN_KEY = ("Cannot recv data: Host key verification failed.\r\nkex_exchange_identification: Connection "
                        "closed by remote host\r\nConnection closed by UNKNOWN port 65535: Connection reset by peer")


def test_what_ssh_needs_is_said_for_each_transport() -> None:
    """One line each: what ssh needs, and the ssh command to run once (with the libssh transports' own
    known_hosts file); never libvirt's "no user interaction callback", nor a hint about polkit."""
    libssh = "qemu+libssh://root@127.0.0.1:57087/system?keyfile=/k/id&known_hosts=/k/known"
    libssh2 = libssh.replace("libssh:", "libssh2:")
    assert ssh_problem(libssh, LIBSSH_UNKNOWN_KEY) == (
        "ssh does not know the host key of 127.0.0.1:57087 yet and ztui never asks",
        "check it and accept it once: ssh -p 57087 -i /k/id -o UserKnownHostsFile=/k/known root@127.0.0.1 true")
    unasked = ("ssh could not log in to 127.0.0.1:57087 with a key it can use unasked (a key with a passphrase "
               "only from ssh-agent), and ztui never asks")
    for message in (LIBSSH2_PASSPHRASE, LIBSSH_REJECTED):
        assert ssh_problem(libssh2, message) == (unasked, "load the key into ssh-agent (ssh-add), or check that the "
                                                 "host accepts it; try: ssh -p 57087 -i /k/id -o "
                                                 "UserKnownHostsFile=/k/known root@127.0.0.1 true")
    changed = ("ssh: the host key of 127.0.0.1:57087 is not the one ssh knows",
               "verify the new key with the host's administrator before you replace the old one "
               "(ssh-keygen -f /k/known -R '[127.0.0.1]:57087')")
    assert ssh_problem(libssh2, LIBSSH2_CHANGED_KEY) == changed
    assert ssh_problem("qemu+ssh://root@127.0.0.1:57087/system", SSH_CHANGED_KEY) == changed
    assert ssh_problem("qemu+ssh://root@127.0.0.1:57087/system", SSH_NO_KEY_ACCEPTED)[0] == unasked  # type: ignore[index]
    assert ssh_problem("qemu+ssh://root@lpar1/system", SSH_PASSWORD) == (
        "ssh needs a password or a key passphrase for lpar1, and ztui never asks",
        "load the key into ssh-agent (ssh-add) or use a key without one; try: ssh root@lpar1 true")
    assert ssh_problem("qemu+tcp://lpar1/system", SSH_PASSWORD) is None
    # through a ProxyJump: the key ssh does not know is a hop's (running the command once asks for it)
    assert ssh_problem("qemu+ssh://root@lpar1/system", SSH_JUMP_UNKNOWN_KEY) == (
        "ssh does not know the host key of the host on the way to lpar1 (a ProxyJump or ProxyCommand) yet and "
        "ztui never asks", "check it and accept it once: ssh root@lpar1 true")


def test_a_script_that_went_away_is_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    script = detached_ssh("ssh-again")
    assert script is not None
    Path(script).unlink()  # the state directory cleaned while a TUI runs
    assert detached_ssh("ssh-again") == script and Path(script).is_file()
