"""A tree label that knows which of its parts may give way on a narrow screen.

At 80 columns a guest's line (`zlnx04  shut off  s390x  1 vCPU  256 MiB  ⛔ 4 migration blockers`) does not
fit beside the details pane. Cut at the end, the marks go first — and they are what the line is for. So a
label is built from parts, each saying how it gives way, lowest `rank` first: facts and paths are cut with
`…` (`cut`: a path in its middle, since its end tells devices apart) or dropped (`short`), then names are
cut; marks and counts stay whole. Only a width too small even for the marks cuts the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

ELLIPSIS = "…"


@dataclass(frozen=True)
class Part:
    """One piece of a label. `text` carries its own leading separator, so that dropping it drops that too."""

    text: str
    style: str = ""
    short: str | None = None  # what it becomes when the line is too long ("" drops it); None: no other form
    rank: int = 0  # parts with a lower rank give way first
    cut: bool = False  # may be cut with `…` (before it is replaced by `short`, if it has one)


def cut_text(text: str, width: int) -> str:
    """`text` in at most `width` cells, ending in `…`; a path (after its leading separator) keeps its end."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    core = text.lstrip(" ")
    lead = text[: len(text) - len(core)]
    room = width - len(lead)
    if core.startswith("/") and room >= 12:
        head = room // 3
        return lead + core[:head] + ELLIPSIS + core[len(core) - (room - head - 1):]
    kept = ""
    for char in text:
        if cell_len(kept + char) > width - 1:
            break
        kept += char
    return kept + ELLIPSIS


class FitLabel(Text):
    """A `Text` made of `Part`s; `fitted(width)` gives the line as it should show in `width` cells."""

    def __init__(self, parts: Iterable[Part]) -> None:
        super().__init__(no_wrap=True, end="")
        self.parts = tuple(parts)
        for part in self.parts:
            self.append(part.text, style=part.style or None)
        self._fitted: dict[int, Text] = {}

    def fitted(self, width: int) -> Text:
        """The label in at most `width` cells: shortened parts first, then cut names, then cut at the end."""
        if width <= 0 or self.cell_len <= width:
            return self
        fitted = self._fitted.get(width)
        if fitted is None:
            fitted = self._fitted[width] = self._fit(width)
        return fitted

    def _fit(self, width: int) -> Text:
        texts = [p.text for p in self.parts]
        excess = sum(cell_len(t) for t in texts) - width
        for i in sorted(range(len(self.parts)), key=lambda i: self.parts[i].rank):
            part = self.parts[i]
            if excess <= 0:
                break
            before = cell_len(texts[i])
            if part.cut:
                lead = len(part.text) - len(part.text.lstrip(" "))
                texts[i] = cut_text(part.text, max(lead + 2, before - excess))  # at least a letter and `…`
            if part.short is not None and cell_len(texts[i]) > cell_len(part.short) and \
                    excess > before - cell_len(texts[i]):
                texts[i] = part.short
            excess -= before - cell_len(texts[i])
        # cells left over after a later part gave way go back to what was cut, the last cut first (a name)
        for i in sorted(range(len(self.parts)), key=lambda i: -self.parts[i].rank):
            part = self.parts[i]
            if excess >= 0:
                break
            if part.cut and texts[i] and texts[i] != part.text and texts[i] != part.short:
                before = cell_len(texts[i])
                texts[i] = cut_text(part.text, before - excess)
                excess += cell_len(texts[i]) - before
        line = Text(no_wrap=True, end="")
        for part, text in zip(self.parts, texts, strict=True):
            if text:
                line.append(text, style=part.style or None)
        if line.cell_len > width:
            line.truncate(width, overflow="ellipsis")
        return line
