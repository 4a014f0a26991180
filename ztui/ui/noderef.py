"""What a line of a tree stands for, as the screens and the workers that act on it name it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: what a line of the tree stands for: `hostdev` is a host device a filter matched where no guest does,
#: `note` says that no guest matches
NodeKind = Literal["host", "guest", "device", "step", "hostdev", "note"]


@dataclass(frozen=True)
class NodeRef:
    """What a tree node shows; `key` identifies a device within its guest across re-reads."""

    kind: NodeKind
    uri: str
    uuid: str = ""
    key: str = ""
    step: int = -1
