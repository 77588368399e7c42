"""How late the event loop runs a timer: the health probe's measure of a blocked loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque


class LoopLagMonitor:
    """Sleeps `interval` seconds at a time and records how much later than asked it woke."""

    def __init__(self, interval: float = 0.25, window: int = 40) -> None:
        self.interval = interval
        self._samples: deque[float] = deque(maxlen=window)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="soni-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            self._samples.append(max(0.0, time.perf_counter() - asked - self.interval))

    @property
    def worst_ms(self) -> float:
        """The worst lag over the last `window` intervals (10 s by default)."""
        return max(self._samples, default=0.0) * 1000
