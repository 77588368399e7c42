"""The FastAPI application: `/chat`, `/state/{user_id}`, `/health` and `/ready`.

    uvicorn --factory soni.server.app:from_environment   # SONI_CONFIG=domain.yaml

`soni serve` is the usual way in; the factory is for process managers that want an app.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Path, Response

from soni import __version__
from soni.config.loader import SoniConfig
from soni.errors import StaleStateError
from soni.server import errors, health
from soni.server.errors import ApiError
from soni.server.guards import BodyLimit, CatchAll
from soni.server.host import NotServing, Phase, RuntimeHost
from soni.server.loop_lag import LoopLagMonitor
from soni.server.models import (
    MAX_BODY_BYTES,
    USER_ID_PATTERN,
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    HealthResponse,
    ReadyResponse,
    StateResponse,
)

UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, examples=["alice"])]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


def create_app(
    source: SoniConfig | str | os.PathLike[str] | None = None,
    *,
    host: RuntimeHost | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """An app serving `source` (a loaded config, or a path loaded in the background),
    or the given `host`."""
    if host is None:
        if source is None:
            raise ValueError("create_app needs a configuration or a RuntimeHost")
        host = RuntimeHost(source)
    runtime_host = host
    lag = LoopLagMonitor()
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lag.start()
        runtime_host.start()
        try:
            yield
        finally:
            await runtime_host.stop()
            await lag.stop()

    app = FastAPI(
        title="soni",
        version=__version__,
        summary="A task-oriented dialogue runtime.",
        lifespan=lifespan,
        responses=_errors(500),
    )
    errors.install(app)
    app.add_middleware(CatchAll)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    @app.post("/chat", responses=_errors(400, 413, 422, 503))
    async def chat(request: ChatRequest) -> ChatResponse:
        """One user message in, the bot's reply and the conversation's state out. A user's
        messages are handled one at a time, in arrival order."""
        user = request.user_id
        try:
            result = await runtime_host.call(
                lambda runtime: runtime.process_message(user, request.message)
            )
        except StaleStateError as error:
            raise ApiError(
                422,
                "invalid_state",
                f"user {user!r}: {error}; DELETE /state/{user} starts the conversation over",
                logged=True,
            ) from error
        response = ChatResponse.of(result)
        if result.failures:
            failed = ", ".join(repr(failure.action) for failure in result.failures)
            raise ApiError(
                422,
                "action_failed",
                f"action {failed} failed; the bot apologised and stopped the flow",
                {
                    "turn": response.model_dump(mode="json"),
                    "failures": [
                        {"action": failure.action, "message": failure.message}
                        for failure in result.failures
                    ],
                },
                logged=True,
            )
        return response

    @app.get("/state/{user_id}", responses=_errors(404, 422, 503))
    async def get_state(user_id: UserId) -> StateResponse:
        state = await runtime_host.call(lambda runtime: runtime.get_state(user_id))
        if state is None:
            raise ApiError(404, "unknown_user", f"there is no conversation for user {user_id!r}")
        return StateResponse.of(user_id, state)

    @app.delete("/state/{user_id}", status_code=204, responses=_errors(422, 503))
    async def delete_state(user_id: UserId) -> Response:
        """Forget a user's conversation; forgetting an unknown user is not an error."""
        await runtime_host.call(lambda runtime: runtime.reset_state(user_id))
        return Response(status_code=204)

    @app.get("/health", responses=_errors(503))
    async def get_health() -> HealthResponse:
        """Liveness: 200 while the process works (also while starting or stopping), 503
        when a component fails."""
        report = await health.report(runtime_host, lag, started)
        if report.status == "failing":
            raise ApiError(503, "unhealthy", "a component is failing", report.model_dump())
        return report

    @app.get("/ready", responses=_errors(503))
    async def get_ready() -> ReadyResponse:
        """Readiness: 200 once the runtime serves turns, 503 before and once shutdown
        begins."""
        phase = runtime_host.phase
        if phase is not Phase.READY:
            raise NotServing(phase, runtime_host.failure)
        return ReadyResponse(ready=True, phase=phase.value)

    return app


def from_environment() -> FastAPI:
    """App factory for `uvicorn --factory`: serves the configuration named by SONI_CONFIG."""
    path = os.environ.get("SONI_CONFIG")
    if not path:
        raise RuntimeError("set SONI_CONFIG to a domain YAML file or directory")
    return create_app(path)
