"""The IBM Z sysfs attributes ztui reads, in the kernel's own words: one reader and one writer each.

The Linux kernel writes every attribute in one exact format (a `printf` format in drivers/s390 and
arch/s390), and those formats have traps: `pimpampom` is three hex bytes *with* spaces, `chpids` ends in
a space, AP queues are `07.0038` with no `0x`, `ap_functions` is upper-case, an unset `driver_override` is
`(null)`, the FBA discipline is `"FBA "`, an offline DASD's status is `unknown`, a DASD without a uid has
an empty one. A reader written from memory, and a simulator written by the same hand, agree with each
other and not with the kernel. So each attribute is described here once — its format, a pattern of the
exact text, the examples of the format table — and read and written only through that description:
`ztui.host.udev` reads sysfs with it, the simulated z16 (`ztui.lab.zhost`) and the test fixtures write
with it, and the consumers ask the reader. A test holds every writer to its pattern and every reader to
the table's examples.

A record's facts keep the kernel's text (less the one newline sysfs ends a value with): a saved snapshot
says what the host said. A value that is not in the kernel's format reads as None (unknown, never a
guess), and `report_misreads` says so once per host and attribute (one log line, not one per device).

Pure: imports only the model. The sections follow the format table (kernel 6.12, s390-tools): §1 channel
subsystem, §2 DASD, §3 zFCP, §4 qeth, §5 AP, §7 zPCI, §8 Secure Execution; `Firmware` holds the
`/sys/firmware/dump` and `/sys/firmware/ipl` files (arch/s390/kernel/ipl.c).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ztui.model import HostDevice, HostDeviceKind

__all__ = [
    "ApCard",
    "ApMatrix",
    "ApQueue",
    "Attr",
    "CcwDevice",
    "CcwGroup",
    "ChannelPath",
    "Dasd",
    "DasdUid",
    "FcHost",
    "Firmware",
    "MdevTypes",
    "NvmeNamespace",
    "PathMasks",
    "ScsiId",
    "Subchannel",
    "UltraVisor",
    "VfioAp",
    "Zfcp",
    "ZfcpLun",
    "Zpci",
    "all_attributes",
    "attribute_of",
    "report_misreads",
]

log = logging.getLogger("ztui.zsysfs")

T = TypeVar("T")


@dataclass(frozen=True)
class Attr(Generic[T]):
    """One sysfs attribute: its file name, where the format table describes it, the kernel's format, the
    exact text as a pattern (without the final newline), the table's examples, and how a value is read
    from that text and written back into it."""

    name: str
    row: str  # `§1.1 Subchannel` (and the kernel source when it is not in the table)
    format: str  # the kernel's printf format or its literal values, as a reader is told
    pattern: re.Pattern[str]
    examples: tuple[tuple[str, T], ...]
    parse: Callable[[re.Match[str]], T]
    render: Callable[[T], str]
    zero_bytes: bool = False  # the kernel writes nothing at all, not even a newline, for an empty value

    def read(self, text: str | None) -> T | None:
        """The value of the kernel's text (a trailing newline is allowed, as the file has it); None when
        there is no text or it is not in the kernel's format."""
        if text is None:
            return None
        match = self.pattern.fullmatch(text[:-1] if text.endswith("\n") else text)
        return self.parse(match) if match is not None else None

    def matches(self, text: str) -> bool:
        return self.pattern.fullmatch(text[:-1] if text.endswith("\n") else text) is not None

    def write(self, value: T) -> str:
        """The text the kernel writes for `value`, without the newline sysfs ends it with."""
        return self.render(value)

    def file_text(self, value: T) -> str:
        """The file's whole content: the text and its newline, or 0 bytes where the kernel writes none."""
        text = self.render(value)
        return "" if self.zero_bytes and not text else text + "\n"


def _attr(name: str, row: str, fmt: str, pattern: str, examples: tuple[tuple[str, T], ...],
          parse: Callable[[re.Match[str]], T], render: Callable[[T], str], *, zero_bytes: bool = False) -> Attr[T]:
    return Attr(name, row, fmt, re.compile(pattern), examples, parse, render, zero_bytes)


def _whole(m: re.Match[str]) -> str:
    return m.group(0)


def _same(value: str) -> str:
    return value


def _word(name: str, row: str, words: tuple[str, ...], *, example: str = "") -> Attr[str]:
    """An attribute whose value is one of a few literal words (`good`, `no path`, …)."""
    return _attr(name, row, " / ".join(f"`{w}`" for w in words), "|".join(re.escape(w) for w in words),
                 ((example or words[0], example or words[0]),), _whole, _same)


def _flag(name: str, row: str, *, fmt: str = '"%d\\n"') -> Attr[bool]:
    """A 0/1 attribute."""
    return _attr(name, row, fmt, "[01]", (("1", True), ("0", False)), lambda m: m.group(0) == "1",
                 lambda v: "1" if v else "0")


def _decimal(name: str, row: str, example: int, *, fmt: str = '"%d\\n"') -> Attr[int]:
    return _attr(name, row, fmt, "[0-9]+", ((str(example), example),), lambda m: int(m.group(0)), str)


def _hex0x(name: str, row: str, digits: int, example: int, *, upper: bool = False) -> Attr[int]:
    """`0x` and a fixed number of hex digits (`"0x%08x\\n"`, or `%08X` upper-case)."""
    fmt = f'"0x%0{digits}{"X" if upper else "x"}\\n"'
    hexdigits = "0-9A-F" if upper else "0-9a-f"
    return _attr(name, row, fmt, f"0x[{hexdigits}]{{{digits}}}", ((_fixed_hex(example, digits, upper), example),),
                 lambda m: int(m.group(0), 16), lambda v: _fixed_hex(v, digits, upper))


def _fixed_hex(value: int, digits: int, upper: bool) -> str:
    text = f"{value:0{digits}x}"
    return "0x" + (text.upper() if upper else text)


def _text(name: str, row: str, example: str, *, fmt: str = '"%s\\n"') -> Attr[str]:
    """Free text on one line (a card type, an interface name)."""
    return _attr(name, row, fmt, "[^\n]+", ((example, example),), _whole, _same)


# --- values with a structure -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathMasks:
    """A subchannel's path masks: installed (PIM), available (PAM), operational (POM). Bit 0x80 is path
    position 0, the first of the eight `chpids`."""

    pim: int
    pam: int
    pom: int


@dataclass(frozen=True, slots=True)
class DasdUid:
    """A DASD's `uid`: vendor.serial.ssid.ua[.vduit]. `ua` is the unit address, the base's for a classic
    PAV alias, `xx` for a HyperPAV alias. The empty uid (FBA, DIAG, an offline or unknown device) is false."""

    vendor: str = ""
    serial: str = ""
    ssid: str = ""
    ua: str = ""
    vduit: str = ""

    def __bool__(self) -> bool:
        return bool(self.vendor)

    @property
    def text(self) -> str:
        if not self:
            return ""
        return f"{self.vendor}.{self.serial}.{self.ssid}.{self.ua}" + (f".{self.vduit}" if self.vduit else "")

    @property
    def lcu(self) -> str:
        """The logical control unit (`IBM.750000000DXP71.5c00`): a HyperPAV alias serves any base of it."""
        return f"{self.vendor}.{self.serial}.{self.ssid}" if self else ""

    @property
    def hyperpav(self) -> bool:
        """The uid of a HyperPAV alias (its unit address is `xx`)."""
        return self.ua == "xx"


@dataclass(frozen=True, slots=True)
class ApMatrix:
    """What a vfio-ap mdev's `matrix` (or `guest_matrix`) shows: assigned adapters and usage domains, and
    the queues (APQNs) they make. An adapter assigned without any domain gives `AA.` lines, a domain
    without any adapter `.DDDD` lines: both are assignments, but no queue."""

    adapters: frozenset[int] = frozenset()
    domains: frozenset[int] = frozenset()
    queues: frozenset[tuple[int, int]] = frozenset()

    def queue_ids(self) -> list[str]:
        return [apqn(a, d) for a, d in sorted(self.queues)]


def apqn(adapter: int, domain: int) -> str:
    """An AP queue's name as the kernel, vfio_ap and lszcrypt write it: `07.0038` (`"%02x.%04x"`)."""
    return f"{adapter:02x}.{domain:04x}"


def ap_card(adapter: int) -> str:
    """An AP card's name as the kernel writes it: `card07` (`"card%02x"`)."""
    return f"card{adapter:02x}"


_MATRIX_LINE = r"(?:[0-9a-f]{2}\.[0-9a-f]{4}|[0-9a-f]{2}\.|\.[0-9a-f]{4})"


def _parse_matrix(m: re.Match[str]) -> ApMatrix:
    adapters: set[int] = set()
    domains: set[int] = set()
    queues: set[tuple[int, int]] = set()
    for line in m.group(0).split("\n"):
        if not line:
            continue
        a_text, _, d_text = line.partition(".")
        adapter = int(a_text, 16) if a_text else None
        domain = int(d_text, 16) if d_text else None
        if adapter is not None:
            adapters.add(adapter)
        if domain is not None:
            domains.add(domain)
        if adapter is not None and domain is not None:
            queues.add((adapter, domain))
    return ApMatrix(frozenset(adapters), frozenset(domains), frozenset(queues))


def _render_matrix(matrix: ApMatrix) -> str:
    """vfio_ap_mdev_matrix_show: one `AA.DDDD` line per queue; adapters alone (`AA.`) when no domain is
    assigned, domains alone (`.DDDD`) when no adapter is; nothing at all when neither is."""
    if matrix.adapters and matrix.domains:
        lines = [apqn(a, d) for a in sorted(matrix.adapters) for d in sorted(matrix.domains)]
    elif matrix.adapters:
        lines = [f"{a:02x}." for a in sorted(matrix.adapters)]
    else:
        lines = [f".{d:04x}" for d in sorted(matrix.domains)]
    return "".join(f"{line}\n" for line in lines)[:-1]


def _matrix_attr(name: str) -> Attr[ApMatrix]:
    return _attr(name, "§5.4 vfio_ap mdev", '`"%02lx.%04lx\\n"` per APQN, `"%02lx.\\n"` / `".%04lx\\n"` alone, '
                 "or 0 bytes", f"(?:{_MATRIX_LINE}(?:\n{_MATRIX_LINE})*\n?)?",
                 (("05.0012\n05.0013\n", ApMatrix(frozenset({5}), frozenset({0x12, 0x13}),
                                                 frozenset({(5, 0x12), (5, 0x13)}))),
                  ("0c.\n", ApMatrix(frozenset({0xC}))), (".0038\n", ApMatrix(domains=frozenset({0x38}))),
                  ("", ApMatrix())),
                 _parse_matrix, _render_matrix, zero_bytes=True)


def _render_domains(domains: frozenset[int]) -> str:
    return "\n".join(f"{d:04x}" for d in sorted(domains))


# --- §1 channel subsystem --------------------------------------------------------------------------------

_BUSID = r"0\.[0-3]\.[0-9a-f]{4}"


class Subchannel:
    """§1.1 `/sys/bus/css/devices/0.x.xxxx/` (drivers/s390/cio/css.c)."""

    type = _attr("type", "§1.1 Subchannel", '"%01x\\n"', "[0-9a-f]", (("0", 0),), lambda m: int(m.group(0), 16),
                 lambda v: f"{v:01x}")
    chpids: Attr[tuple[int, ...]] = _attr("chpids", "§1.1 Subchannel", '8x "%02x " then "\\n" (a trailing space)',
                   "((?:[0-9a-f]{2} ){7}[0-9a-f]{2}) ?",
                   (("4a 4b 00 00 00 00 00 00 ", (0x4A, 0x4B, 0, 0, 0, 0, 0, 0)),),
                   lambda m: tuple(int(c, 16) for c in m.group(1).split()),
                   lambda v: "".join(f"{c:02x} " for c in (list(v) + [0] * 8)[:8]))
    pimpampom = _attr("pimpampom", "§1.1 Subchannel", '"%02x %02x %02x\\n"',
                      "([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2})", (("c0 c0 ff", PathMasks(0xC0, 0xC0, 0xFF)),),
                      lambda m: PathMasks(*(int(g, 16) for g in m.groups())),
                      lambda v: f"{v.pim:02x} {v.pam:02x} {v.pom:02x}")
    dev_busid = _attr("dev_busid", "§1.1 Subchannel", '"0.%x.%04x\\n" or "none\\n"', f"{_BUSID}|none",
                      (("0.0.e000", "0.0.e000"), ("none", "")), lambda m: "" if m.group(0) == "none" else m.group(0),
                      lambda v: v or "none")
    driver_override = _attr("driver_override", "§1.1 Subchannel", '"%s\\n", `(null)` when unset',
                            r"\(null\)|[A-Za-z0-9_.-]*", (("(null)", ""), ("vfio_ccw", "vfio_ccw")),
                            lambda m: "" if m.group(0) == "(null)" else m.group(0), lambda v: v or "(null)")


class ChannelPath:
    """§1.3 `/sys/devices/css0/chp0.xx/` (drivers/s390/cio/chp.c); the CHPID is only in the name."""

    ROW = "§1.3 Channel path"
    status = _attr("status", ROW, '"online\\n" / "offline\\n"', "online|offline", (("online", True),
                                                                                    ("offline", False)),
                   lambda m: m.group(0) == "online", lambda v: "online" if v else "offline")
    configure = _decimal("configure", ROW, 1)
    type = _attr("type", ROW, '"%x\\n" (one byte)', "0|[1-9a-f][0-9a-f]?", (("1b", 0x1B), ("11", 0x11), ("24", 0x24)),
                 lambda m: int(m.group(0), 16), lambda v: f"{v:x}")
    chid = _attr("chid", ROW, '"%04x\\n", or 0 bytes', "(?:[0-9a-f]{4})?", (("0390", "0390"), ("", "")),
                 _whole, _same, zero_bytes=True)
    chid_external = _attr("chid_external", ROW, '"%x\\n" of one bit, or 0 bytes', "[01]?", (("1", "1"), ("", "")),
                          _whole, _same, zero_bytes=True)


#: chp `configure` values (chp.h CHP_STATUS_*)
CHP_CONFIGURE = {0: "standby", 1: "configured", 2: "reserved", 3: "not recognized"}


def chp_name(cssid: int, chpid: int) -> str:
    """A channel path's sysfs directory (`chp0.4a`, `"chp%x.%02x"`)."""
    return f"chp{cssid:x}.{chpid:02x}"


class CcwDevice:
    """§1.4 `/sys/bus/ccw/devices/0.0.xxxx/` (drivers/s390/cio/device.c)."""

    ROW = "§1.4 CCW device"
    online = _flag("online", ROW, fmt='"1\\n" / "0\\n"')
    cutype = _attr("cutype", ROW, '"%04x/%02x\\n"', "[0-9a-f]{4}/[0-9a-f]{2}", (("3990/e9", "3990/e9"),
                                                                               ("1731/01", "1731/01")),
                   _whole, _same)
    devtype = _attr("devtype", ROW, '"%04x/%02x\\n" or "n/a\\n"', "[0-9a-f]{4}/[0-9a-f]{2}|n/a",
                    (("3390/0c", "3390/0c"), ("1732/01", "1732/01"), ("n/a", "")),
                    lambda m: "" if m.group(0) == "n/a" else m.group(0), lambda v: v or "n/a")
    availability = _word("availability", ROW, ("good", "boxed", "no path", "no device"))


class Dasd:
    """§2 DASD attributes of a ccw device bound to a DASD driver (drivers/s390/block/dasd_devmap.c)."""

    ROW = "§2 DASD"
    status = _word("status", ROW, ("new", "detected", "basic", "unformatted", "ready", "online", "no stat",
                                   "unknown"), example="online")
    discipline = _attr("discipline", ROW, '"%s\\n" of the discipline name (`ECKD`, `FBA ` with its space, '
                       "`DIAG`), or `none`", "ECKD|FBA ?|DIAG|none",
                       (("ECKD", "ECKD"), ("FBA ", "FBA"), ("DIAG", "DIAG"), ("none", "")),
                       lambda m: "" if m.group(0) == "none" else m.group(0).rstrip(),
                       lambda v: {"FBA": "FBA ", "": "none"}.get(v, v))
    alias = _flag("alias", ROW, fmt='"0\\n" / "1\\n"')
    readonly = _flag("readonly", ROW, fmt='"1\\n" / "0\\n"')
    use_diag = _flag("use_diag", ROW, fmt="0/1")
    raw_track_access = _flag("raw_track_access", ROW, fmt="0/1")
    ese = _flag("ese", ROW)
    uid = _attr("uid", ROW, '"%s.%s.%04x.%s%s%s\\n" = vendor.serial.ssid.ua[.vduit]; a bare "\\n" for FBA, DIAG, '
                "offline or unknown devices",
                r"(?:([A-Za-z0-9 ]{3})\.([A-Za-z0-9]{14})\.([0-9a-f]{4})\.([0-9a-f]{2}|xx)(?:\.([0-9a-f]{32}))?)?",
                (("IBM.75000000ABCD1F.1200.0a", DasdUid("IBM", "75000000ABCD1F", "1200", "0a")),
                 ("IBM.75000000ABCD1F.1200.xx", DasdUid("IBM", "75000000ABCD1F", "1200", "xx")),
                 ("", DasdUid())),
                lambda m: DasdUid(*(g or "" for g in m.groups())), lambda v: v.text)


# --- §3 zFCP and the FC transport ------------------------------------------------------------------------


class Zfcp:
    """§3.1 an FCP channel (`/sys/bus/ccw/drivers/zfcp/0.0.1900/`, drivers/s390/scsi/zfcp_sysfs.c)."""

    ROW = "§3.1 zFCP adapter"
    peer_wwpn = _hex0x("peer_wwpn", ROW, 16, 0)
    in_recovery = _flag("in_recovery", ROW)
    failed = _flag("failed", ROW, fmt='"1\\n" / "0\\n"')


class ZfcpLun:
    """§3.4 a SCSI device behind zFCP (`/sys/bus/scsi/devices/H:C:T:L/`)."""

    ROW = "§3.4 SCSI device"
    hba_id = _attr("hba_id", ROW, '"%s\\n" (the adapter bus-ID)', _BUSID, (("0.0.1900", "0.0.1900"),), _whole, _same)
    wwpn = _hex0x("wwpn", ROW, 16, 0x500507630300C562)
    fcp_lun = _hex0x("fcp_lun", ROW, 16, 0x4010400000000000)
    zfcp_access_denied = _flag("zfcp_access_denied", ROW)
    zfcp_failed = _flag("zfcp_failed", ROW)
    zfcp_in_recovery = _flag("zfcp_in_recovery", ROW)


#: `0x%x` / `0x%llx`: no leading zeros (the same number zero-padded is another notation, not the kernel's)
_UNPADDED = "0x(?:0|[1-9a-f][0-9a-f]*)"


class ScsiId:
    """The device identifier the kernel reads from a SCSI device's VPD page 0x83, `wwid` on the SCSI device
    (drivers/scsi/scsi_sysfs.c `sdev_show_wwid` → scsi_lib.c `scsi_vpd_lun_id`; not in the table): the
    descriptor it prefers, NAA as `naa.` and 8 or 16 bytes of lower-case hex, EUI-64 as `eui.` and 8, 12 or
    16 bytes, T10 as `t10.` and the escaped text, a SCSI name string as it is; 0 bytes without one."""

    ROW = "§3.4 SCSI device (scsi_sysfs.c sdev_show_wwid)"
    wwid = _attr("wwid", ROW, '`"naa.%16phN"` / `"naa.%8phN"`, `"eui.%8phN"` (12, 16 bytes too), `"t10.%*pE"`, '
                 "a SCSI name string; 0 bytes without one",
                 r"(?:naa\.(?:[0-9a-f]{32}|[0-9a-f]{16})|eui\.(?:[0-9a-f]{32}|[0-9a-f]{24}|[0-9a-f]{16})"
                 r"|t10\.[^\n]+|(?!naa\.|eui\.|t10\.)[^\n]+)?",
                 (("naa.6005076303ffc5620000000000001000", "naa.6005076303ffc5620000000000001000"), ("", "")),
                 _whole, _same, zero_bytes=True)


class NvmeNamespace:
    """An NVMe namespace's `wwid` (`/sys/block/nvme0n1/wwid`, drivers/nvme/host/sysfs.c `wwid_show`; not in
    the table): its UUID, else its NGUID, else its EUI-64, else vendor, serial, model and namespace id."""

    ROW = "NVMe namespace (nvme/host/sysfs.c wwid_show)"
    wwid = _attr("wwid", ROW, '`"uuid.%pU"`, `"eui.%16phN"` (NGUID), `"eui.%8phN"` (EUI-64), '
                 '`"nvme.%04x-%*phN-%*phN-%08x"`',
                 r"uuid\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|eui\.(?:[0-9a-f]{32}|[0-9a-f]{16})"
                 r"|nvme\.[0-9a-f]{4}-[0-9a-f]*-[0-9a-f]*-[0-9a-f]{8}",
                 (("eui.0025388b91b2c1a4", "eui.0025388b91b2c1a4"),
                  ("uuid.5f3c4a1e-2b6d-4e8f-9a0b-1c2d3e4f5a6b", "uuid.5f3c4a1e-2b6d-4e8f-9a0b-1c2d3e4f5a6b")),
                 _whole, _same)


def _wwn_unpadded(name: str, row: str, example: int) -> Attr[int]:
    return _attr(name, row, '"0x%llx\\n" (not padded)', _UNPADDED, ((f"0x{example:x}", example),),
                 lambda m: int(m.group(0), 16), lambda v: f"0x{v:x}")


class FcHost:
    """§3.5 `/sys/class/fc_host/hostN/` and `fc_remote_ports` (drivers/scsi/scsi_transport_fc.c)."""

    ROW = "§3.5 fc_host"
    port_name = _wwn_unpadded("port_name", ROW, 0xC05076FFE5005611)
    permanent_port_name = _wwn_unpadded("permanent_port_name", ROW, 0xC05076FFE5005611)
    port_type = _word("port_type", ROW, ("NPIV VPORT", "NPort (fabric via point-to-point)",
                                         "Point-To-Point (direct nport connection)", "NLPort (fabric via loop)",
                                         "Unknown"))
    port_state = _word("port_state", ROW, ("Online", "Linkdown", "Error", "Unknown", "Blocked", "Not Present",
                                           "Offline", "Marginal", "Bypassed", "Diagnostics", "Lost"))
    rport_state = _word("port_state", "§3.5 fc_remote_ports", ("Online", "Blocked", "Not Present", "Offline",
                                                               "Linkdown", "Marginal", "Unknown", "Error",
                                                               "Bypassed", "Diagnostics", "Lost"))


# --- §4 qeth ---------------------------------------------------------------------------------------------


class CcwGroup:
    """§4 a qeth card (`/sys/bus/ccwgroup/devices/0.0.f500/`, drivers/s390/net/qeth_core_sys.c)."""

    ROW = "§4 qeth"
    card_type = _text("card_type", ROW, "OSD_10GIG")
    if_name = _text("if_name", ROW, "encf500")
    chpid = _attr("chpid", ROW, '"%02X\\n" (upper-case)', "[0-9A-F]{2}", (("F5", 0xF5),),
                  lambda m: int(m.group(0), 16), lambda v: f"{v:02X}")
    layer2 = _attr("layer2", ROW, '"%i\\n": -1 undetermined, 0, 1', "-1|0|1", (("-1", -1), ("0", 0), ("1", 1)),
                   lambda m: int(m.group(0)), str)
    state = _word("state", ROW, ("DOWN", "SOFTSETUP", "UP (LAN ONLINE)", "UP (LAN OFFLINE)", "UNKNOWN"))
    online = _flag("online", "§4 qeth (ccwgroup.c)")
    portno = _decimal("portno", ROW, 0, fmt='"%i\\n"')
    bridge_role = _attr("bridge_role", ROW, "`none`/`primary`/`secondary` [+ ` (OS family mismatch)`], or "
                        "`n/a (VNIC characteristics)`",
                        r"(?:none|primary|secondary)(?: \(OS family mismatch\))?|n/a \(VNIC characteristics\)",
                        (("none", "none"), ("primary", "primary")), _whole, _same)


# --- §5 AP -----------------------------------------------------------------------------------------------


class ApCard:
    """§5.2 `/sys/devices/ap/card05/` (drivers/s390/crypto/ap_card.c, zcrypt_card.c)."""

    ROW = "§5.2 AP card"
    type = _attr("type", ROW, '"%s\\n": CEX{4..8}{A,C,P}', "CEX[0-9]+[ACP]|[A-Za-z0-9_]+", (("CEX8C", "CEX8C"),),
                 _whole, _same)
    hwtype = _decimal("hwtype", ROW, 14)
    raw_hwtype = _decimal("raw_hwtype", ROW, 14)
    depth = _decimal("depth", ROW, 8)
    ap_functions = _hex0x("ap_functions", ROW, 8, 0x92000000, upper=True)
    online = _flag("online", ROW)
    config = _flag("config", ROW)
    chkstop = _flag("chkstop", ROW)


class ApQueue:
    """§5.3 `/sys/devices/ap/card05/05.0012/` (drivers/s390/crypto/ap_queue.c, zcrypt_queue.c)."""

    ROW = "§5.3 AP queue"
    online = _flag("online", ROW)
    config = _flag("config", ROW)
    chkstop = _flag("chkstop", ROW)


class VfioAp:
    """§5.4 a vfio_ap mdev (`/sys/devices/vfio_ap/matrix/<uuid>/`, drivers/s390/crypto/vfio_ap_ops.c)."""

    matrix = _matrix_attr("matrix")
    guest_matrix = _matrix_attr("guest_matrix")
    control_domains = _attr("control_domains", "§5.4 vfio_ap mdev", '`"%04lx\\n"` per domain, or 0 bytes',
                            "(?:[0-9a-f]{4}(?:\n[0-9a-f]{4})*\n?)?", (("0012\n", frozenset({0x12})), ("", frozenset())),
                            lambda m: frozenset(int(d, 16) for d in m.group(0).split()), _render_domains,
                            zero_bytes=True)


class MdevTypes:
    """The mdev types a parent offers (`mdev_supported_types/<type>/`, drivers/vfio/mdev/mdev_sysfs.c; §5.4, §6)."""

    ROW = "§5.4/§6 mdev_supported_types"
    available_instances = _decimal("available_instances", ROW, 1, fmt='"%u\\n"')
    device_api = _attr("device_api", ROW, '"%s\\n": `vfio-ccw`, `vfio-ap`, `vfio-pci`, …', "vfio-[a-z0-9]+",
                       (("vfio-ccw", "vfio-ccw"), ("vfio-ap", "vfio-ap")), _whole, _same)
    name = _text("name", ROW, "I/O subchannel (Non-QDIO)")


# --- §7 zPCI ---------------------------------------------------------------------------------------------


class Zpci:
    """§7 the zPCI attributes of `/sys/bus/pci/devices/DDDD:00:00.F/` (arch/s390/pci/pci_sysfs.c)."""

    ROW = "§7 zPCI"
    function_id = _hex0x("function_id", ROW, 8, 0x300)
    pchid = _hex0x("pchid", ROW, 4, 0x1BC)
    vfn = _hex0x("vfn", ROW, 4, 1)
    pft = _hex0x("pft", ROW, 2, 5)
    port = _decimal("port", ROW, 1)
    uid = _attr("uid", ROW, '"0x%x\\n" (not padded)', _UNPADDED, (("0x1a", 0x1A),), lambda m: int(m.group(0), 16),
                lambda v: f"0x{v:x}")
    uid_is_unique = _flag("uid_is_unique", ROW)


# --- §8 Secure Execution host, and the dump and IPL devices ----------------------------------------------


class UltraVisor:
    """§8 `/sys/firmware/uv/` (arch/s390/kernel/uv.c), present only with the Ultravisor call facility."""

    prot_virt_host = _flag("prot_virt_host", "§8 Secure Execution host")


class Firmware:
    """`/sys/firmware/dump/` and `/sys/firmware/ipl/` (arch/s390/kernel/ipl.c; not in the table): the device
    the kernel dumps to on a panic (dumpconf sets it), and the one it was IPLed from."""

    ROW = "arch/s390/kernel/ipl.c"
    dump_type = _word("dump_type", ROW, ("none", "ccw", "eckd", "fcp", "nvme"), example="ccw")
    dump_device = _attr("device", ROW + " dump/{ccw,eckd,fcp}", '"0.%x.%04x\\n"', _BUSID,
                        (("0.0.5c0b", "0.0.5c0b"),), _whole, _same)
    dump_wwpn = _hex0x("wwpn", ROW + " dump/fcp", 16, 0x500507630300C562)
    dump_lun = _hex0x("lun", ROW + " dump/fcp", 16, 0x4010400000000000)
    dump_fid = _hex0x("fid", ROW + " dump/nvme", 8, 0x300)
    ipl_type = _word("ipl_type", ROW, ("ccw", "eckd", "eckd_dump", "fcp", "fcp_dump", "nvme", "nvme_dump", "nss",
                                       "unknown"))
    ipl_device = _attr("device", ROW + " ipl", '"0.%x.%04x\\n" (ccw, eckd, fcp) or "%08ux\\n" (nvme), 0 bytes '
                       "otherwise", f"{_BUSID}|[0-9]{{8}}x|", (("0.0.5c00", "0.0.5c00"), ("", "")), _whole, _same,
                       zero_bytes=True)


# --- the fact keys each kind of record keeps in the kernel's words ---------------------------------------

_BY_KIND: dict[HostDeviceKind, dict[str, Attr[Any]]] = {
    HostDeviceKind.CSS: {"type": Subchannel.type, "chpids": Subchannel.chpids, "pimpampom": Subchannel.pimpampom,
                         "dev_busid": Subchannel.dev_busid, "driver_override": Subchannel.driver_override},
    HostDeviceKind.CHPID: {"status": ChannelPath.status, "configure": ChannelPath.configure,
                           "type": ChannelPath.type, "chid": ChannelPath.chid,
                           "chid_external": ChannelPath.chid_external},
    HostDeviceKind.CCW: {"online": CcwDevice.online, "cutype": CcwDevice.cutype, "devtype": CcwDevice.devtype,
                         "availability": CcwDevice.availability, "status": Dasd.status,
                         "discipline": Dasd.discipline, "alias": Dasd.alias, "readonly": Dasd.readonly,
                         "use_diag": Dasd.use_diag, "raw_track_access": Dasd.raw_track_access, "ese": Dasd.ese,
                         "uid": Dasd.uid, "peer_wwpn": Zfcp.peer_wwpn, "in_recovery": Zfcp.in_recovery,
                         "failed": Zfcp.failed},
    HostDeviceKind.CCWGROUP: {"card_type": CcwGroup.card_type, "if_name": CcwGroup.if_name,
                              "chpid": CcwGroup.chpid, "layer2": CcwGroup.layer2, "state": CcwGroup.state,
                              "online": CcwGroup.online, "portno": CcwGroup.portno,
                              "bridge_role": CcwGroup.bridge_role},
    HostDeviceKind.SCSI_HOST: {"port_type": FcHost.port_type, "port_name": FcHost.port_name,
                               "permanent_port_name": FcHost.permanent_port_name, "port_state": FcHost.port_state},
    HostDeviceKind.SCSI: {"hba_id": ZfcpLun.hba_id, "wwpn": ZfcpLun.wwpn, "fcp_lun": ZfcpLun.fcp_lun,
                          "zfcp_access_denied": ZfcpLun.zfcp_access_denied, "zfcp_failed": ZfcpLun.zfcp_failed,
                          "zfcp_in_recovery": ZfcpLun.zfcp_in_recovery, "rport_state": FcHost.rport_state,
                          "wwid": ScsiId.wwid},
    HostDeviceKind.BLOCK: {"wwid": NvmeNamespace.wwid},
    HostDeviceKind.PCI: {"uid": Zpci.uid, "function_id": Zpci.function_id, "pchid": Zpci.pchid, "pft": Zpci.pft,
                         "port": Zpci.port, "uid_is_unique": Zpci.uid_is_unique, "vfn": Zpci.vfn,
                         "driver_override": Subchannel.driver_override},
    HostDeviceKind.AP_CARD: {"type": ApCard.type, "hwtype": ApCard.hwtype, "raw_hwtype": ApCard.raw_hwtype,
                             "online": ApCard.online, "ap_functions": ApCard.ap_functions, "config": ApCard.config,
                             "depth": ApCard.depth, "chkstop": ApCard.chkstop},
    HostDeviceKind.AP_QUEUE: {"online": ApQueue.online, "config": ApQueue.config, "chkstop": ApQueue.chkstop},
    HostDeviceKind.MDEV: {"matrix": VfioAp.matrix, "guest_matrix": VfioAp.guest_matrix,
                          "control_domains": VfioAp.control_domains},
    HostDeviceKind.SYSTEM: {"prot_virt": UltraVisor.prot_virt_host, "dump_type": Firmware.dump_type,
                            "dump_device": Firmware.dump_device, "dump_wwpn": Firmware.dump_wwpn,
                            "dump_lun": Firmware.dump_lun, "dump_fid": Firmware.dump_fid,
                            "ipl_type": Firmware.ipl_type, "ipl_device": Firmware.ipl_device},
}


def attribute_of(kind: HostDeviceKind, key: str) -> Attr[Any] | None:
    """The attribute a record of this kind keeps under the fact `key` in the kernel's words; None for a
    fact that is not such an attribute (libvirt's, udev's properties, ztui's own)."""
    return _BY_KIND.get(kind, {}).get(key)


def all_attributes() -> Iterator[tuple[str, Attr[Any]]]:
    """Every attribute described here, as `Section.name` → attribute (each once)."""
    seen: set[int] = set()
    for section in (Subchannel, ChannelPath, CcwDevice, Dasd, Zfcp, ZfcpLun, ScsiId, FcHost, CcwGroup, ApCard,
                    ApQueue, VfioAp, MdevTypes, Zpci, NvmeNamespace, UltraVisor, Firmware):
        for name, value in vars(section).items():
            if isinstance(value, Attr) and id(value) not in seen:
                seen.add(id(value))
                yield f"{section.__name__}.{name}", value


# --- values that are not in the kernel's format ----------------------------------------------------------


_SAID: set[tuple[str, str]] = set()
"""(host, attribute) pairs already said by `report_misreads` in this process."""


def misreads(devices: Iterable[HostDevice]) -> dict[str, list[tuple[HostDevice, str]]]:
    """By attribute (`css pimpampom`), the records whose kernel-text fact is not in the kernel's format.
    Only facts read from sysfs are held to it (libvirt writes its own notation)."""
    found: dict[str, list[tuple[HostDevice, str]]] = {}
    for dev in devices:
        table = _BY_KIND.get(dev.kind)
        if not table:
            continue
        for f in dev.facts:
            attr = table.get(f.key)
            if attr is not None and f.source == "udev" and not attr.matches(f.value):
                found.setdefault(f"{dev.kind.value} {f.key}", []).append((dev, f.value))
    return found


def report_misreads(host: str, devices: Iterable[HostDevice]) -> list[str]:
    """Say once per host and attribute (one log warning, however many records) that values are not in the
    kernel's format; they read as unknown. The lines are returned too (new ones and repeated ones)."""
    lines = []
    for what, bad in sorted(misreads(devices).items()):
        dev, value = bad[0]
        kind, _, key = what.partition(" ")
        attr = _BY_KIND[HostDeviceKind(kind)][key]
        more = f" (and {len(bad) - 1} more {kind} record{'s' if len(bad) > 2 else ''})" if len(bad) > 1 else ""
        line = (f"{host}: {kind} {dev.id} {key} reads {value!r}, not the kernel's {attr.format}{more}; "
                "read as unknown")
        lines.append(line)
        if (host, what) not in _SAID:
            _SAID.add((host, what))
            log.warning("%s", line)
    return lines
