"""Replicas starting together on a fresh PostgreSQL database: the table migrations take
turns, so none of them fails with "relation already exists" (or waits for ever)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from psycopg import AsyncConnection, sql

from soni.config import SoniConfig
from soni.config.models import PersistenceSettings
from soni.runtime import RuntimeLoop
from tests.postgres import needs_postgres, postgres_dsn
from tests.soni.conftest import FixedClock, talk


@pytest.fixture
async def fresh_database() -> AsyncIterator[str]:
    name = f"soni_setup_{uuid.uuid4().hex[:12]}"
    async with await AsyncConnection.connect(postgres_dsn(), autocommit=True) as admin:
        await admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        try:
            yield postgres_dsn().rsplit("/", 1)[0] + "/" + name
        finally:
            await admin.execute(
                sql.SQL("drop database {} with (force)").format(sql.Identifier(name))
            )


@needs_postgres
async def test_replicas_starting_together_migrate_one_at_a_time(
    config: SoniConfig, fresh_database: str
) -> None:
    settings = PersistenceSettings(backend="postgres", dsn=fresh_database)
    async with AsyncExitStack() as stack:
        replicas = await asyncio.wait_for(
            asyncio.gather(
                *(
                    stack.enter_async_context(
                        RuntimeLoop(config, persistence=settings, clock=FixedClock())
                    )
                    for _ in range(4)
                )
            ),
            timeout=60,
        )
        assert await talk(replicas[0], "ann", "send money") == ["Who should receive it?"]
        assert (await replicas[3].get_state("ann")) is not None
