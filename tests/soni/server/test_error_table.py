"""The domain error table, in process: a soni error raised during a turn gets the answer of
its row, a subclass the answer of its nearest row, any other soni error the catch-all's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import pytest

from soni.config import SoniConfig
from soni.config.models import PersistenceSettings
from soni.core.commands import Command
from soni.core.types import UnderstandingContext
from soni.errors import ConfigError, SoniError, StaleStateError
from soni.runtime import RuntimeLoop
from soni.server import Phase, RuntimeHost, create_app
from soni.server.errors import DOMAIN_ERRORS, rule_for
from soni.server.host import NotServing
from soni.server.security import Security


class Unexplained(SoniError):
    """A soni error no row of the table names."""


class Raising:
    """A command generator that fails the turn with `error`."""

    def __init__(self, error: SoniError) -> None:
        self.error = error

    async def generate(self, message: str, context: UnderstandingContext) -> Sequence[Command]:
        raise self.error


class Announced(RuntimeLoop):
    """A runtime that says when it has started (the host reports ready before anything
    else runs on the loop)."""

    def __init__(self, config: SoniConfig, error: SoniError, started: asyncio.Event) -> None:
        memory = PersistenceSettings(backend="memory")
        super().__init__(config, generator=Raising(error), persistence=memory)
        self.started = started

    async def __aenter__(self) -> RuntimeLoop:
        runtime = await super().__aenter__()
        self.started.set()
        return runtime


@asynccontextmanager
async def serving(config: SoniConfig, error: SoniError) -> AsyncIterator[httpx.AsyncClient]:
    started = asyncio.Event()
    host = RuntimeHost(config, runtime_factory=lambda _: Announced(config, error, started))
    app = create_app(host=host, security=Security.insecure())
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(started.wait(), timeout=30)
        assert host.phase is Phase.READY
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://soni") as client:
            yield client


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            StaleStateError("the saved conversation is in flow 'gone'"),
            "invalid_state",
            "user 'ann': the saved conversation is in flow 'gone'; "
            "DELETE /state/ann starts the conversation over",
        ),
        (
            Unexplained("something soni did not expect"),
            "domain_error",
            "something soni did not expect",
        ),
    ],
)
async def test_a_domain_error_in_a_turn_is_answered_by_its_row(
    config: SoniConfig,
    caplog: pytest.LogCaptureFixture,
    error: SoniError,
    kind: str,
    message: str,
) -> None:
    async with serving(config, error) as client:
        response = await client.post("/chat", json={"user_id": "ann", "message": "hello"})
    assert response.status_code == 422
    body = response.json()["error"]
    assert (body["type"], body["message"], body["details"]) == (kind, message, None)
    assert response.headers["x-error-id"] == body["id"]
    assert f"POST /chat: {kind}: {message} [error id {body['id']}]" in caplog.text


def test_an_error_takes_the_row_of_its_nearest_class() -> None:
    class Gone(StaleStateError):
        pass

    class Draining(NotServing):
        pass

    assert rule_for(Gone("x")) is DOMAIN_ERRORS[StaleStateError]
    assert rule_for(Draining(Phase.STOPPING)) is DOMAIN_ERRORS[NotServing]
    assert rule_for(ConfigError("bad")) is DOMAIN_ERRORS[SoniError]
    assert rule_for(Unexplained()) is DOMAIN_ERRORS[SoniError]


def test_not_serving_says_when_to_retry_and_logs_nothing() -> None:
    error = NotServing(Phase.STARTING)
    rule = rule_for(error)
    assert (rule.status, rule.type, rule.logged) == (503, "not_ready", False)
    assert rule.details(error) == {"phase": "starting"}
    assert rule.headers == {"Retry-After": "1"}
    assert rule.message(error) == "the runtime is starting"
