"""An in-process heartbeat watchdog: which code blocked the event loop, and for how long.

A heartbeat callback re-arms itself on the loop every `interval_ms` (a fifth of the
threshold by default); a sampler thread sleeps until a beat would be overdue. When a beat
is overdue the loop is stalled, and the sampler reads the loop thread's stack with
`sys._current_frames()` every `tick_ms` until the loop beats again. The late beat
measures the stall (beat gap minus half the usual beat period: right to half a beat); the
samples say whose code ran. A stall whose samples show the loop waiting (another thread
held the GIL) or stopped is not a block. Each beat wakes an idle loop, so the beat interval
trades precision for CPU (`scripts/bench_loop_overhead.py`).

Works with any loop that has `call_later` (asyncio, uvloop). Several loops may be watched.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType

from audit.profiling.blocks import Block
from audit.profiling.frames import Frame, ProjectFiles, Stack
from audit.profiling.loopstate import LoopClassifier, LoopState

BlockHandler = Callable[[Block], None]


def stack_of(frame: FrameType | None) -> Stack:
    frames: list[Frame] = []
    while frame is not None:
        code = frame.f_code
        frames.append(Frame(code.co_filename, frame.f_lineno or 0, code.co_qualname))
        frame = frame.f_back
    return tuple(reversed(frames))


def default_interval_ms(threshold_ms: float) -> float:
    """A fifth of the threshold, 1 to 5 ms: a block's duration is known to half a beat,
    and every beat wakes an idle loop (about 20 µs of CPU each here)."""
    return min(5.0, max(1.0, threshold_ms / 5))


def entering(frame: FrameType | None) -> bool:
    """The thread stands at a function's first line: it has not run any of its body yet, so
    it is not blocking there. A loop thread seen so during a stall waits to get the GIL back
    at the eval-loop check on entry (another thread holds it, or the OS preempted it)."""
    return frame is not None and frame.f_lineno == frame.f_code.co_firstlineno


class _Watch:
    """One watched loop. Its beat runs on the loop thread, its sampling on the sampler
    thread; the shared fields are guarded by the watchdog's lock."""

    def __init__(self, dog: LoopWatchdog, loop: asyncio.AbstractEventLoop) -> None:
        self.dog = dog
        self.loop = loop
        self.thread_id: int | None = None
        self.beats = 0
        self.last_beat = 0.0
        self.period = 0.0
        self.handle: asyncio.TimerHandle | None = None
        self.samples: list[tuple[float, Stack]] = []
        self.closed_epoch = -1  # the sampler already settled this stall (the loop stopped)

    def beat(self) -> None:
        """On the loop: measure the gap since the last beat and re-arm."""
        dog = self.dog
        now = time.perf_counter()
        with dog.lock:
            first = self.thread_id is None
            if first:
                self.thread_id = threading.get_ident()
            gap = now - self.last_beat
            settled = self.closed_epoch == self.beats
            samples, self.samples = self.samples, []
            self.beats += 1
            self.last_beat = now
            if not first and gap < dog.threshold:
                self.period = gap if self.period == 0 else 0.9 * self.period + 0.1 * gap
        if not dog.stopping.is_set() and not self.loop.is_closed():
            self.handle = self.loop.call_later(dog.interval, self.beat)
        if first or settled:
            return
        duration = gap - (self.period or dog.interval) / 2
        if duration >= dog.threshold and samples:
            dog.record(self, now - duration, duration, samples)

    def overdue(self, now: float) -> bool:
        return self.thread_id is not None and now - self.last_beat >= self.dog.stall_after

    def due(self, now: float) -> float:
        """Seconds until this loop would be overdue, were it to stop beating now."""
        if self.thread_id is None:
            return self.dog.tick
        return max(self.dog.tick, self.last_beat + self.dog.stall_after - now)

    def sample(self) -> None:
        """On the sampler thread, during a stall: what is the loop thread running?"""
        dog = self.dog
        with dog.lock:
            epoch = self.beats
            if self.closed_epoch == epoch or self.thread_id is None:
                return
            thread_id = self.thread_id
        at = time.perf_counter()
        frame = sys._current_frames().get(thread_id)
        if entering(frame):
            return
        reading = dog.classifier.read(stack_of(frame))
        if reading.state is LoopState.OUTSIDE and not self.loop.is_running():
            self.settle_stopped(at)
            return
        with dog.lock:
            busy = reading.state is LoopState.BUSY
            if self.beats == epoch and busy and len(self.samples) < dog.max_samples:
                self.samples.append((at, reading.work))

    def settle_stopped(self, now: float) -> None:
        """The loop stopped during a stall: the block ended between the last busy sample
        and now, and the next beat (when the loop runs again) must not count the pause."""
        dog = self.dog
        with dog.lock:
            if self.closed_epoch == self.beats:
                return
            self.closed_epoch = self.beats
            samples, self.samples = self.samples, []
            start = self.last_beat
        if not samples:
            return
        end = (samples[-1][0] + now) / 2
        duration = end - start - (self.period or dog.interval) / 2
        if duration >= dog.threshold:
            dog.record(self, start, duration, samples)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()


class LoopWatchdog:
    """Report every stretch of at least `threshold_ms` in which a loop ran without yielding.

    Use `async with LoopWatchdog():` inside a loop, or `watch(loop)` before running one.
    `blocks` lists what was found; `on_block` is called with each block (on the loop
    thread, or on the sampler thread when the loop stopped right after blocking).
    """

    def __init__(
        self,
        *,
        threshold_ms: float = 10.0,
        interval_ms: float | None = None,
        tick_ms: float = 1.0,
        project_root: Path | None = None,
        extra_project_roots: Sequence[Path] = (),
        on_block: BlockHandler | None = None,
        max_samples: int = 200,
    ) -> None:
        self.threshold = threshold_ms / 1000
        self.interval = (interval_ms or default_interval_ms(threshold_ms)) / 1000
        self.tick = tick_ms / 1000
        self.stall_after = 2 * self.interval + self.tick
        self.project = ProjectFiles(
            project_root or Path.cwd(), exclude=(__file__,), extra_roots=tuple(extra_project_roots)
        )
        self.classifier = LoopClassifier(self.project)
        self.on_block = on_block
        self.max_samples = max_samples
        self.label: str | None = None
        self.blocks: list[Block] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._watches: list[_Watch] = []
        self._sampler: threading.Thread | None = None
        self._origin = time.perf_counter()

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start watching `loop` (running or not yet); thread-safe."""
        watch = _Watch(self, loop)
        with self.lock:
            self._watches.append(watch)
        loop.call_soon_threadsafe(watch.beat)
        if self._sampler is None:
            self.stopping.clear()
            self._sampler = threading.Thread(
                target=self._sample_forever, name="soni-audit-loop-watchdog", daemon=True
            )
            self._sampler.start()

    def stop(self) -> None:
        """Stop sampling and beating; settle a stall in progress. Not on a running loop:
        it waits for the sampler thread (use `async with`, which offloads that wait)."""
        self._halt()
        self._forget()

    def flush(self) -> None:
        """Settle stalls of loops that stopped running (call before reading `blocks`)."""
        for watch in list(self._watches):
            if watch.thread_id is not None and not watch.loop.is_running():
                watch.settle_stopped(time.perf_counter())

    async def __aenter__(self) -> LoopWatchdog:
        self.watch(asyncio.get_running_loop())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """`stop()` from a running loop: the wait for the sampler thread is offloaded."""
        await asyncio.to_thread(self._halt)
        self._forget()

    def _halt(self) -> None:
        self.flush()
        self.stopping.set()
        if self._sampler is not None:
            self._sampler.join()
            self._sampler = None

    def _forget(self) -> None:
        with self.lock:
            watches, self._watches = self._watches, []
        for watch in watches:
            watch.cancel()

    def _sample_forever(self) -> None:
        pause = self.tick
        while not self.stopping.wait(pause):
            now = time.perf_counter()
            pause = self.stall_after
            for watch in list(self._watches):
                if watch.loop.is_closed():
                    with self.lock:
                        if watch in self._watches:
                            self._watches.remove(watch)
                elif watch.overdue(now):
                    watch.sample()
                    pause = self.tick
                else:
                    pause = min(pause, watch.due(now))

    def record(
        self, watch: _Watch, start: float, duration: float, samples: list[tuple[float, Stack]]
    ) -> None:
        stack = Counter(stack for _, stack in samples).most_common(1)[0][0]
        block = Block(
            source="watchdog",
            thread=f"{os.getpid()}:{watch.thread_id}",
            start=start - self._origin,
            duration=duration,
            stack=stack,
            label=self.label,
        )
        with self.lock:
            self.blocks.append(block)
        if self.on_block is not None:
            self.on_block(block)
