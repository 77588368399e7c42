"""The SQLite checkpointer: LangGraph's `SqliteSaver`, driven from one worker thread.

Why not `AsyncSqliteSaver`: it makes about ten aiosqlite round trips per turn (cursor,
execute, fetch, commit, close), each a hand-off to its thread, all under one asyncio lock;
with 50 concurrent users the loop sat idle ~19% of the time waiting on them. Here each checkpoint
operation is a single hand-off to a dedicated thread that owns the connection, so the loop
never waits on SQLite and operations queue fairly (FIFO). The tables are the same as
`SqliteSaver`'s and `AsyncSqliteSaver`'s: a database written by either opens here.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.sqlite import SqliteSaver

_T = TypeVar("_T")


class ThreadedSqliteSaver(SqliteSaver):
    """Open it with `ThreadedSqliteSaver.open(path)`; the connection lives on its thread."""

    def __init__(self, conn: sqlite3.Connection, worker: ThreadPoolExecutor) -> None:
        super().__init__(conn)
        self._worker = worker

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str) -> AsyncIterator[ThreadedSqliteSaver]:
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soni-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(worker, _connect, path)
            try:
                saver = cls(conn, worker)
                await saver._call(saver.setup)
                yield saver
            finally:
                await loop.run_in_executor(worker, conn.close)
        finally:
            worker.shutdown(wait=False)

    async def _call(self, function: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, function, *args)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._call(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        def collect() -> list[CheckpointTuple]:
            return list(self.list(config, filter=filter, before=before, limit=limit))

        for item in await self._call(collect):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await self._call(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._call(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._call(self.delete_thread, thread_id)

    async def akeep_newest(self, thread_id: str, keep: int) -> int:
        """See `soni.runtime.history.Prunable`: one transaction, on the connection's thread."""
        return await self._call(self._keep_newest, thread_id, keep)

    def _keep_newest(self, thread_id: str, keep: int) -> int:
        with self.lock, self.conn:
            doomed = [
                (thread_id, ns, checkpoint_id)
                for ns, checkpoint_id in self.conn.execute(_DOOMED, (thread_id, keep))
            ]
            for statement in _DELETE:
                self.conn.executemany(statement, doomed)
        return len(doomed)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        def collect() -> Mapping[str, DeltaChannelHistory]:
            return self.get_delta_channel_history(config=config, channels=channels)

        return await self._call(collect)


_DOOMED = """
SELECT checkpoint_ns, checkpoint_id FROM (
    SELECT checkpoint_ns, checkpoint_id,
        row_number() OVER (PARTITION BY checkpoint_ns ORDER BY checkpoint_id DESC) AS age
    FROM checkpoints WHERE thread_id = ?
) WHERE age > ?
"""
_DELETE = (
    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
    # the oldest one kept had its parent deleted: no reference to a missing checkpoint
    "UPDATE checkpoints SET parent_checkpoint_id = NULL"
    " WHERE thread_id = ? AND checkpoint_ns = ? AND parent_checkpoint_id = ?",
)


def _connect(path: str) -> sqlite3.Connection:
    # Opened, used and closed on the worker thread only: sqlite3's same-thread check
    # stays on, so a synchronous call from the event loop fails loudly instead of blocking.
    return sqlite3.connect(path)
