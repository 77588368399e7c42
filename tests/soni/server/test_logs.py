"""The server's log lines are written by threads, not by the event loop."""

from __future__ import annotations

import asyncio
import io
import logging
import threading

from uvicorn.logging import AccessFormatter

from soni.server.logs import written_off_the_loop


class _Writer(logging.Handler):
    """Remembers which thread wrote each line."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((threading.current_thread().name, self.format(record)))


def test_lines_are_written_off_the_loop_and_each_reaches_only_its_loggers_handlers() -> None:
    soni_writer, access_writer = _Writer(), _Writer()
    access_writer.setFormatter(
        AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
    )
    root, access = logging.getLogger("test.logs.root"), logging.getLogger("test.logs.access")
    root.addHandler(soni_writer)
    access.addHandler(access_writer)
    access.propagate = False
    access.setLevel(logging.INFO)

    async def serve() -> str:
        root.warning("blocked %d ms", 12)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/ready", "1.1", 200)
        return threading.current_thread().name

    try:
        with written_off_the_loop(("test.logs.root", "test.logs.access", "test.logs.none")):
            loop_thread = asyncio.run(serve())
    finally:
        root.removeHandler(soni_writer)
        access.removeHandler(access_writer)
    assert [line for _, line in soni_writer.lines] == ["blocked 12 ms"]
    assert [line for _, line in access_writer.lines] == [
        '127.0.0.1:5 - "GET /ready HTTP/1.1" 200 OK'
    ]
    writers = {thread for thread, _ in soni_writer.lines + access_writer.lines}
    assert loop_thread not in writers


def test_the_handlers_are_put_back_and_nothing_queued_is_lost() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.logs.drain")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with written_off_the_loop(("test.logs.drain",)):
            assert handler not in logger.handlers
            for number in range(200):
                logger.info("line %d", number)
        assert logger.handlers == [handler]
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [f"line {number}" for number in range(200)]
