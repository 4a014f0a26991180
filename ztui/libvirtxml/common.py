"""Small helpers shared by the XML readers and writers (domain, device and node-device XML).

libvirt's own files mix hex (`0xfe`, `0xFe`) and decimal (`254`) for the same attribute, and saved XML
from a support dump may be damaged; these helpers turn such values into ints or a clear error, never an
unexpected exception.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


class XmlError(ValueError):
    """XML that cannot be read at all; the message is one line meant for the user."""


def parse_xml(text: str | bytes, what: str = "XML") -> ET.Element:
    """Parse a document or raise XmlError naming `what` and the parser's reason (line and column)."""
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise XmlError(f"{what} is not well-formed XML: {exc}") from None
    except (ValueError, TypeError) as exc:  # e.g. an encoding declaration on a str
        raise XmlError(f"{what} cannot be parsed: {exc}") from None


def parse_int(value: str | None) -> int | None:
    """An integer written as decimal or hex (`0x` prefix, any case); None when absent or invalid."""
    if value is None:
        return None
    try:  # the common spellings, without stripping or lower-casing first
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
    except ValueError:
        pass
    text = value.strip()
    if not text:
        return None
    try:
        if text.lower().startswith(("0x", "-0x")):
            return int(text, 16)
        return int(text, 10)
    except ValueError:
        return None


def to_xml(elem: ET.Element) -> str:
    """An element's XML as text, without the tail text that follows it in its parent."""
    tail, elem.tail = elem.tail, None
    try:
        return ET.tostring(elem, encoding="unicode")
    finally:
        elem.tail = tail


def child_attr(elem: ET.Element, path: str, attr: str) -> str:
    """Attribute `attr` of the first element at `path` below `elem`, or an empty string."""
    child = elem.find(path)
    if child is None:
        return ""
    return child.get(attr, "")


def child_text(elem: ET.Element, path: str) -> str:
    """Stripped text of the first element at `path` below `elem`, or an empty string."""
    child = elem.find(path)
    if child is None or child.text is None:
        return ""
    return child.text.strip()


def pretty_xml(xml: str) -> str:
    """XML re-indented evenly (libvirt's device XML keeps the indentation of the whole domain)."""
    try:
        elem = ET.fromstring(xml)
    except ET.ParseError:
        return xml.strip()
    ET.indent(elem)
    return ET.tostring(elem, encoding="unicode")
