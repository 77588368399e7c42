"""HTTP clients of a server under test, and what its replies say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from harness.servers import Server


def open_client(server: Server, connections: int = 1) -> httpx.AsyncClient:
    """One client per simulated user, as in life (one browser, one connection): a single
    httpx pool shared by 50 busy users costs more CPU than the server does (measured: it
    capped a trivial GET at ~300 req/s, where one client per user reaches ~2,400)."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=server.url, limits=limits, timeout=30.0, headers=server.headers
    )


@asynccontextmanager
async def open_clients(
    server: Server, count: int, connections: int = 1
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` clients of `server`, open for the block."""
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(open_client(server, connections))
            for _ in range(count)
        ]


async def say(client: httpx.AsyncClient, user: str, message: str) -> httpx.Response:
    return await client.post("/chat", json={"user_id": user, "message": message})


def failure(reply: httpx.Response | BaseException) -> str:
    """What went wrong with a request, or "" if nothing did."""
    if isinstance(reply, BaseException):
        return f"{type(reply).__name__}: {reply}"[:80]
    if reply.status_code == 200:
        return ""
    try:
        kind = reply.json()["error"]["type"]
    except (ValueError, KeyError, TypeError):
        kind = reply.text[:40]
    return f"{reply.status_code} {kind}"


def turn(reply: httpx.Response) -> int | None:
    """The turn number a reply reports if the turn ran: a reply, or an action failure the
    bot answered (the turn is saved); None otherwise."""
    problem = failure(reply)
    if not problem:
        return int(reply.json()["turn"])
    if problem == "422 action_failed":
        return int(reply.json()["error"]["details"]["turn"]["turn"])
    return None
