"""What the routes are handed: the server's long-lived parts, kept on `app.state` by
`create_app` and given to each handler through `Depends`, so routes hold no globals and a
test can swap a part with `app.dependency_overrides`.

The dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in its
thread pool, a thread hop per request for an attribute read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from soni.server.host import RuntimeHost
from soni.server.loop_lag import LoopLagMonitor


@dataclass(frozen=True)
class ServerParts:
    """Kept on `app.state.soni` (`create_app` puts it there)."""

    host: RuntimeHost
    lag: LoopLagMonitor
    started: float
    """`time.monotonic()` when the app was built: the start of its uptime."""


def parts_of(app: FastAPI) -> ServerParts:
    parts: ServerParts = app.state.soni
    return parts


async def get_parts(request: Request) -> ServerParts:
    return parts_of(request.app)


async def get_host(request: Request) -> RuntimeHost:
    return parts_of(request.app).host


Parts = Annotated[ServerParts, Depends(get_parts)]
Host = Annotated[RuntimeHost, Depends(get_host)]
