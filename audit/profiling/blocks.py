"""A block: one stretch of time in which a loop thread ran code without coming back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.profiling.frames import Frame, Stack


@dataclass(frozen=True)
class Block:
    """The loop on `thread` was busy from `start` for `duration` seconds running `stack`.

    `stack` holds the working frames only (loop machinery cut off), outermost first; it is
    the stack seen for the longest time (or in most samples) during the block.
    """

    source: str
    thread: str
    start: float
    duration: float
    stack: Stack
    label: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "thread": self.thread,
            "start_ms": round(self.start * 1000, 3),
            "duration_ms": round(self.duration * 1000, 3),
            "stack": [frame.to_json() for frame in self.stack],
            "label": self.label,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Block:
        return cls(
            source=data["source"],
            thread=data["thread"],
            start=data["start_ms"] / 1000,
            duration=data["duration_ms"] / 1000,
            stack=tuple(Frame.from_json(frame) for frame in data["stack"]),
            label=data.get("label"),
        )
