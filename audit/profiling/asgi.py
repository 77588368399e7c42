"""ASGI middleware: run the loop watchdog for the lifetime of an app (lifespan events).

    app = LoopWatchdogMiddleware(app, threshold_ms=10, report=Path("loop-blocks.json"))

The watchdog starts when the server sends `lifespan.startup` and stops after the app
completes its shutdown; the blocks go to `on_block` as they happen and to `report` (the
findings JSON `soni-audit profile --from` reads) at shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from audit.profiling.findings import write_blocks
from audit.profiling.watchdog import BlockHandler, LoopWatchdog

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class LoopWatchdogMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        threshold_ms: float = 10.0,
        project_root: Path | None = None,
        extra_project_roots: Sequence[Path] = (),
        on_block: BlockHandler | None = None,
        report: Path | None = None,
    ) -> None:
        self.app = app
        self.dog = LoopWatchdog(
            threshold_ms=threshold_ms,
            project_root=project_root,
            extra_project_roots=extra_project_roots,
            on_block=on_block,
        )
        self.report = report

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.dog.watch(asyncio.get_running_loop())
            return message

        async def sending(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self._finish()
            await send(message)

        await self.app(scope, receiving, sending)

    async def _finish(self) -> None:
        await self.dog.aclose()
        if self.report is not None:
            await asyncio.to_thread(
                write_blocks,
                self.report,
                list(self.dog.blocks),
                project=self.dog.project,
                threshold=self.dog.threshold,
                command="asgi",
            )
