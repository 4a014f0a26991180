"""One Hypothesis strategy for "a real fixture with a few random edits", shared by the parser fuzz tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from hypothesis import strategies as st

COMMON_ODD = ["0x", "-0x1", "0xZZ", "1e9", " ", "ccw", "pci"]


def odd_values(*extra: str) -> st.SearchStrategy[str]:
    """Values a parser must survive: any text, huge and negative numbers in decimal and hex, near-misses."""
    return st.one_of(
        st.text(max_size=12),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.integers(min_value=-(2**40), max_value=2**40).map(hex),
        st.sampled_from([*COMMON_ODD, *extra]),
    )


def mutated_xml(texts: Sequence[str], values: st.SearchStrategy[str], attrs: Sequence[str],
                tags: Sequence[str]) -> st.SearchStrategy[str]:
    """One of `texts` with 1 to 8 edits: attribute values replaced or removed, elements removed, text
    changed, children added (with names from `tags` and `attrs`)."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        root = ET.fromstring(draw(st.sampled_from(list(texts))))
        elements = list(root.iter())
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            elem = draw(st.sampled_from(elements))
            action = draw(st.sampled_from(["set", "delattr", "remove", "text", "addchild"]))
            if action == "set":
                elem.set(draw(st.sampled_from(sorted(elem.attrib) or list(attrs))), draw(values))
            elif action == "delattr" and elem.attrib:
                del elem.attrib[draw(st.sampled_from(sorted(elem.attrib)))]
            elif action == "remove" and len(elem):
                elem.remove(draw(st.sampled_from(list(elem))))
            elif action == "text":
                elem.text = draw(values)
            elif action == "addchild":
                child = ET.SubElement(elem, draw(st.sampled_from(list(tags))),
                                      {draw(st.sampled_from(list(attrs))): draw(values)})
                child.text = draw(values)
        return ET.tostring(root, encoding="unicode")

    return build()
