"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for the tests and for
running the understanding evaluation's model pipeline where no model is reachable.

It speaks the real protocol (`POST /v1/chat/completions` over HTTP, served by uvicorn in a
thread of its own), so the official `openai` client talks to it as to any server. Each
request takes the next scripted reply (a completion's text, an HTTP error, a delay, a body
that is not JSON) or, when none is queued, what `default` makes of the request. Every
request is kept (`received`) with its headers, for the tests to read what was sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.servers import free_port

STARTUP_LIMIT_S = 30.0


@dataclass(frozen=True)
class Scripted:
    """One reply: `content` as the completion's text (JSON or not), else an HTTP `status`
    with an OpenAI-style error body, else `body` as a raw non-JSON body; after `delay_s`."""

    content: str | None = None
    status: int = 200
    body: str | None = None
    delay_s: float = 0.0


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    payload: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.payload.get("messages", [])
        return messages

    @property
    def prompt(self) -> str:
        """Every message's text, one after the other."""
        return "\n".join(str(message.get("content", "")) for message in self.messages)


def commands(*items: dict[str, Any]) -> Scripted:
    """A reply giving these commands."""
    return Scripted(content=json.dumps({"commands": list(items)}))


def nothing_to_do(_: Received) -> Scripted:
    """The default reply: the model finds nothing it can do."""
    return commands({"kind": "cannot_handle"})


@dataclass
class ScriptedChatServer:
    default: Callable[[Received], Scripted] = nothing_to_do
    """The reply to a request when none is queued."""
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    _queue: deque[Scripted] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API root to give as `base_url`."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Scripted) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget the queued replies and the requests received."""
        with self._lock:
            self._queue.clear()
            self.received.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def start(self) -> ScriptedChatServer:
        app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="chat-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the scripted chat server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=STARTUP_LIMIT_S)

    def __enter__(self) -> ScriptedChatServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def _complete(self, request: Request) -> Response:
        payload = await request.json()
        received = Received(dict(request.headers), payload)
        with self._lock:
            self.received.append(received)
            reply = self._queue.popleft() if self._queue else None
        if reply is None:
            reply = self.default(received)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.body is not None:
            return Response(reply.body, status_code=reply.status, media_type="text/plain")
        if reply.status != 200:
            error = {"message": f"scripted {reply.status}", "type": "scripted", "code": None}
            return JSONResponse({"error": error}, status_code=reply.status)
        return JSONResponse(_completion(payload.get("model", ""), reply.content))


def _completion(model: str, content: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
