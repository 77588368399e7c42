"""The FastAPI application: `/chat`, `/state/{user_id}`, `/health` and `/ready`.

    uvicorn --factory soni.server.app:from_environment   # SONI_CONFIG=domain.yaml

`soni serve` is the usual way in; the factory is for process managers that want an app.
This module only assembles: the routes are in `soni.server.routes`, what they are handed
in `soni.server.dependencies`, how errors are answered in `soni.server.errors`.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from soni import __version__
from soni.config.loader import SoniConfig, load_server_settings
from soni.server import errors
from soni.server.dependencies import ServerParts, parts_of
from soni.server.guards import BodyLimit, CatchAll
from soni.server.host import RuntimeHost
from soni.server.loop_lag import LoopLagMonitor
from soni.server.models import MAX_BODY_BYTES
from soni.server.routes import ROUTERS
from soni.server.security import Security, build_security, warn_insecure


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The runtime starts in the background, so the probes answer while it starts (unless
    the host listens only once it is ready); it closes before the lag monitor, which
    watches the loop until the last turn is done."""
    parts = parts_of(app)
    parts.lag.start()
    parts.host.start()
    try:
        if parts.host.listen_once_ready:
            await parts.host.settled()
        yield
    finally:
        await parts.host.stop()
        await parts.lag.stop()


def create_app(
    source: SoniConfig | str | os.PathLike[str] | None = None,
    *,
    host: RuntimeHost | None = None,
    security: Security,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """An app serving `source` (a loaded config, or a path loaded in the background),
    or the given `host`, with `security` (`Security.insecure()` turns it off)."""
    if host is None:
        if source is None:
            raise ValueError("create_app needs a configuration or a RuntimeHost")
        host = RuntimeHost(source)
    app = FastAPI(
        title="soni",
        version=__version__,
        summary="A task-oriented dialogue runtime.",
        lifespan=_lifespan,
        responses=errors.error_responses(500),
    )
    app.state.soni = ServerParts(
        host=host, lag=LoopLagMonitor(), started=time.monotonic(), security=security
    )
    errors.install(app)
    app.add_middleware(CatchAll)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if security.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(security.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["X-Error-Id", "Idempotent-Replayed", "Retry-After"],
            max_age=600,
        )
    for router in ROUTERS:
        app.include_router(router)
    _prepare(app)
    return app


def _prepare(app: FastAPI) -> None:
    """Do now, before the event loop runs, what FastAPI would otherwise do on it at the
    first requests: resolve the included routers' routes (FastAPI >= 0.137 defers that to
    the first request, ~6 ms of pydantic adapters that the loop watchdog catches) and build
    the OpenAPI schema (~20 ms at the first `/openapi.json`). Building the schema resolves
    every route."""
    app.openapi()


def from_environment() -> FastAPI:
    """App factory for `uvicorn --factory`: serves the configuration named by SONI_CONFIG,
    secured by its `settings.server` (SONI_INSECURE_NO_AUTH=1 turns authentication off)."""
    path = os.environ.get("SONI_CONFIG")
    if not path:
        raise RuntimeError("set SONI_CONFIG to a domain YAML file or directory")
    settings, base_dir = load_server_settings(path)
    insecure = os.environ.get("SONI_INSECURE_NO_AUTH") == "1"
    security = build_security(settings, base_dir, os.environ, insecure_no_auth=insecure)
    if insecure:
        warn_insecure()
    return create_app(path, security=security)
