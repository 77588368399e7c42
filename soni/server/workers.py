"""`soni serve --workers N`: N processes serving one listening socket, each a complete
`soni serve` (its own `RuntimeLoop`, its own database pools), supervised by the parent.

The parent binds the socket and spawns the workers; each builds its server afresh from the
command line (an app cannot be pickled) and tells the parent once its runtime serves turns.
A worker that dies after that is replaced while the others serve. A worker that exits
before it is ready stops them all, with its exit code (3: its runtime could not start):
what failed once would fail again, in a loop. SIGTERM or SIGINT to the parent is passed on
as SIGTERM, so every worker drains its turns; a second signal is passed on as it is (a
second SIGINT forces the workers out). A worker whose parent is gone stops by itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from types import FrameType

from soni.config.models import PersistenceSettings
from soni.server.serve import EXIT_RUNTIME_FAILED, ServeOptions, log_format

log = logging.getLogger("soni.server.workers")
_spawn = multiprocessing.get_context("spawn")

WorkerMain = Callable[[list[socket.socket], Callable[[], None]], int]
"""Serves one worker in its process: `(sockets, on_ready) -> exit code`. It is pickled to
the worker, so it is a module-level function or a partial of one."""

_CLEAN_EXITS = (0, -signal.SIGTERM, -signal.SIGINT)
"""How a worker ends once it was asked to stop (uvicorn re-raises the signal it got)."""

_UNSHARED = {
    "sqlite": "one user's turns are kept in order by a lock inside one process, so two "
    "workers could run one conversation at once",
    "memory": "each worker would keep conversations of its own",
}


def refusal(options: ServeOptions, persistence: PersistenceSettings) -> str | None:
    """Why these options cannot be served by several workers, or None if they can."""
    if options.workers == 1:
        return None
    if options.loop_watchdog_report is not None:
        return (
            f"--loop-watchdog-report is written by one process: use it with --workers 1 "
            f"(--loop-watchdog-ms works with --workers {options.workers})"
        )
    if options.state is not None:
        where, backend = f"--state keeps them in the SQLite file {options.state}", "sqlite"
    elif persistence.backend != "postgres":
        backend = persistence.backend
        where = f"settings.persistence.backend is {backend}"
    else:
        return None
    return (
        f"--workers {options.workers} needs conversations in PostgreSQL ({where}): "
        f"{_UNSHARED[backend]}. Set settings.persistence to {{backend: postgres, dsn: ...}} "
        "or serve with --workers 1"
    )


def supervise(options: ServeOptions, main: WorkerMain) -> int:
    """Serve `options.host:port` from `options.workers` processes until a signal: 0 once
    they all stopped cleanly, else the exit code of the worker that did not."""
    logging.basicConfig(level=options.log_level.upper(), format=log_format(options))
    try:
        listener = _bind(options.host, options.port)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", options.host, options.port, error)
        return EXIT_RUNTIME_FAILED
    with listener:
        host, port = listener.getsockname()[:2]
        address = f"[{host}]" if listener.family == socket.AF_INET6 else host
        log.info("listening on http://%s:%d with %d workers", address, port, options.workers)
        return _Supervisor(options.workers, main, listener).run()


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket the workers share (as uvicorn binds one for its workers)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


@dataclass
class _Worker:
    process: SpawnProcess
    ready: Connection
    """The parent's end of a pipe the worker writes once, when it is ready."""
    lifeline: Connection
    """The parent's end of a pipe nobody writes: the worker stops when it closes."""
    serving: bool = False

    def read_ready(self) -> bool:
        """Whether the worker said it is ready just now (True once)."""
        if self.serving or not self.ready.poll():
            return False
        with suppress(EOFError):  # it died before it was ready: its sentinel says so
            self.ready.recv_bytes()
            self.serving = True
        return self.serving

    def close(self) -> None:
        self.ready.close()
        self.lifeline.close()


class _Supervisor:
    def __init__(self, count: int, main: WorkerMain, listener: socket.socket) -> None:
        self._count = count
        self._main = main
        self._listener: socket.socket | None = listener
        self._workers: list[_Worker] = []
        self._signals: list[int] = []
        self._stops = 0
        """Stop signals handled so far (the first is passed on as SIGTERM)."""
        self._exit = 0

    def run(self) -> int:
        with _signals_wake(self._signals) as wakeup:
            for _ in range(self._count):
                self._start()
            while self._workers:
                wait(
                    [
                        wakeup,
                        *(worker.process.sentinel for worker in self._workers),
                        *(worker.ready for worker in self._workers if not worker.serving),
                    ]
                )
                with suppress(BlockingIOError):
                    wakeup.recv(64)
                self._handle_signals()
                for worker in list(self._workers):
                    self._check(worker)
        log.info("all workers stopped")
        return self._exit

    def _start(self) -> None:
        assert self._listener is not None
        ready, ready_end = _spawn.Pipe(duplex=False)
        lifeline_end, lifeline = _spawn.Pipe(duplex=False)
        process = _spawn.Process(
            target=_worker,
            args=(self._main, [self._listener], ready_end, lifeline_end),
            name="soni-worker",
        )
        process.start()
        ready_end.close()
        lifeline_end.close()
        self._workers.append(_Worker(process, ready, lifeline))
        log.info("worker %d started", process.pid)

    def _check(self, worker: _Worker) -> None:
        if worker.read_ready():
            log.info("worker %d ready", worker.process.pid)
        if worker.process.is_alive():
            return
        worker.process.join()
        worker.close()
        self._workers.remove(worker)
        code = worker.process.exitcode
        assert code is not None
        if self._stops:
            if code not in _CLEAN_EXITS:
                log.error("worker %d stopped uncleanly (%s)", worker.process.pid, _how(code))
                self._exit = self._exit or (code if code > 0 else 1)
        elif not worker.serving:
            log.error(
                "worker %d exited before it was ready (%s): stopping the others",
                worker.process.pid,
                _how(code),
            )
            self._exit = code if code > 0 else EXIT_RUNTIME_FAILED
            self._stop(signal.SIGTERM)
        else:
            log.error("worker %d died (%s): starting another", worker.process.pid, _how(code))
            self._start()

    def _handle_signals(self) -> None:
        while self._signals:
            sig = self._signals.pop(0)
            log.info("%s: stopping the workers", signal.Signals(sig).name)
            self._stop(sig)

    def _stop(self, sig: int) -> None:
        """The first stop asks every worker to drain (SIGTERM); later ones pass `sig` on."""
        forwarded = signal.SIGTERM if self._stops == 0 else sig
        self._stops += 1
        if self._listener is not None:
            self._listener.close()  # no worker is started again: new connections are refused
            self._listener = None  # once the workers close theirs
        for worker in self._workers:
            if worker.process.is_alive():
                assert worker.process.pid is not None
                os.kill(worker.process.pid, forwarded)


def _how(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


@contextmanager
def _signals_wake(received: list[int]) -> Iterator[socket.socket]:
    """SIGTERM and SIGINT are queued in `received` and make the returned socket readable,
    so a wait that includes it returns at once."""
    wakeup, writer = socket.socketpair()
    wakeup.setblocking(False)
    writer.setblocking(False)

    def queue(sig: int, frame: FrameType | None) -> None:
        received.append(sig)

    previous = {sig: signal.signal(sig, queue) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    try:
        yield wakeup
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        wakeup.close()
        writer.close()


def _worker(
    main: WorkerMain, sockets: list[socket.socket], ready: Connection, lifeline: Connection
) -> None:
    """A worker process: serve, and stop gracefully if the supervisor goes away."""
    threading.Thread(
        target=_stop_when_orphaned, args=(lifeline,), name="soni-lifeline", daemon=True
    ).start()

    def on_ready() -> None:
        ready.send_bytes(b"ready")

    try:
        code = main(sockets, on_ready)
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it stopped on
        code = 0
    raise SystemExit(code)


def _stop_when_orphaned(lifeline: Connection) -> None:
    with suppress(EOFError, OSError):
        lifeline.recv_bytes()
    log.warning("the supervisor is gone: stopping")
    os.kill(os.getpid(), signal.SIGTERM)
