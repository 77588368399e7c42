"""LangGraph's `AsyncPostgresSaver` over a pool, used as a pool.

- Concurrently: the stock saver runs every operation of a process behind one asyncio lock
  (its connection may be a single one), so with 50 users at once each turn's read and write
  waited for everyone else's round trips. Each operation here takes its own connection from
  the pool and nothing else.
- Without testing a connection per use: an operation that a broken connection failed runs
  once more (see `pg_pool`). Each may run twice: reads, and upserts keyed by the checkpoint.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from soni.runtime.pg_pool import recovering


class RecoveringPostgresSaver(AsyncPostgresSaver):
    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        super().__init__(pool)
        self._pool = pool

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        """A cursor on a connection of its own; `pipeline` batches its statements into one
        round trip."""
        async with self._pool.connection() as connection:
            if pipeline:
                async with (
                    connection.pipeline(),
                    connection.cursor(binary=True, row_factory=dict_row) as cursor,
                ):
                    yield cursor
            else:
                async with connection.cursor(binary=True, row_factory=dict_row) as cursor:
                    yield cursor

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await recovering(self._pool, functools.partial(super().aget_tuple, config))

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        put = functools.partial(super().aput, config, checkpoint, metadata, new_versions)
        return await recovering(self._pool, put)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        put = functools.partial(super().aput_writes, config, writes, task_id, task_path)
        await recovering(self._pool, put)

    async def adelete_thread(self, thread_id: str) -> None:
        await recovering(self._pool, functools.partial(super().adelete_thread, thread_id))
