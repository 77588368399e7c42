"""Checkpointers: memory (tests), SQLite (default; see `sqlite_saver`) and Postgres
(several replicas).

They are opened inside the `RuntimeLoop`'s exit stack, so closing the loop closes their
connections, also when startup fails half way.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from langgraph.checkpoint.base import BaseCheckpointSaver

from soni.config.loader import SoniConfig
from soni.config.models import PersistenceSettings
from soni.runtime.memory_saver import PrunableMemorySaver
from soni.runtime.pg_pool import open_pool
from soni.runtime.sqlite_saver import ThreadedSqliteSaver
from soni.runtime.turn_lock import PostgresTurnLock, ProcessOnly, TurnLock

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.rows import DictRow
    from psycopg_pool import AsyncConnectionPool


async def open_checkpointer(
    settings: PersistenceSettings, config: SoniConfig, stack: AsyncExitStack
) -> BaseCheckpointSaver[str]:
    if settings.backend == "memory":
        return PrunableMemorySaver()
    if settings.backend == "sqlite":
        path = config.resolve(settings.path)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        return await stack.enter_async_context(ThreadedSqliteSaver.open(str(path)))
    # An optional dependency, imported when chosen; importing reads files: not on the loop.
    await asyncio.to_thread(importlib.import_module, "soni.runtime.postgres_saver")
    from psycopg import AsyncConnection
    from psycopg.rows import DictRow, dict_row

    from soni.runtime.postgres_saver import RecoveringPostgresSaver

    assert settings.dsn is not None
    # A pool, not one connection: connections a database restart broke are replaced, so
    # the server recovers without being restarted (see `pg_pool`).
    pool = await open_pool(
        settings.dsn,
        stack,
        name="soni-checkpoints",
        max_size=SAVER_POOL_SIZE,
        connection_class=AsyncConnection[DictRow],
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    saver = RecoveringPostgresSaver(pool)
    async with _one_setup_at_a_time(pool):
        await saver.setup()
    return saver


SAVER_POOL_SIZE = 20

SETUP_LOCK = 0x736F6E69_7365_7475
"""A PostgreSQL advisory lock id of soni's own (b"sonisetu"), held while migrating."""


@asynccontextmanager
async def _one_setup_at_a_time(
    pool: AsyncConnectionPool[AsyncConnection[DictRow]],
) -> AsyncIterator[None]:
    """Replicas start together: their table migrations must take turns (two concurrent
    `setup()` calls on a fresh database fail with "relation ... already exists").

    The lock is polled, not waited for: a waiting `pg_advisory_lock` is a transaction in
    progress, which the migrations' `CREATE INDEX CONCURRENTLY` would wait for in turn."""
    async with pool.connection() as conn:
        while True:
            cursor = await conn.execute("select pg_try_advisory_lock(%s) as locked", (SETUP_LOCK,))
            row = await cursor.fetchone()
            if row is not None and row["locked"]:
                break
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            await conn.execute("select pg_advisory_unlock(%s)", (SETUP_LOCK,))


async def open_turn_lock(settings: PersistenceSettings, stack: AsyncExitStack) -> TurnLock:
    """The cross-process turn lock the backend needs (see `turn_lock`)."""
    if settings.backend != "postgres":
        return ProcessOnly()
    assert settings.dsn is not None
    return await PostgresTurnLock(settings.dsn, stack).open()
