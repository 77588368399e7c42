"""Log lines written by a thread, not by the event loop: a handler that writes to a
terminal or a pipe blocks the loop for as long as the reader takes (seen: 10.5 ms for one
line on a loaded 2-core machine), so the server's handlers sit behind a queue."""

from __future__ import annotations

import logging
import logging.handlers
import queue
from collections.abc import Iterator
from contextlib import contextmanager

SERVER_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
"""The loggers the server configures handlers on (root: soni's own lines)."""


class _Enqueue(logging.handlers.QueueHandler):
    """Hands the record over as it is: the reader is a thread of this process, so nothing
    needs pickling, and uvicorn's access formatter still finds its arguments."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


@contextmanager
def written_off_the_loop(names: tuple[str, ...] = SERVER_LOGGERS) -> Iterator[None]:
    """While inside, the handlers of the named loggers run on writer threads (one per
    logger, so each record still reaches only its own logger's handlers); on the way out
    the queues are drained (no line lost) and the handlers are put back."""
    moved: list[tuple[logging.Logger, list[logging.Handler], logging.Handler]] = []
    listeners: list[logging.handlers.QueueListener] = []
    for name in names:
        logger = logging.getLogger(name or None)
        handlers = list(logger.handlers)
        if not handlers:
            continue
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        listeners.append(
            logging.handlers.QueueListener(records, *handlers, respect_handler_level=True)
        )
        route = _Enqueue(records)
        for handler in handlers:
            logger.removeHandler(handler)
        logger.addHandler(route)
        moved.append((logger, handlers, route))
    for listener in listeners:
        listener.start()
    try:
        yield
    finally:
        for listener in listeners:
            listener.stop()
        for logger, writers, enqueue in moved:
            logger.removeHandler(enqueue)
            for writer in writers:
                logger.addHandler(writer)
