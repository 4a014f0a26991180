"""Where the stylesheets are: inside the installed package, or in the checkout's `styles/`.

A wheel carries `styles/` as `ztui/styles/` (pyproject's force-include), so an installed ztui finds them
next to its modules; an editable install runs from the checkout, where they stay at the top level.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def styles_dir() -> Path:
    packaged = _PACKAGE / "styles"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "styles"


def stylesheets() -> list[Path]:
    """Every `*.tcss` file, sorted, so later files can refine earlier ones."""
    return sorted(styles_dir().glob("*.tcss"))
