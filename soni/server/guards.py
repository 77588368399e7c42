"""Two ASGI guards around the app: a body-size limit and a last-resort 500.

Plain ASGI (not `BaseHTTPMiddleware`), so they cost a function call per request, and the
500 is sent here rather than by Starlette's `ServerErrorMiddleware`, which would re-raise
and have uvicorn log the same stack a second time.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soni.server.errors import error_response, new_error_id

log = logging.getLogger("soni.server")


class BodyLimit:
    """413 for a body over `max_bytes`: up front from Content-Length, else while it streams
    (the `HTTPException` raised from `receive` reaches the app's error handlers)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(413, "payload_too_large", self._message)
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(413, self._message)
            return message

        await self.app(scope, counted, send)

    @property
    def _message(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"


class CatchAll:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            error_id = new_error_id()
            log.exception(
                "%s %s failed [error id %s]", scope.get("method"), scope.get("path"), error_id
            )
            if started:
                raise
            message = f"internal error; the server log has the details under id {error_id}"
            response = error_response(500, "internal_error", message, error_id=error_id)
            await response(scope, receive, tracked)
