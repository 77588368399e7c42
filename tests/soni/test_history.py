"""Bounded history: a conversation keeps its last K checkpoints on every backend, and
pruning them changes nothing a user can see. Rows are counted in the stores themselves."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from soni.config import SoniConfig
from soni.config.models import PersistenceSettings
from soni.core.commands import Command
from soni.core.types import UnderstandingContext
from soni.du.generator import RuleBasedCommandGenerator
from soni.runtime import RuntimeLoop
from soni.runtime.history import due
from soni.runtime.receipts import ReceiptPolicy
from soni.runtime.turn_lock import lock_key
from tests.postgres import needs_postgres, postgres_dsn
from tests.soni.conftest import FixedClock
from tests.soni.test_config import BASE, _errors, _write

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=needs_postgres)]
CONVERSATION = ("send money", "Bob", "40", "yes", "what is my balance", "checking")
OFF = 10**9
"""A `keep_checkpoints` no conversation reaches: pruning never falls due."""


@dataclass(frozen=True)
class Rows:
    checkpoints: int
    writes: int


def _settings(backend: str, tmp_path: Path, keep: int) -> PersistenceSettings:
    if backend == "postgres":
        return PersistenceSettings(backend="postgres", dsn=postgres_dsn(), keep_checkpoints=keep)
    if backend == "sqlite":
        path = str(tmp_path / "state.db")
        return PersistenceSettings(backend="sqlite", path=path, keep_checkpoints=keep)
    return PersistenceSettings(backend="memory", keep_checkpoints=keep)


def _runtime(config: SoniConfig, settings: PersistenceSettings, **options: Any) -> RuntimeLoop:
    return RuntimeLoop(config, persistence=settings, clock=FixedClock(), **options)


async def _rows(runtime: RuntimeLoop, settings: PersistenceSettings, user: str) -> Rows:
    """The thread's rows, counted in the store itself rather than through the saver."""
    saver = runtime.checkpointer
    if isinstance(saver, InMemorySaver):
        return Rows(
            sum(len(ids) for ids in saver.storage.get(user, {}).values()),
            sum(len(w) for key, w in saver.writes.items() if key[0] == user),
        )
    if settings.backend == "sqlite":
        return await asyncio.to_thread(_sqlite_rows, settings.path, user)
    rows = await _postgres(
        "select (select count(*) from checkpoints where thread_id = %(u)s),"
        " (select count(*) from checkpoint_writes where thread_id = %(u)s)",
        u=user,
    )
    return Rows(*rows[0])


def _sqlite_rows(path: str, user: str) -> Rows:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "select (select count(*) from checkpoints where thread_id = :u),"
            " (select count(*) from writes where thread_id = :u)",
            {"u": user},
        ).fetchone()
    return Rows(*row)


async def _postgres(query: str, **params: object) -> list[tuple[Any, ...]]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(postgres_dsn()) as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()


async def _converse(
    runtime: RuntimeLoop, user: str, turns: range, *, keyed: bool = True
) -> list[tuple[str, int, dict[str, Any], bool]]:
    results = []
    for n in turns:
        result = await runtime.process_message(
            user, CONVERSATION[n % len(CONVERSATION)], idempotency_key=f"k{n}" if keyed else None
        )
        results.append((result.reply, result.turn, result.slots, result.replayed))
    return results


async def _history(runtime: RuntimeLoop, user: str) -> list[tuple[str, dict[str, Any]]]:
    """The thread's checkpoints, newest first: (id, channel values as the saver loads them)."""
    return [
        (item.config["configurable"]["checkpoint_id"], item.checkpoint["channel_values"])
        async for item in runtime.checkpointer.alist({"configurable": {"thread_id": user}})
    ]


# -- the setting and the trigger ----------------------------------------------------------------


def test_keep_checkpoints_is_small_by_default_and_keeps_at_least_one(tmp_path: Path) -> None:
    assert PersistenceSettings().keep_checkpoints == 3
    text = BASE.replace(
        'version: "1"\n', 'version: "1"\nsettings:\n  persistence: {keep_checkpoints: 0}\n'
    )
    errors = _errors(_write(tmp_path, "domain.yaml", text))
    assert any(
        ":3: settings.persistence.keep_checkpoints: Input should be greater than or equal to 1" in e
        for e in errors
    ), errors


def _outcome(turn: int, *, replayed: bool = False) -> dict[str, Any]:
    return {"outcome": {"answer": {"turn": turn}, "replayed": replayed, "conflict": False}}


@pytest.mark.parametrize(
    ("result", "keep", "expected"),
    [
        (_outcome(6), 3, True),
        (_outcome(7), 3, False),
        (_outcome(2, replayed=True), 3, True),  # a checkpoint, no turn
        (_outcome(7), 1, True),
        (_outcome(7), OFF, False),
    ],
)
def test_when_a_user_is_due(result: dict[str, Any], keep: int, expected: bool) -> None:
    assert due(result, keep) is expected


# -- over every backend -------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
async def test_fifty_turns_leave_at_most_the_bound_and_change_nothing(
    config: SoniConfig, tmp_path: Path, backend: str
) -> None:
    keep, user = 3, f"long-{uuid.uuid4().hex}"
    async with _runtime(config, _settings("memory", tmp_path, OFF)) as reference:
        expected = await _converse(reference, user, range(51))
        reference_state = await reference.get_state(user)
    settings = _settings(backend, tmp_path, keep)
    async with _runtime(config, settings) as runtime:
        assert await _converse(runtime, user, range(50)) == expected[:50]
        await runtime.pruner.settled()
        rows = await _rows(runtime, settings, user)
        assert keep <= rows.checkpoints <= 2 * keep - 1
        assert rows.writes == 0  # durability "exit": a finished turn leaves no pending writes
        assert await _converse(runtime, user, range(50, 51)) == expected[50:]
        assert await runtime.get_state(user) == reference_state
        await runtime.reset_state(user)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_receipts_still_replay_after_pruning(
    config: SoniConfig, tmp_path: Path, backend: str
) -> None:
    keep, user = 2, f"keys-{uuid.uuid4().hex}"
    settings = _settings(backend, tmp_path, keep)
    async with _runtime(config, settings) as runtime:
        first = await _converse(runtime, user, range(50))
        await runtime.pruner.settled()
        retried = range(50 - ReceiptPolicy().keep, 50)  # the receipts a conversation holds
        again = await _converse(runtime, user, retried)
        assert again == [(*first[n][:3], True) for n in retried]
        await runtime.pruner.settled()  # each replay saved a checkpoint, and was pruned
        assert keep <= (await _rows(runtime, settings, user)).checkpoints <= 2 * keep - 1
        state = await runtime.get_state(user)
        assert state is not None
        assert state.turn == 50
        await runtime.reset_state(user)


@pytest.mark.parametrize("keep", [1, 3])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_prune_keeps_the_newest_intact_and_never_the_latest(
    config: SoniConfig, tmp_path: Path, backend: str, keep: int
) -> None:
    user = f"intact-{uuid.uuid4().hex}"
    settings = _settings(backend, tmp_path, OFF)
    async with _runtime(config, settings) as runtime:
        await _converse(runtime, user, range(4))
        await _converse(runtime, user, range(4, 8), keyed=False)  # the receipts stay: a blob
        before = await _history(runtime, user)  # shared by old and new checkpoints
        assert len(before) == 8
        assert await runtime.pruner.prune(user, keep) == 8 - keep
        after = await _history(runtime, user)
        assert after == before[:keep]  # the same ids, every value loaded back (blobs too)
        assert await runtime.pruner.prune(user, keep) == 0
        if backend == "postgres":
            assert await _postgres(_POSTGRES_BLOBS, u=user) == [(0,)]
        if isinstance(saver := runtime.checkpointer, InMemorySaver):
            assert _memory_blobs_unreferenced(saver, user) == 0
        await runtime.reset_state(user)


_POSTGRES_BLOBS = """
select count(*) from checkpoint_blobs b where b.thread_id = %(u)s and not exists (
    select 1 from checkpoints c
    where c.thread_id = b.thread_id and c.checkpoint_ns = b.checkpoint_ns
        and c.checkpoint -> 'channel_versions' ->> b.channel = b.version
)
"""
"""Blobs no checkpoint names: garbage a prune left. (A kept checkpoint that lost a blob
loads without that value: `after == before[:keep]` catches it.)"""


def _memory_blobs_unreferenced(saver: InMemorySaver, user: str) -> int:
    named = {
        (ns, channel, version)
        for ns, checkpoints in saver.storage[user].items()
        for checkpoint, _, _ in checkpoints.values()
        for channel, version in saver.serde.loads_typed(checkpoint)["channel_versions"].items()
    }
    return sum(key[0] == user and key[1:] not in named for key in saver.blobs)


# -- failures, the locks, closing ---------------------------------------------------------------


class Gate:
    """The rule-based understanding, stopping at `hold` until `release` is set: a turn that
    has read the conversation and not yet saved it. "boom" raises."""

    def __init__(self, config: SoniConfig) -> None:
        self.inner = RuleBasedCommandGenerator(config.domain, FixedClock())
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def generate(self, message: str, context: UnderstandingContext) -> Sequence[Command]:
        if message == "boom":
            raise RuntimeError("the understanding failed")
        if message == "hold":
            self.entered.set()
            await self.release.wait()
        return await self.inner.generate(message, context)


async def test_failed_runs_are_pruned_too(config: SoniConfig, tmp_path: Path) -> None:
    """A run that raises saves a checkpoint and no turn (a user retrying a broken
    conversation): it must not escape the bound."""
    settings = _settings("memory", tmp_path, 2)
    async with _runtime(config, settings, generator=Gate(config)) as runtime:
        await runtime.process_message("eve", "hello")
        for _ in range(10):
            with pytest.raises(RuntimeError, match="understanding failed"):
                await runtime.process_message("eve", "boom")
        await runtime.pruner.settled()
        assert (await _rows(runtime, settings, "eve")).checkpoints <= 3
        assert (await runtime.process_message("eve", "hello")).turn == 2


async def test_a_prune_waits_for_a_turn_of_its_user(config: SoniConfig, tmp_path: Path) -> None:
    gate = Gate(config)
    settings = _settings("memory", tmp_path, 1)
    async with _runtime(config, settings, generator=gate) as runtime:
        await _converse(runtime, "fay", range(3), keyed=False)
        await runtime.pruner.settled()
        turn = asyncio.create_task(runtime.process_message("fay", "hold"))
        await gate.entered.wait()
        prune = asyncio.create_task(runtime.pruner.prune("fay"))
        for _ in range(10):  # a memory prune that did not wait would finish in one step
            await asyncio.sleep(0)
        assert not prune.done()
        gate.release.set()
        assert (await turn).turn == 4
        await prune  # after the turn, and after the prune the turn handed its locks to
        assert (await _rows(runtime, settings, "fay")).checkpoints == 1
        state = await runtime.get_state("fay")
        assert state is not None
        assert state.turn == 4


@needs_postgres
async def test_a_prune_on_another_replica_waits_for_the_turn(
    config: SoniConfig, tmp_path: Path
) -> None:
    """The prune takes the cross-replica turn lock: it waits while a turn of the user runs
    on another replica (seen in pg_locks: an advisory lock not granted)."""
    gate, user = Gate(config), f"pair-{uuid.uuid4().hex}"
    settings = _settings("postgres", tmp_path, 1)
    async with _runtime(config, settings, generator=gate) as one, _runtime(config, settings) as two:
        await _converse(one, user, range(2), keyed=False)
        turn = asyncio.create_task(one.process_message(user, "hold"))
        await gate.entered.wait()
        prune = asyncio.create_task(two.pruner.prune(user))
        key = lock_key(user) & 0xFFFF_FFFF_FFFF_FFFF
        while not await _postgres(_WAITING, high=key >> 32, low=key & 0xFFFF_FFFF):
            assert not prune.done()
            await asyncio.sleep(0.01)
        gate.release.set()
        assert (await turn).turn == 3
        await prune  # after the turn and its own prune (keep 1: every turn is due)
        await one.pruner.settled()
        assert (await _rows(two, settings, user)).checkpoints == 1
        state = await two.get_state(user)
        assert state is not None
        assert state.turn == 3
        await two.reset_state(user)


_WAITING = """
select 1 from pg_locks where locktype = 'advisory' and not granted
    and classid = %(high)s::bigint::oid and objid = %(low)s::bigint::oid
"""


async def test_closing_waits_for_the_prunes_under_way(
    config: SoniConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings("sqlite", tmp_path, 1)
    users = [f"u{n}" for n in range(5)]
    caplog.set_level(logging.WARNING)
    async with _runtime(config, settings) as runtime:
        for user in users:
            await _converse(runtime, user, range(2), keyed=False)
        await asyncio.gather(*(runtime.process_message(user, "hello") for user in users))
        assert runtime.pruner.running > 0  # the replies are out, their prunes are not done
    assert runtime.pruner.running == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    async with _runtime(config, settings) as runtime:  # the store is whole, and pruned
        for user in users:
            assert (await _rows(runtime, settings, user)).checkpoints == 1
            assert (await runtime.process_message(user, "hello")).turn == 4


@pytest.mark.parametrize("backend", BACKENDS)
async def test_back_to_back_turns_stay_within_the_bound(
    config: SoniConfig, tmp_path: Path, backend: str
) -> None:
    """A user whose next message comes the moment the reply does (a closed loop) still gets
    pruned: the prune holds the turn's locks, so the next turn waits for it. Counted right
    after each reply, before any prune finished: at most 2 * keep."""
    keep, user = 2, f"loop-{uuid.uuid4().hex}"
    settings = _settings(backend, tmp_path, keep)
    async with _runtime(config, settings) as runtime:
        counts = []
        for number in range(20):
            await runtime.process_message(user, f"message {number}")
            counts.append((await _rows(runtime, settings, user)).checkpoints)
        assert max(counts) <= 2 * keep, counts
        await runtime.pruner.settled()
        assert (await _rows(runtime, settings, user)).checkpoints <= 2 * keep - 1
        await runtime.reset_state(user)
