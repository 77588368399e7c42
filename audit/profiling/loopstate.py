"""Is an event-loop thread waiting, running loop machinery, or running someone's code?

A stack belongs to a running loop when one of its frames enters the loop: asyncio's own
`run_forever`, or any frame whose current line calls `run_until_complete(` / `run_forever(`
(uvloop's loop is C, so its caller is the last Python frame). Above that entry, leading frames
of the loop machinery (asyncio, selectors, uvloop, the watchdog) do not count; what remains is
the work the loop is running. Nothing left means the loop waits in `select` or does its own
bookkeeping. Work that only waits in `Thread.start` for a new thread to be scheduled (a thread
pool adding a worker for `to_thread`) is waiting on the OS like a GIL hand-over, not running:
it counts as idle (it lasts microseconds, but 10-15 ms was seen on two busy cores).
"""

from __future__ import annotations

import linecache
import re
from dataclasses import dataclass
from enum import Enum

from audit.profiling.frames import Frame, ProjectFiles, Stack

_ENTRY_CALL = re.compile(r"\brun_until_complete\s*\(|\brun_forever\s*\(")
_MACHINERY = ("/asyncio/", "/uvloop/", "/audit/profiling/watchdog.py")
_MACHINERY_FILES = ("/selectors.py",)


def _starting_thread(work: Stack) -> bool:
    """`...Thread.start -> Event.wait -> Condition.wait`: waiting for a new thread to run."""
    start = next(
        (
            i
            for i, frame in enumerate(work)
            if frame.file.endswith("/threading.py") and frame.function in ("Thread.start", "start")
        ),
        None,
    )
    return start is not None and all(
        frame.builtin or frame.file.endswith("/threading.py") for frame in work[start:]
    )


class LoopState(Enum):
    OUTSIDE = "outside"  # no loop runs on this thread at this moment
    IDLE = "idle"  # the loop waits for I/O or does its own bookkeeping
    BUSY = "busy"  # the loop runs a callback: a coroutine step, a protocol method, ...


@dataclass(frozen=True)
class Reading:
    state: LoopState
    work: Stack = ()
    key: tuple[str, str] = ("", "")
    """Identity of what runs: file and function of the innermost project frame (or of the
    first working frame). Lines are left out on purpose: a sample taken mid-update can show
    another line of the same function, and that must not cut a block in two."""


def _machinery(frame: Frame) -> bool:
    return any(marker in frame.file for marker in _MACHINERY) or frame.file.endswith(
        _MACHINERY_FILES
    )


class LoopClassifier:
    """Classifies stacks; remembers what it learnt about each (file, line)."""

    def __init__(self, project: ProjectFiles) -> None:
        self.project = project
        self._entries: dict[tuple[str, int], bool] = {}

    def is_entry(self, frame: Frame) -> bool:
        if frame.function.endswith("run_forever") and "/asyncio/" in frame.file:
            return True
        known = self._entries.get((frame.file, frame.line))
        if known is None:
            text = linecache.getline(frame.file, frame.line) if not frame.builtin else ""
            known = self._entries[(frame.file, frame.line)] = bool(_ENTRY_CALL.search(text))
        return known

    def read(self, stack: Stack) -> Reading:
        entry = next((i for i in range(len(stack) - 1, -1, -1) if self.is_entry(stack[i])), -1)
        if entry < 0:
            return Reading(LoopState.OUTSIDE)
        work = stack[entry + 1 :]
        start = 0
        while start < len(work) and _machinery(work[start]):
            start += 1
        work = work[start:]
        if all(frame.builtin for frame in work) or _starting_thread(work):
            return Reading(LoopState.IDLE)
        anchor = next((f for f in reversed(work) if f in self.project), work[0])
        return Reading(LoopState.BUSY, work, (anchor.file, anchor.function))
