"""Checkpointers: memory (tests), SQLite (default; see `sqlite_saver`) and Postgres
(several replicas).

They are opened inside the `RuntimeLoop`'s exit stack, so closing the loop closes their
connections, also when startup fails half way.
"""

from __future__ import annotations

import asyncio
import importlib
from contextlib import AsyncExitStack

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from soni.config.loader import SoniConfig
from soni.config.models import PersistenceSettings
from soni.runtime.sqlite_saver import ThreadedSqliteSaver


async def open_checkpointer(
    settings: PersistenceSettings, config: SoniConfig, stack: AsyncExitStack
) -> BaseCheckpointSaver[str]:
    if settings.backend == "memory":
        return InMemorySaver()
    if settings.backend == "sqlite":
        path = config.resolve(settings.path)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        return await stack.enter_async_context(ThreadedSqliteSaver.open(str(path)))
    # An optional dependency, imported when chosen; importing reads files: not on the loop.
    await asyncio.to_thread(importlib.import_module, "langgraph.checkpoint.postgres.aio")
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    assert settings.dsn is not None
    saver = await stack.enter_async_context(AsyncPostgresSaver.from_conn_string(settings.dsn))
    await saver.setup()
    return saver
