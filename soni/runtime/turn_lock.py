"""One turn of a user at a time across every process that shares the conversations.

Inside one process, `RuntimeLoop`'s per-user asyncio locks are enough (memory and SQLite).
Replicas on one PostgreSQL also take a transaction-scoped advisory lock keyed by the user id
for the length of the turn. Without it, two replicas could read the same checkpoint and both
write a child of it: one turn would be lost and the conversation forked. PostgreSQL
releases the lock when the transaction ends, and also when the connection of a replica
that died is dropped, so a crash never leaves a user locked out.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Protocol

from soni.runtime.pg_pool import open_pool, recovering

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
        self._pool = await open_pool(
            self._dsn, self._stack, name="soni-turn-locks", max_size=POOL_SIZE
        )
        return self

    @asynccontextmanager
    async def hold(self, user_id: str) -> AsyncIterator[None]:
        held = await recovering(self._pool, functools.partial(self._take, lock_key(user_id)))
        async with held:
            yield

    async def _take(self, key: int) -> AsyncExitStack:
        """A connection in a transaction that holds `key`; leaving the stack releases both."""
        # a failure unwinds as the failure it is: the pool then drops a broken connection
        async with AsyncExitStack() as taking:
            connection = await taking.enter_async_context(self._pool.connection())
            await taking.enter_async_context(connection.transaction())
            await connection.execute("select pg_advisory_xact_lock(%s)", (key,))
            return taking.pop_all()
