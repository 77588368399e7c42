"""LangGraph's `AsyncPostgresSaver` over a pool whose connections are not tested per use:
an operation that a broken connection failed runs once more (see `pg_pool`). Each of them may
run twice: reads, and writes that are upserts keyed by the checkpoint."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg_pool import AsyncConnectionPool

from soni.runtime.pg_pool import recovering


class RecoveringPostgresSaver(AsyncPostgresSaver):
    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        super().__init__(pool)
        self._pool = pool

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
