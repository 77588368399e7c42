"""uvicorn's HTTP protocol with the two deadlines it lacks: an idle connection that never
sends a request, and a request that arrives too slowly.

uvicorn arms its keep-alive timer only after a response, so a connection that opens and
says nothing is held for ever, and so is one that trickles its headers or its body a byte
at a time (slowloris): every byte cancels the timer. Here a new connection gets the
keep-alive deadline too, and each request must arrive whole (headers and body) within
`request_timeout` seconds of its first byte, else the server answers 408 (if it has not
started a response) and closes the connection. `soni serve` uses this class.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from soni.server.errors import new_error_id
from soni.server.models import ErrorDetail, ErrorResponse

log = logging.getLogger("soni.server")


class DeadlineHttpProtocol(HttpToolsProtocol):
    """uvicorn's `http` class; `with_timeout(seconds)` makes one with another deadline."""

    request_timeout: ClassVar[float] = 20.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None
        self._request: RequestResponseCycle | None = None
        """The cycle of the request being read, once its headers are in."""

    @classmethod
    def with_timeout(cls, seconds: float) -> type[DeadlineHttpProtocol]:
        return type(cls.__name__, (cls,), {"request_timeout": seconds})

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(cast(asyncio.Transport, transport))
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request = None
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._request = self.cycle

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info(
            "closed the connection of %s: a request not received in full within %g s",
            f"{self.client[0]}:{self.client[1]}" if self.client else "a client",
            self.request_timeout,
        )
        if self._may_answer():
            self.transport.write(self._timeout_response())
        self.transport.close()

    def _may_answer(self) -> bool:
        """Only when no response is on the wire: neither this request's nor a previous one's."""
        cycle: RequestResponseCycle | None = self.cycle  # None before the first request
        writing = cycle is not None and cycle.response_started and not cycle.response_complete
        answered = self._request is not None and self._request.response_started
        return not writing and not answered

    def _timeout_response(self) -> bytes:
        error_id = new_error_id()
        message = f"the request was not received in full within {self.request_timeout:g} s"
        error = ErrorDetail(id=error_id, type="request_timeout", message=message)
        body = ErrorResponse(error=error).model_dump_json().encode()
        head = (
            "HTTP/1.1 408 Request Timeout\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            f"x-error-id: {error_id}\r\n"
            "connection: close\r\n\r\n"
        )
        return head.encode("ascii") + body
