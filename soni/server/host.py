"""`RuntimeHost`: the server's `RuntimeLoop`, started in the background and closed last.

The loop starts in a task, not in the lifespan, so the probes answer while it starts
(`/ready` says 503 until it is running). Every turn runs in a task of its own that the host
tracks and shields: a client that hangs up never cuts a turn in half, and shutdown waits
for the turns in flight before it closes the checkpointer.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from soni.config.loader import SoniConfig
from soni.errors import SoniError
from soni.runtime import RuntimeLoop

log = logging.getLogger("soni.server")
_T = TypeVar("_T")


class Phase(enum.StrEnum):
    STARTING = "starting"
    READY = "ready"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class NotServing(SoniError):
    """The runtime is not serving turns (starting, stopped or failed)."""

    def __init__(self, phase: Phase, reason: str = "") -> None:
        self.phase = phase
        super().__init__(f"the runtime is {phase.value}" + (f": {reason}" if reason else ""))


class RuntimeHost:
    def __init__(
        self,
        source: SoniConfig | str | os.PathLike[str],
        *,
        runtime_factory: Callable[[SoniConfig | str | os.PathLike[str]], RuntimeLoop] = RuntimeLoop,
        on_failure: Callable[[BaseException], None] | None = None,
        listen_once_ready: bool = False,
    ) -> None:
        self._source = source
        self.listen_once_ready = listen_once_ready
        """The app's startup waits for the runtime, so the server listens only once it
        serves turns: a worker sharing its port with others must not take in requests it
        would refuse while another worker could serve them."""
        self._factory = runtime_factory
        self._on_failure = on_failure
        self._runtime: RuntimeLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._turns: set[asyncio.Task[Any]] = set()
        self.phase = Phase.STARTING
        self.failure = ""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="soni-runtime")

    async def _run(self) -> None:
        try:
            async with self._factory(self._source) as runtime:
                self._runtime = runtime
                if self.phase is Phase.STARTING:
                    self.phase = Phase.READY
                    log.info("runtime ready")
                await self._stop.wait()
                await self._drain()
                self._runtime = None
            self.phase = Phase.STOPPED
        except asyncio.CancelledError:
            self.phase = Phase.STOPPED
            raise
        except Exception as error:
            self._runtime = None
            self.phase = Phase.FAILED
            self.failure = str(error) or type(error).__name__
            log.error("the runtime failed to start: %s", self.failure, exc_info=error)
            if self._on_failure is not None:
                self._on_failure(error)

    async def settled(self) -> None:
        """Return once the runtime serves turns, has failed, or is asked to stop.

        Polled, not an event: `begin_shutdown` runs in a signal handler, where setting an
        asyncio event is not safe."""
        while True:
            if self.phase is not Phase.STARTING:
                return
            await asyncio.sleep(0.05)

    def begin_shutdown(self) -> None:
        """Stop reporting ready; turns are still served until `stop` closes the runtime.
        Plain attribute writes only: it is called from a signal handler."""
        if self.phase in (Phase.STARTING, Phase.READY):
            self.phase = Phase.STOPPING

    async def stop(self) -> None:
        self.begin_shutdown()
        task = self._task
        if task is None:
            self.phase = Phase.STOPPED
            return
        if self._runtime is None and not task.done():
            task.cancel()  # still starting: RuntimeLoop unwinds whatever it opened
        self._stop.set()
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise

    async def _drain(self) -> None:
        while self._turns:
            await asyncio.gather(*self._turns, return_exceptions=True)

    @property
    def runtime(self) -> RuntimeLoop | None:
        return self._runtime

    @property
    def turns_in_flight(self) -> int:
        return len(self._turns)

    async def call(self, work: Callable[[RuntimeLoop], Coroutine[Any, Any, _T]]) -> _T:
        """Run `work(runtime)` in a tracked, shielded task."""
        runtime = self._runtime
        if runtime is None:
            raise NotServing(self.phase, self.failure)
        task = asyncio.create_task(work(runtime))
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_log_failure_nobody_saw)
            raise


def _log_failure_nobody_saw(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("a turn failed after its client left", exc_info=error)
