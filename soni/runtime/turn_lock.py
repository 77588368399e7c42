"""One turn of a user at a time across every process that shares the conversations.

Inside one process, `RuntimeLoop`'s per-user asyncio locks are enough (memory and SQLite).
Replicas on one PostgreSQL also take a transaction-scoped advisory lock keyed by the user id
for the length of the turn. Without it, two replicas could read the same checkpoint and both
write a child of it: one turn would be lost and the conversation forked. PostgreSQL
releases the lock when the transaction ends, and also when the connection of a replica
that died is dropped, so a crash never leaves a user locked out.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Protocol

POOL_SIZE = 20
"""Connections for turn locks per process: turns of this many users can hold one at once."""


class TurnLock(Protocol):
    def hold(self, user_id: str) -> AbstractAsyncContextManager[None]: ...


class ProcessOnly:
    """No lock beyond the process's own: the store is not shared with other processes."""

    @asynccontextmanager
    async def hold(self, user_id: str) -> AsyncIterator[None]:
        yield


def lock_key(user_id: str) -> int:
    """A stable signed 64-bit advisory lock id for `user_id` (the same in every replica)."""
    digest = hashlib.blake2b(b"soni-turn:" + user_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresTurnLock:
    def __init__(self, dsn: str, stack: AsyncExitStack) -> None:
        self._dsn = dsn
        self._stack = stack

    async def open(self) -> PostgresTurnLock:
        from psycopg_pool import AsyncConnectionPool

        self._pool = await self._stack.enter_async_context(
            AsyncConnectionPool(
                self._dsn,
                min_size=1,
                max_size=POOL_SIZE,
                check=AsyncConnectionPool.check_connection,  # survive a database restart
                open=False,
                name="soni-turn-locks",
            )
        )
        return self

    @asynccontextmanager
    async def hold(self, user_id: str) -> AsyncIterator[None]:
        async with self._pool.connection() as connection, connection.transaction():
            await connection.execute("select pg_advisory_xact_lock(%s)", (lock_key(user_id),))
            yield
