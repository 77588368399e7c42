"""Read a py-spy `--format chrometrace` file back into per-thread timelines.

py-spy writes a `B` (begin) event for every frame that appears and an `E` (end) event for
every frame that goes, stamped with the sample's time in microseconds, only when a thread's
stack changes. Replaying them gives, per thread, the stack held between two changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from audit.profiling.errors import ProfileError
from audit.profiling.frames import Frame, Segment


def read_trace(path: Path) -> list[Segment]:
    try:
        events = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"{path}: cannot read the trace: {error}") from error
    except json.JSONDecodeError as error:
        raise ProfileError(
            f"{path}:{error.lineno}:{error.colno}: not a py-spy chrometrace: {error.msg}"
        ) from error
    if isinstance(events, dict):
        events = events.get("traceEvents")
    if not isinstance(events, list):
        raise ProfileError(f"{path}: not a py-spy chrometrace: expected a list of events")
    return list(replay(events, path))


def _frame(event: dict[str, Any]) -> Frame:
    args = event.get("args") or {}
    return Frame(str(args.get("filename", "<unknown>")), int(args.get("line", 0)), event["name"])


def replay(events: list[Any], origin: Path) -> Iterator[Segment]:
    stacks: dict[str, list[Frame]] = {}
    since: dict[str, float] = {}
    for index, event in enumerate(events):
        try:
            phase = event["ph"]
            thread = f"{event['pid']}:{event['tid']}"
            at = float(event["ts"]) / 1e6
            frame = _frame(event)
        except (KeyError, TypeError, ValueError) as error:
            raise ProfileError(
                f"{origin}: event {index} is not a py-spy trace event ({error!r})"
            ) from error
        stack = stacks.setdefault(thread, [])
        start = since.get(thread, at)
        if at > start:
            if stack:
                yield Segment(thread, start, at, tuple(stack))
            since[thread] = at
        else:
            since.setdefault(thread, at)
        if phase == "B":
            stack.append(frame)
        elif phase == "E":
            if not stack or stack[-1].function != frame.function:
                raise ProfileError(
                    f"{origin}: event {index} ends `{frame.function}`, which is not the "
                    f"innermost open frame of thread {thread}"
                )
            stack.pop()
