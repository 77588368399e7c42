"""Cut each loop thread's timeline into blocks longer than a threshold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from audit.profiling.blocks import Block
from audit.profiling.frames import Segment, Stack
from audit.profiling.loopstate import LoopClassifier, LoopState


class _Open:
    def __init__(self, key: tuple[str, str], start: float) -> None:
        self.key = key
        self.start = start
        self.time_by_stack: dict[Stack, float] = defaultdict(float)

    def block(self, source: str, thread: str, end: float) -> Block:
        stack = max(self.time_by_stack.items(), key=lambda item: item[1])[0]
        return Block(source, thread, self.start, end - self.start, stack)


def find_blocks(
    segments: Iterable[Segment],
    classifier: LoopClassifier,
    *,
    threshold: float,
    source: str,
) -> list[Block]:
    """Blocks of at least `threshold` seconds, in time order per thread.

    A block runs from the first busy segment to the first segment that is idle, outside the
    loop, or busy in another function. Segments of one thread must come in time order.
    """
    by_thread: dict[str, list[Segment]] = defaultdict(list)
    for segment in segments:
        by_thread[segment.thread].append(segment)
    blocks: list[Block] = []
    for thread, timeline in by_thread.items():
        blocks.extend(
            b
            for b in _thread_blocks(thread, timeline, classifier, source)
            if b.duration >= threshold - 1e-9  # microsecond clocks summed in floats
        )
    return sorted(blocks, key=lambda b: (b.start, b.thread))


def _thread_blocks(
    thread: str, timeline: list[Segment], classifier: LoopClassifier, source: str
) -> Iterator[Block]:
    current: _Open | None = None
    for segment in timeline:
        reading = classifier.read(segment.stack)
        if current is not None and (
            reading.state is not LoopState.BUSY or reading.key != current.key
        ):
            yield current.block(source, thread, segment.start)
            current = None
        if reading.state is LoopState.BUSY:
            if current is None:
                current = _Open(reading.key, segment.start)
            current.time_by_stack[reading.work] += segment.end - segment.start
    if current is not None and timeline:
        yield current.block(source, thread, timeline[-1].end)
