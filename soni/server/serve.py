"""`soni serve`: uvicorn around the app, with readiness that drops as soon as a signal
arrives and an exit code that says why the server stopped."""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import logging
import socket
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

import soni
from soni.config.loader import SoniConfig
from soni.config.models import PersistenceSettings
from soni.runtime import ReceiptPolicy, RuntimeLoop
from soni.runtime.receipts import DAY_S
from soni.server.app import create_app
from soni.server.host import Phase, RuntimeHost
from soni.server.logs import written_off_the_loop
from soni.server.protocol import DeadlineHttpProtocol
from soni.server.security import Security, warn_insecure

if TYPE_CHECKING:
    from audit.profiling.asgi import ASGIApp
    from audit.profiling.blocks import Block

log = logging.getLogger("soni.server")

EXIT_RUNTIME_FAILED = 3
KEEP_ALIVE_S = 75
"""Longer than the clients and proxies in front keep an idle connection open (httpx 5 s,
aiohttp 15 s, nginx and AWS ALB 60 s): the side that closes an idle connection must be the
client, or a request sent just as the server closes is lost (see the README)."""
REQUEST_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    """Processes serving the port (`soni.server.workers`); each log line names its process
    when there are several."""
    keep_alive: int = KEEP_ALIVE_S
    """Close a connection idle this many seconds (also one that never sent a request)."""
    request_timeout: float = REQUEST_TIMEOUT_S
    """A request's headers and body must arrive within this many seconds of its first byte."""
    proxy_headers: bool = True
    """Take the client's address and scheme from X-Forwarded-For/-Proto (trusted peers only)."""
    forwarded_allow_ips: str | None = None
    """Peers trusted for proxy headers (uvicorn's default: $FORWARDED_ALLOW_IPS or 127.0.0.1)."""
    root_path: str = ""
    """The path prefix a proxy serves the app under (ASGI `root_path`)."""
    idempotency_ttl: float = DAY_S
    """Seconds an idempotency key is remembered."""
    log_level: str = "info"
    access_log: bool = True
    shutdown_delay: float = 0.0
    graceful_timeout: int = 30
    state: Path | None = None
    """Keep conversations in this SQLite file, whatever the configuration says."""
    loop_watchdog_ms: float | None = None
    """Log every stretch of at least this many ms in which the event loop was blocked."""
    loop_watchdog_report: Path | None = None
    """Write the loop blocks as findings JSON here at shutdown (`soni-audit profile --from`)."""


class _Server(uvicorn.Server):
    """On SIGTERM/SIGINT: `/ready` turns 503 at once; the listener closes `shutdown_delay`
    seconds later (time for a load balancer to notice); in-flight requests finish; then
    the runtime closes. A second signal skips the delay."""

    def __init__(
        self,
        config: uvicorn.Config,
        host: RuntimeHost,
        shutdown_delay: float,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.runtime_host = host
        self.shutdown_delay = shutdown_delay
        self.runtime_failed = False
        self._pending: tuple[float, int] | None = None
        self._on_ready = on_ready
        """Called once, when the runtime serves turns (a worker tells its supervisor)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.runtime_host.begin_shutdown()
        if self.shutdown_delay > 0 and self._pending is None and not self.should_exit:
            self._pending = (time.monotonic() + self.shutdown_delay, sig)
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._pending is not None and time.monotonic() >= self._pending[0]:
            super().handle_exit(self._pending[1], None)
        if self._on_ready is not None and self.runtime_host.phase is Phase.READY:
            on_ready, self._on_ready = self._on_ready, None
            on_ready()
        return await super().on_tick(counter)

    def runtime_failure(self, error: BaseException) -> None:
        self.runtime_failed = True
        self.should_exit = True

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """While serving, log lines are written off the loop; they are all written before
        uvicorn re-raises the signal that stopped it."""
        with super().capture_signals(), written_off_the_loop():
            yield


def _watched(app: FastAPI, config: SoniConfig, options: ServeOptions) -> ASGIApp:
    """The app, under the loop watchdog when a threshold is set. A block is charged to the
    configuration's own actions first, then to soni's code.

    The audit package is imported only here, so a server without the watchdog never loads
    it; `serve` calls this before uvicorn starts the event loop, so the import cannot block
    the loop."""
    if options.loop_watchdog_ms is None and options.loop_watchdog_report is None:
        return app
    from audit.profiling.asgi import LoopWatchdogMiddleware
    from audit.profiling.attribution import project_frame

    blocked = logging.getLogger("soni.server.loop")

    def log(block: Block) -> None:
        frame = project_frame(block.stack, watched.dog.project)
        leaf = block.stack[-1]
        blocked.warning(
            "event loop blocked %.1f ms at %s:%d in %s (innermost: %s:%d in %s)",
            block.duration * 1000,
            frame.file,
            frame.line,
            frame.function,
            leaf.file,
            leaf.line,
            leaf.function,
        )

    watched = LoopWatchdogMiddleware(
        app,
        threshold_ms=options.loop_watchdog_ms or 10.0,
        project_root=Path(soni.__file__).parent,
        extra_project_roots=(config.base_dir,),
        on_block=log,
        report=options.loop_watchdog_report,
    )
    return watched


def log_format(options: ServeOptions) -> str:
    """soni's log lines; with several workers they name the process that wrote them."""
    process = " [%(process)d]" if options.workers > 1 else ""
    return f"%(asctime)s %(levelname)s{process} %(name)s: %(message)s"


def _uvicorn_logging(options: ServeOptions) -> dict[str, Any]:
    """uvicorn's own log configuration; with several workers its lines (the access log too)
    name the process that wrote them."""
    if options.workers == 1:
        return LOGGING_CONFIG
    logging_config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in logging_config["formatters"].values():
        formatter["fmt"] = formatter["fmt"].replace(
            "%(levelprefix)s ", "%(levelprefix)s [%(process)d] ", 1
        )
    return logging_config


def serve(
    config: SoniConfig,
    options: ServeOptions,
    security: Security,
    *,
    sockets: list[socket.socket] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Serve until a signal; 0 after a clean shutdown, 3 if the runtime failed to start.
    A worker serves on the `sockets` its supervisor bound and calls `on_ready` once its
    runtime serves turns."""
    logging.basicConfig(level=options.log_level.upper(), format=log_format(options))
    if security.auth.enabled:
        log.info("authentication: %s", " and ".join(security.auth.methods))
    else:
        warn_insecure()
    server: _Server | None = None

    def failed(error: BaseException) -> None:
        if server is not None:
            server.runtime_failure(error)

    keep = config.domain.settings.persistence.keep_checkpoints
    persistence = (
        PersistenceSettings(backend="sqlite", path=str(options.state), keep_checkpoints=keep)
        if options.state
        else None
    )
    receipts = ReceiptPolicy(ttl_s=options.idempotency_ttl)
    factory = functools.partial(RuntimeLoop, persistence=persistence, receipts=receipts)
    host = RuntimeHost(
        config, runtime_factory=factory, on_failure=failed, listen_once_ready=options.workers > 1
    )
    app = create_app(host=host, security=security)
    uvicorn_config = uvicorn.Config(
        _watched(app, config, options),
        host=options.host,
        port=options.port,
        log_config=_uvicorn_logging(options),
        log_level=options.log_level,
        access_log=options.access_log,
        timeout_graceful_shutdown=options.graceful_timeout,
        timeout_keep_alive=options.keep_alive,
        http=DeadlineHttpProtocol.with_timeout(options.request_timeout),
        proxy_headers=options.proxy_headers,
        forwarded_allow_ips=options.forwarded_allow_ips,
        root_path=options.root_path,
        lifespan="on",
    )
    server = _Server(uvicorn_config, host, options.shutdown_delay, on_ready)
    # Everything imported so far lives as long as the process: keep the collector off it.
    gc.collect()
    gc.freeze()
    server.run(sockets)
    return EXIT_RUNTIME_FAILED if server.runtime_failed else 0
