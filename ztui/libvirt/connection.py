"""Opening libvirt connections the way virsh does, with errors as one clear line.

libvirt prints its errors to stderr by default; on a TUI screen that corrupts the display, and in a script
it duplicates the message ztui already gives. `install_error_handler` routes them to logging once per
process, before any connection is opened.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import re
import shlex
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import libvirt

from ztui.config import DEFAULT_URI
from ztui.errors import Refused
from ztui.libvirt.detached_ssh import detached_ssh

__all__ = ["DEFAULT_URI", "ConnectError", "open_connection", "open_within", "without_prompts"]

log = logging.getLogger("ztui.libvirt")


ANSWER_TIMEOUT = 5.0
"""Seconds a host has to answer a connection before it is shown (and, in a one-shot command, reported) as
not answering. An open of a reachable host takes a few round trips: over ssh about fifteen, 2 s at 150 ms.
libvirt itself waits for ever for a daemon that accepted the connection and then says nothing. Set
`ZTUI_CONNECT_TIMEOUT` (seconds) for links slower than that."""

_handler_lock = threading.Lock()
_handler_installed = False


def install_error_handler() -> None:
    """Send libvirt's own error reports to logging instead of stderr (idempotent)."""
    global _handler_installed
    with _handler_lock:
        if _handler_installed:
            return

        def _to_log(_ctx: object, err: tuple[object, ...]) -> None:
            # err is (code, domain, message, level, str1, str2, str3, int1, int2)
            message = err[2] if len(err) > 2 else err
            log.debug("libvirt: %s", message)

        libvirt.registerErrorHandler(_to_log, None)
        _handler_installed = True


@dataclass(frozen=True)
class ConnectError(Refused):
    """A connection that could not be opened; `str()` is the one line shown to the user."""

    uri: str
    reason: str
    hint: str = ""

    def __str__(self) -> str:
        return f"cannot connect to {self.uri}: {self.summary}"

    @property
    def summary(self) -> str:
        """The reason and the hint, without the URI (a host's line already names the host)."""
        return f"{self.reason} ({self.hint})" if self.hint else self.reason


def answer_timeout() -> float:
    """`ANSWER_TIMEOUT`, or `$ZTUI_CONNECT_TIMEOUT` when that is a number of seconds from 0.1 to 3600."""
    try:
        value = float(os.environ.get("ZTUI_CONNECT_TIMEOUT", ""))
    except ValueError:
        return ANSWER_TIMEOUT
    return value if 0.1 <= value <= 3600 else ANSWER_TIMEOUT


_read_only: set[str] = set()


def hold_read_only(uris: Iterable[str]) -> None:
    """Open these URIs read-only from now on, whatever a caller asks: hosts saved read-only."""
    _read_only.update(uris)


def is_read_only(uri: str) -> bool:
    """Whether `uri` is held read-only (`hold_read_only`)."""
    return uri in _read_only


class SshTransport(enum.StrEnum):
    """libvirt's ssh transports (`qemu+ssh://`…): `ssh` runs the ssh program, the others are libraries in the
    process that ask only through an open's credential callback."""

    SSH = "ssh"
    LIBSSH = "libssh"
    LIBSSH2 = "libssh2"

    @classmethod
    def of(cls, uri: str) -> SshTransport | None:
        """The ssh transport `uri` names, None for any other URI."""
        transport = urlsplit(uri).scheme.partition("+")[2]
        return cls(transport) if transport in cls._value2member_map_ else None


def without_prompts(uri: str, detach: Callable[[str], str | None] = detached_ssh) -> str:
    """The URI ztui opens for `uri`, so that nothing asks on the terminal ztui draws on, not for a password, a
    passphrase nor a host key; it fails instead, and `ssh_problem` turns the failure into one line with the
    command to run once. Over the ssh transport: `no_tty=1` (libvirt then runs `ssh -T -o BatchMode=yes`),
    and ssh run without a controlling terminal (`command=` the script `detach` gives for the URI's own
    command, `ztui.libvirt.detached_ssh`), so that neither does what ssh starts (a ProxyJump, a
    ProxyCommand). libssh and libssh2 ask only through the credential callback of an open, which ztui never
    gives (`no_tty=1` is added all the same). Any other URI is returned as it is."""
    transport = SshTransport.of(uri)
    if transport is None:
        return uri
    parts = urlsplit(uri)
    # the rest as it was written (decoding and encoding again could change what libvirt reads)
    items = [item for item in parts.query.split("&") if item and item.partition("=")[0] != "no_tty"]
    if transport is SshTransport.SSH:
        script = detach(dict(parse_qsl(parts.query)).get("command", "ssh"))
        if script is not None:
            items = [item for item in items if item.partition("=")[0] != "command"] + [
                f"command={quote(script, safe='/')}"]
    return urlunsplit(parts._replace(query="&".join([*items, "no_tty=1"])))


_given: dict[str, str] = {}


def uri_of(conn: libvirt.virConnect) -> str:
    """The URI a connection was opened for, as the user gave it (libvirt's own `getURI` has the `no_tty` ztui
    adds): the key of everything ztui keeps per host."""
    try:
        opened = str(conn.getURI())
    except libvirt.libvirtError:
        return ""
    return _given.get(opened, opened)


def ssh_problem(uri: str, message: str) -> tuple[str, str] | None:
    """What ssh needs, as (reason, hint with the command to run once), when `message` is the failure of an ssh
    transport (ssh's own stderr, or libvirt's libssh/libssh2 errors); None for anything else. The command is
    ssh as libvirt ran it, without BatchMode and on the user's terminal: it may ask."""
    transport = SshTransport.of(uri)
    if transport is None:
        return None
    parts = urlsplit(uri)
    params = dict(parse_qsl(parts.query))
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    where = f"{host}{port}"
    ssh = [params.get("command", "ssh")] if transport is SshTransport.SSH else ["ssh"]
    if parts.port:
        ssh += ["-p", str(parts.port)]
    if params.get("keyfile"):
        ssh += ["-i", params["keyfile"]]
    known_hosts = params.get("known_hosts", "") if transport is not SshTransport.SSH else ""  # libssh's own
    if known_hosts:
        ssh += ["-o", f"UserKnownHostsFile={known_hosts}"]
    ssh.append(f"{parts.username}@{host}" if parts.username else host)
    once = shlex.join([*ssh, "true"])
    text = message.lower()
    unasked = "no user interaction callback provided" in text  # libssh, libssh2: they would have asked
    if "unknown port 65535" in text:  # ssh's words for a connection through a proxy: a hop failed, not the host
        where = f"the host on the way to {where} (a ProxyJump or ProxyCommand)"
    if "host key verification failed" in text or "no matching host key" in text or (unasked and "host key" in text):
        if "remote host identification has changed" in text or "offending" in text or "differs from" in text:
            said = re.search(r'ssh-keygen -f "([^"]+)" -R "([^"]+)"', message)  # ssh names its own file
            known = said.group(1) if said else known_hosts
            forget = ["ssh-keygen", *(["-f", known] if known else []), "-R",
                      said.group(2) if said else f"[{host}]{port}" if port else host]
            return (f"ssh: the host key of {where} is not the one ssh knows",
                    f"verify the new key with the host's administrator before you replace the old one "
                    f"({shlex.join(forget)})")
        return (f"ssh does not know the host key of {where} yet and ztui never asks",
                f"check it and accept it once: {once}")
    methods = re.search(r"permission denied \(([^)]*)\)", text)
    if (unasked or "too many authentication failures" in text or "authentication failed" in text
            or (methods and not {"password", "keyboard-interactive"} & set(methods.group(1).split(",")))):
        return (f"ssh could not log in to {where} with a key it can use unasked (a key with a passphrase only "
                "from ssh-agent), and ztui never asks",
                f"load the key into ssh-agent (ssh-add), or check that the host accepts it; try: {once}")
    if "permission denied" in text:
        return (f"ssh needs a password or a key passphrase for {where}, and ztui never asks",
                f"load the key into ssh-agent (ssh-add) or use a key without one; try: {once}")
    if "could not resolve hostname" in text or "name or service not known" in text:
        return f"ssh cannot resolve the host name {host}", f"check the URI or DNS; try: {once}"
    if "connection refused" in text and ("ssh:" in text or "port" in text):
        return f"nothing listens for ssh on {where}", f"is sshd running there? try: {once}"
    if "connection timed out" in text or "no route to host" in text or "network is unreachable" in text:
        return f"ssh cannot reach {where}", f"check the network; try: {once}"
    if "nc:" in text or "virt-ssh-helper" in text or "netcat" in text:
        return (f"ssh reached {where}, but libvirt's socket there did not answer",
                "is libvirtd running on that host (and nc or virt-ssh-helper installed)?")
    return None


def _hint(uri: str, code: int, message: str) -> str:
    text = message.lower()
    if ":" not in uri:
        return "neither a saved host (ztui hosts list) nor a URI libvirt knows"
    if "no such file" in text or "failed to connect socket" in text or "connection refused" in text:
        if uri.startswith("qemu"):
            return "is libvirtd running? try 'ztui --lab' for a private lab"
        return "is the daemon running?"
    if "permission denied" in text or "authentication" in text:
        return "run as root or check the socket's permissions and polkit rules"
    if "no connection driver" in text or code == libvirt.VIR_ERR_NO_CONNECT:
        return "check the URI scheme, e.g. qemu:///system or test:///path/to/host.xml"
    if uri.startswith("test://") and ("parse" in text or "xml" in text or "open" in text):
        return "a test URI needs an absolute path to a readable test-driver XML file"
    return ""


def open_connection(uri: str, readonly: bool = False) -> libvirt.virConnect:
    """Open one URI (read-only if asked, or if the host is held read-only) or raise ConnectError with
    libvirt's reason and a hint. Over ssh nothing is ever asked on the terminal (`without_prompts`)."""
    install_error_handler()
    _check_test_uri(uri)
    quiet = without_prompts(uri)
    if quiet != uri:
        _given[quiet] = uri
    try:
        conn = libvirt.openReadOnly(quiet) if readonly or uri in _read_only else libvirt.open(quiet)
    except libvirt.libvirtError as exc:
        message = libvirt_reason(exc)
        ssh = ssh_problem(uri, exc.get_error_message() or message)  # ssh's whole stderr: its first line may be @@@
        if ssh is not None:
            raise ConnectError(uri, *ssh) from None
        raise ConnectError(uri, message, _hint(uri, exc.get_error_code() or 0, message)) from None
    if conn is None:  # pragma: no cover - old bindings returned None instead of raising
        raise ConnectError(uri, "libvirt returned no connection")
    return conn


def not_answering(uri: str, seconds: float) -> ConnectError:
    """The error of a host that did not answer a connection within `seconds`."""
    return ConnectError(uri, f"not answering (no answer within {seconds:g} s)",
                        "the host or its daemon hangs, or the network drops the connection")


def open_within(uri: str, readonly: bool = False, timeout: float | None = None) -> libvirt.virConnect:
    """`open_connection`, given up after `timeout` seconds (`answer_timeout()` by default) with
    `not_answering`: libvirt has no time limit of its own on an open. The open goes on in a thread of its
    own; a connection that still comes after that is closed there."""
    timeout = answer_timeout() if timeout is None else timeout
    done = threading.Event()
    result: list[libvirt.virConnect | ConnectError] = []
    lock = threading.Lock()

    def opening() -> None:
        try:
            got: libvirt.virConnect | ConnectError = open_connection(uri, readonly)
        except ConnectError as exc:
            got = exc
        with lock:
            if done.is_set():  # given up on: nobody takes it
                if not isinstance(got, ConnectError):
                    with contextlib.suppress(libvirt.libvirtError):
                        got.close()
                return
            result.append(got)
            done.set()

    threading.Thread(target=opening, name=f"ztui-open {uri}", daemon=True).start()
    if not done.wait(timeout):
        with lock:
            if not result:
                done.set()
                raise not_answering(uri, timeout)
    got = result[0]
    if isinstance(got, ConnectError):
        raise got
    return got


def _check_test_uri(uri: str) -> None:
    """A test-driver URI names a host file; check it first, because libxml2 would print its own
    warning for a missing file straight to stderr, past libvirt's error handler."""
    parts = urlsplit(uri)
    if parts.scheme != "test" or parts.path in ("", "/default"):
        return
    if not os.path.isabs(parts.path):
        raise ConnectError(uri, "the test driver needs an absolute path", "e.g. test:///abs/path/host.xml")
    if not os.access(parts.path, os.R_OK):
        reason = "no such file" if not os.path.exists(parts.path) else "file is not readable"
        raise ConnectError(uri, f"{reason}: {parts.path}")


def libvirt_reason(exc: libvirt.libvirtError) -> str:
    """libvirt's own message for an error as one line (XML parse errors append the offending lines)."""
    text = (exc.get_error_message() or str(exc)).strip()
    return text.splitlines()[0] if text else "unknown libvirt error"
