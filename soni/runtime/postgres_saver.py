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

    async def akeep_newest(self, thread_id: str, keep: int) -> int:
        """See `soni.runtime.history.Prunable`: one statement (`_KEEP_NEWEST`)."""
        async with self._cursor() as cursor:
            await cursor.execute(_KEEP_NEWEST, {"thread": thread_id, "keep": keep})
            row = await cursor.fetchone()
        return int(row["checkpoints"]) if row else 0


_KEEP_NEWEST = """
WITH ranked AS (
    SELECT checkpoint_ns, checkpoint_id, checkpoint -> 'channel_versions' AS versions,
        row_number() OVER (PARTITION BY checkpoint_ns ORDER BY checkpoint_id DESC) AS age
    FROM checkpoints WHERE thread_id = %(thread)s
), gone AS (
    DELETE FROM checkpoints c USING ranked r
    WHERE c.thread_id = %(thread)s AND r.age > %(keep)s
        AND c.checkpoint_ns = r.checkpoint_ns AND c.checkpoint_id = r.checkpoint_id
    RETURNING c.checkpoint_ns, c.checkpoint_id, r.versions
), writes AS (
    DELETE FROM checkpoint_writes w USING gone g
    WHERE w.thread_id = %(thread)s
        AND w.checkpoint_ns = g.checkpoint_ns AND w.checkpoint_id = g.checkpoint_id
    RETURNING 1
), unlinked AS (
    UPDATE checkpoints c SET parent_checkpoint_id = NULL FROM ranked r
    WHERE c.thread_id = %(thread)s AND r.age <= %(keep)s
        AND c.checkpoint_ns = r.checkpoint_ns AND c.checkpoint_id = r.checkpoint_id
        AND c.parent_checkpoint_id IN (
            SELECT g.checkpoint_id FROM gone g WHERE g.checkpoint_ns = c.checkpoint_ns
        )
    RETURNING 1
), garbage AS (
    SELECT g.checkpoint_ns, v.key AS channel, v.value AS version
    FROM gone g CROSS JOIN LATERAL jsonb_each_text(g.versions) AS v
    EXCEPT
    SELECT r.checkpoint_ns, v.key, v.value
    FROM ranked r CROSS JOIN LATERAL jsonb_each_text(r.versions) AS v
    WHERE r.age <= %(keep)s
), blobs AS (
    DELETE FROM checkpoint_blobs b USING garbage x
    WHERE b.thread_id = %(thread)s AND b.checkpoint_ns = x.checkpoint_ns
        AND b.channel = x.channel AND b.version = x.version
    RETURNING 1
)
SELECT (SELECT count(*) FROM gone) AS checkpoints, (SELECT count(*) FROM writes) AS writes,
    (SELECT count(*) FROM blobs) AS blobs, (SELECT count(*) FROM unlinked) AS unlinked
"""
"""One statement, so one snapshot and one transaction. A blob (keyed by channel and version)
is shared by every checkpoint whose `channel_versions` name it: only those a deleted
checkpoint named and no kept one does are deleted (what a turn is saving now is neither)."""
