"""What the routes are handed: the server's long-lived parts, kept on `app.state` by
`create_app` and given to each handler through `Depends`, so routes hold no globals and a
test can swap a part with `app.dependency_overrides`.

The dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in its
thread pool, a thread hop per request for an attribute read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from soni.server.auth import Forbidden, Principal, Unauthenticated
from soni.server.errors import ApiError
from soni.server.host import RuntimeHost
from soni.server.loop_lag import LoopLagMonitor
from soni.server.ratelimit import RateLimiter, retry_after
from soni.server.security import Security

log = logging.getLogger("soni.server")


@dataclass(frozen=True)
class ServerParts:
    """Kept on `app.state.soni` (`create_app` puts it there)."""

    host: RuntimeHost
    lag: LoopLagMonitor
    started: float
    """`time.monotonic()` when the app was built: the start of its uptime."""
    security: Security


def parts_of(app: FastAPI) -> ServerParts:
    parts: ServerParts = app.state.soni
    return parts


async def get_parts(request: Request) -> ServerParts:
    return parts_of(request.app)


async def get_host(request: Request) -> RuntimeHost:
    return parts_of(request.app).host


_bearer = HTTPBearer(
    auto_error=False,
    description="The shared service token, or a JWT whose `sub` is the user's id.",
)


def _limited(limiter: RateLimiter | None, key: str, what: str) -> None:
    if limiter is None:
        return
    wait = limiter.wait_s(key)
    if wait > 0:
        bucket = limiter.bucket
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests {what}: {bucket.per_second:g} per second, {bucket.burst} at "
            f"once; retry in {wait:.1f} s",
            {"limit": what, "retry_after_s": round(wait, 3)},
            headers={"Retry-After": retry_after(wait)},
        )


def _address(request: Request) -> str:
    """The client's address (from trusted proxy headers, when there are some)."""
    return request.client.host if request.client else "unknown"


async def limit_client(request: Request) -> None:
    """The per-address limit, before anything else is done for the request."""
    _limited(parts_of(request.app).security.per_client, _address(request), "from this address")


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    auth = parts_of(request.app).security.auth
    try:
        return auth.principal(credentials.credentials if credentials else None)
    except Unauthenticated as error:
        log.warning(
            "%s %s from %s: not authenticated: %s",
            request.method,
            request.url.path,
            _address(request),
            error.reason,
        )
        raise ApiError(
            401, "unauthorized", error.reason, headers={"WWW-Authenticate": error.challenge}
        ) from None


def admit(parts: ServerParts, caller: Principal, user_id: str) -> None:
    """May `caller` act for `user_id` now: 403 if not theirs, 429 over the user's limit."""
    try:
        parts.security.auth.authorize(caller, user_id)
    except Forbidden as error:
        raise ApiError(403, "forbidden", str(error)) from None
    _limited(parts.security.per_user, user_id, "for this user")


Parts = Annotated[ServerParts, Depends(get_parts)]
Host = Annotated[RuntimeHost, Depends(get_host)]
Caller = Annotated[Principal, Depends(get_caller)]
