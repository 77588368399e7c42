"""A small LSP client over a server's stdin/stdout, for the server's tests and benchmark
(and any script that wants to talk to `soni-audit server` or another language server).

Plain JSON-RPC with `Content-Length` framing, no types: what goes on the wire is what the
tests assert on. A reader thread files every message from the server; requests the server
sends (`client/registerCapability`, `workspace/diagnostic/refresh`) are answered with null.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

Message = dict[str, Any]


class ServerError(Exception):
    """The server answered a request with an error."""

    def __init__(self, error: Message) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")


class LspClient:
    def __init__(
        self, command: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.process = subprocess.Popen(  # noqa: S603 -- the server command the caller chose
            list(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._stdin: IO[bytes] = self.process.stdin
        self._ids = itertools.count(1)
        self._responses: dict[int, queue.Queue[Message]] = {}
        self._lock = threading.Lock()
        self.notifications: queue.Queue[Message] = queue.Queue()
        self._closed = threading.Event()
        self.stderr = b""
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.start()
        self._errors = threading.Thread(target=self._drain_stderr, daemon=True)
        self._errors.start()

    # -- wire ------------------------------------------------------------------------------

    def send(self, message: Message) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        with self._lock:
            self._stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self._stdin.flush()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = 0
            while (header := stream.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not header:  # the server is gone: nothing more will answer
                self._closed.set()
                return
            message: Message = json.loads(stream.read(length))
            if "method" in message and "id" in message:  # a request from the server
                with contextlib.suppress(OSError, ValueError):  # unless we hung up
                    self.send({"id": message["id"], "result": None})
                self.notifications.put(message)
            elif "method" in message:
                self.notifications.put(message)
            else:
                self._slot(message["id"]).put(message)

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr += line

    def _slot(self, number: int) -> queue.Queue[Message]:
        with self._lock:
            return self._responses.setdefault(number, queue.Queue())

    # -- requests and notifications -------------------------------------------------------

    def request(self, method: str, params: Any = None, timeout: float = 60) -> Any:
        number = next(self._ids)
        slot = self._slot(number)
        self.send({"id": number, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            try:
                response = slot.get(timeout=0.1)
                break
            except queue.Empty:
                if self._closed.is_set() or time.monotonic() > deadline:
                    raise ServerError({"message": f"no answer to {method}"}) from None
        if "error" in response:
            raise ServerError(response["error"])
        return response.get("result")

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def wait_for(
        self, method: str, where: Callable[[Message], bool] = lambda _: True, timeout: float = 60
    ) -> Message:
        """The next notification (or server request) `method` whose params satisfy
        `where`; the messages before it stay queued."""
        deadline = time.monotonic() + timeout
        kept = []
        try:
            while True:
                message = self.notifications.get(timeout=max(0.0, deadline - time.monotonic()))
                if message["method"] == method and where(message.get("params") or {}):
                    return message
                kept.append(message)
        finally:
            for message in kept:
                self.notifications.put(message)

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 60) -> Any:
        """The next diagnostics published for `uri` (for `version`, when given)."""
        message = self.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and (version is None or p.get("version") == version),
            timeout,
        )
        return message["params"]["diagnostics"]

    # -- the usual conversation ------------------------------------------------------------

    def initialize(self, folders: Sequence[Path], capabilities: Message | None = None) -> Any:
        result = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": folders[0].as_uri() if folders else None,
                "workspaceFolders": [{"uri": f.as_uri(), "name": f.name} for f in folders],
                "capabilities": capabilities or {},
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        document = {"uri": uri, "languageId": "python", "version": version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": document})
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def close(self, timeout: float = 30) -> int:
        """shutdown, exit, and the server's exit status."""
        self.request("shutdown")
        self.notify("exit")
        return self.wait(timeout)

    def wait(self, timeout: float = 30) -> int:
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(5)
