"""Actions of the banking example, over a small SQLite database (aiosqlite, never blocking
the event loop). The database lives at $SONI_BANKING_DB, or in the system's temporary
directory, and is created with demo balances on first use.

While a runtime runs, its `lifespan` keeps one connection open and the actions take turns on
it: opening a connection per call (a thread, a file, the pragmas) cost more than the query.
Called outside a runtime, an action opens and closes its own."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiosqlite

DAILY_LIMIT = 1000.0
_SCHEMA = """
create table if not exists accounts (name text primary key, balance real not null);
create table if not exists transfers (id text primary key, beneficiary text, amount real);
create table if not exists blocked_cards (card text primary key, reference text);
insert or ignore into accounts values ('checking', 2500.0), ('savings', 12000.0);
"""


_ready: set[str] = set()
"""Databases whose schema this process has created: the schema script writes (and waits
for the write lock), so it runs once per database, not once per action."""


def _database() -> str:
    default = os.path.join(tempfile.gettempdir(), "soni-banking-demo.db")
    return os.environ.get("SONI_BANKING_DB", default)


_SETUP_ATTEMPTS = 5


async def _set_up(connection: aiosqlite.Connection) -> None:
    """WAL mode (balance reads never wait for a transfer being written) and the schema.

    The pragma's row is read and its cursor closed before anything else: a statement left
    unfinished keeps its read transaction open, and SQLite never calls the busy handler for a
    connection that already reads and then wants to write (that could deadlock), so the
    schema's insert failed at once with "database is locked" (SQLITE_BUSY, or
    SQLITE_BUSY_SNAPSHOT) whenever another connection was writing.

    Switching a brand-new file to WAL is such a read-then-write inside SQLite itself, so two
    connections or processes doing it at once can still meet that error: the steps are
    idempotent and retried a few times with a short backoff."""
    for attempt in range(_SETUP_ATTEMPTS):
        try:
            async with connection.execute("pragma journal_mode=wal") as cursor:
                await cursor.fetchall()
            await connection.executescript(_SCHEMA)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _SETUP_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.01 * 2**attempt)


async def _connect(path: str) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path)
    if path not in _ready:
        try:
            await _set_up(connection)
        except BaseException:
            # an unclosed connection keeps its non-daemon thread, and so the process, alive
            await connection.close()
            raise
        _ready.add(path)
    return connection


@dataclass
class _Shared:
    connection: aiosqlite.Connection
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One action at a time on the connection: a transfer's statements stay one transaction."""


_shared: dict[str, list[_Shared]] = {}
"""The connections the running runtimes' lifespans hold, by database."""


@asynccontextmanager
async def lifespan() -> AsyncIterator[None]:
    path = _database()
    shared = _Shared(await _connect(path))
    _shared.setdefault(path, []).append(shared)
    try:
        yield
    finally:
        _shared[path].remove(shared)
        if not _shared[path]:
            del _shared[path]
        await shared.connection.close()


@asynccontextmanager
async def _connection() -> AsyncIterator[aiosqlite.Connection]:
    path = _database()
    held = _shared.get(path)
    if held:
        async with held[0].turn:
            yield held[0].connection
        return
    connection = await _connect(path)
    try:
        yield connection
    finally:
        await connection.close()


async def get_balance(account: str) -> dict[str, float]:
    async with _connection() as connection:
        rows = await connection.execute_fetchall(
            "select balance from accounts where name = ?", (account,)
        )
    return {"balance": float(next(iter(rows))[0]) if rows else 0.0}


async def check_limits(amount: float) -> dict[str, bool | float]:
    balance = (await get_balance("checking"))["balance"]
    available = min(balance, DAILY_LIMIT)
    return {"over_limit": amount > available, "available": available}


async def execute_transfer(amount: float, beneficiary: str) -> dict[str, str]:
    reference = f"TX-{uuid.uuid4().hex[:8].upper()}"
    async with _connection() as connection:
        try:
            await connection.execute(
                "update accounts set balance = balance - ? where name = 'checking'", (amount,)
            )
            await connection.execute(
                "insert into transfers values (?, ?, ?)", (reference, beneficiary, amount)
            )
            await connection.commit()
        except BaseException:
            await connection.rollback()  # a shared connection must not keep half a transfer
            raise
    return {"tx_id": reference}


async def block_card(card: str) -> dict[str, str]:
    reference = f"BLK-{uuid.uuid4().hex[:8].upper()}"
    async with _connection() as connection:
        await connection.execute(
            "insert or replace into blocked_cards values (?, ?)", (card, reference)
        )
        await connection.commit()
    return {"reference": reference}
