"""A value found in a message, with its place (character offsets into the message)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from soni.core.slots import SlotValue


@dataclass(frozen=True)
class Found:
    value: SlotValue
    start: int
    end: int

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


def non_overlapping(found: Iterable[Found]) -> tuple[Found, ...]:
    """The longest of overlapping finds, in the order they stand in the message."""
    kept: list[Found] = []
    for item in sorted(found, key=lambda f: (-(f.end - f.start), f.start)):
        if not any(item.overlaps(other.start, other.end) for other in kept):
            kept.append(item)
    return tuple(sorted(kept, key=lambda f: f.start))
