"""PostgreSQL connection pools that outlive a database restart, at no cost per turn.

psycopg_pool can test every connection as it is taken (`check=`), but that is a round trip
each time, and a turn takes several connections: it cost ~1.2 ms of CPU per turn. Instead
a connection is trusted until it fails. When an operation fails because of the connection
(the database restarted: every pooled connection is dead), the pool tests and replaces its
idle connections once and the operation runs again. Only operations that may safely run
twice go through `recovering`: taking a lock, reading, and upserts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("soni.runtime")
_T = TypeVar("_T")


async def open_pool(
    dsn: str, stack: AsyncExitStack, *, name: str, max_size: int, **options: Any
) -> AsyncConnectionPool[Any]:
    """A pool of at most `max_size` connections, closed with `stack`."""
    from psycopg_pool import AsyncConnectionPool

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        dsn, min_size=1, max_size=max_size, open=False, name=name, **options
    )
    return await stack.enter_async_context(pool)


async def recovering(pool: AsyncConnectionPool[Any], operation: Callable[[], Awaitable[_T]]) -> _T:
    """`operation()`, run a second time on fresh connections if a broken one failed it."""
    from psycopg import OperationalError
    from psycopg_pool import PoolTimeout

    try:
        return await operation()
    except PoolTimeout:
        raise  # no connection to be had at all: trying again would only wait again
    except OperationalError as error:
        log.warning(
            "%s: a connection failed (%s); testing the pool, trying again", pool.name, error
        )
        await pool.check()
        return await operation()
