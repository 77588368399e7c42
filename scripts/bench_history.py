"""Turn latency and storage of one long conversation, with and without bounded history.

One user talks to the banking example (`harness.conversation`, over and over) for
--turns turns (1,000), in this process, through `RuntimeLoop`: on SQLite, and with
--postgres DSN on PostgreSQL too; each once with pruning (`keep_checkpoints` at its default)
and once without (a `keep_checkpoints` the conversation never reaches), after a short
warm-up conversation. Per run and at turns 10, 100 and the last: the median latency of the
WINDOW turns around it (1-19, 91-109, the last 19) and the conversation's storage (its rows
and their bytes) after it, read from the database once the pruner has settled. Issue 20's
target: at turn 1,000 both within 20% of turn 10. Turn 100 is there because a checkpoint
itself grows until the dialogue's own history (the last 20 turns, in the state) is full:
from turn 100 on, only the checkpoints' number can grow. Exits 1 if a pruned run misses the
target against turn 100.

    python scripts/bench_history.py                                      # SQLite
    python scripts/bench_history.py --postgres postgresql://... --output reports/history.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.conversation import message
from harness.report import command, publish
from soni.config.models import PersistenceSettings
from soni.examples.banking import DOMAIN
from soni.runtime import RuntimeLoop

WINDOW = 19
"""Turns per latency window, centred on the turn measured (the last: ending with it)."""
EARLY, STEADY = 10, 100
"""The turns the last one is compared with: issue 20's, and one with the state at full size
(both `= 10` modulo the conversation's 5 messages and the default `keep_checkpoints` 3, so
the same message and the same place in the pruning cycle)."""
WARM_UP = 30
OFF = 10**9
"""`keep_checkpoints` for "no pruning": never reached, so never due."""
TARGET = 1.2
"""Issue 20: latency and storage at the last turn within 20% of those at turn 10."""
KEEP = PersistenceSettings().keep_checkpoints


@dataclass(frozen=True)
class Storage:
    rows: int
    """Checkpoint, write and blob rows of the conversation."""
    bytes: int
    """Their size as stored (SQLite: the values' lengths; PostgreSQL: `pg_column_size`)."""
    file_bytes: int | None = None
    """SQLite only: the database file's used pages (its free pages are reused, not returned)."""


@dataclass(frozen=True)
class Point:
    turn: int
    latency_ms: float
    """The median of the window around `turn`."""
    storage: Storage


@dataclass(frozen=True)
class Run:
    backend: str
    keep: int
    points: tuple[Point, ...]
    """At turn 10, 100 and the last."""
    seconds: float

    @property
    def pruned(self) -> bool:
        return self.keep < OFF

    @property
    def last(self) -> Point:
        return self.points[-1]

    def latency_ratio(self, point: Point) -> float:
        return self.last.latency_ms / point.latency_ms

    def storage_ratio(self, point: Point) -> float:
        return self.last.storage.bytes / point.storage.bytes

    def met(self, point: Point) -> bool:
        return self.latency_ratio(point) <= TARGET and self.storage_ratio(point) <= TARGET


async def storage(settings: PersistenceSettings, user: str) -> Storage:
    if settings.backend == "sqlite":
        return await asyncio.to_thread(_sqlite_storage, settings.path, user)
    import psycopg

    assert settings.dsn is not None
    async with await psycopg.AsyncConnection.connect(settings.dsn) as conn:
        cursor = await conn.execute(_POSTGRES_STORAGE, {"u": user})
        row = await cursor.fetchone()
    assert row is not None
    return Storage(int(row[0]), int(row[1]))


_POSTGRES_STORAGE = """
select sum(n), sum(size) from (
    select count(*) as n, coalesce(sum(pg_column_size(t.*)), 0) as size
        from checkpoints t where thread_id = %(u)s
    union all
    select count(*), coalesce(sum(pg_column_size(t.*)), 0)
        from checkpoint_blobs t where thread_id = %(u)s
    union all
    select count(*), coalesce(sum(pg_column_size(t.*)), 0)
        from checkpoint_writes t where thread_id = %(u)s
) per_table
"""

_SQLITE_STORAGE = """
select
    (select count(*) from checkpoints where thread_id = :u)
        + (select count(*) from writes where thread_id = :u),
    (select coalesce(sum(length(checkpoint) + length(metadata)), 0)
        from checkpoints where thread_id = :u)
        + (select coalesce(sum(length(value)), 0) from writes where thread_id = :u),
    (select page_count from pragma_page_count())
        - (select freelist_count from pragma_freelist_count()),
    (select page_size from pragma_page_size())
"""


def _sqlite_storage(path: str, user: str) -> Storage:
    with sqlite3.connect(path) as conn:
        rows, size, pages, page_size = conn.execute(_SQLITE_STORAGE, {"u": user}).fetchone()
    return Storage(rows, size, pages * page_size)


@dataclass(frozen=True)
class Conversation:
    latencies: list[float]
    """Seconds, by turn."""
    measured: dict[int, Storage]
    seconds: float


async def converse(settings: PersistenceSettings, turns: int) -> Conversation:
    """One user's conversation of `turns` turns: each turn's latency, storage at the points."""
    user = f"bench-{uuid.uuid4().hex}"
    latencies: list[float] = []
    measured: dict[int, Storage] = {}
    started = time.perf_counter()
    async with RuntimeLoop(DOMAIN, persistence=settings) as runtime:
        for n in range(turns):
            before = time.perf_counter()
            result = await runtime.process_message(user, message(n))
            latencies.append(time.perf_counter() - before)
            assert result.turn == n + 1, (result.turn, n)
            if result.turn in (EARLY, STEADY, turns):
                await runtime.pruner.settled()  # outside the next turn's latency
                measured[result.turn] = await storage(settings, user)
        await runtime.reset_state(user)
    return Conversation(latencies, measured, time.perf_counter() - started)


async def prune_cost(settings: PersistenceSettings, turns: int = 150) -> float:
    """The median ms of one prune (locks taken, 2 * `KEEP` checkpoints down to `KEEP`), timed
    alone: a conversation not pruned by itself, pruned by hand every `KEEP` turns."""
    user = f"bench-{uuid.uuid4().hex}"
    times = []
    async with RuntimeLoop(DOMAIN, persistence=settings) as runtime:
        for n in range(turns):
            await runtime.process_message(user, message(n))
            if n % KEEP == KEEP - 1:
                before = time.perf_counter()
                await runtime.pruner.prune(user, KEEP)
                times.append(time.perf_counter() - before)
        await runtime.reset_state(user)
    return statistics.median(times[WARM_UP // KEEP :]) * 1000


def summary(settings: PersistenceSettings, conversations: Sequence[Conversation]) -> Run:
    """Per point: the median over the conversations of their window's median latency, and
    the storage of the last conversation (the same in each but for the pruner's timing)."""
    half = WINDOW // 2

    def window(latencies: list[float], turn: int) -> float:
        return statistics.median(latencies[max(turn - 1 - half, 0) : turn + half][-WINDOW:])

    last = conversations[-1]
    return Run(
        backend=settings.backend,
        keep=settings.keep_checkpoints,
        points=tuple(
            Point(
                turn,
                statistics.median(window(c.latencies, turn) for c in conversations) * 1000,
                last.measured[turn],
            )
            for turn in sorted(last.measured)
        ),
        seconds=sum(c.seconds for c in conversations),
    )


async def run(
    turns: int, repeats: int, postgres: str | None, scratch: Path
) -> tuple[list[Run], dict[str, float]]:
    backends = [PersistenceSettings(backend="sqlite", path=str(scratch / "history.db"))]
    if postgres:
        backends.append(PersistenceSettings(backend="postgres", dsn=postgres))
    runs: list[Run] = []
    prunes: dict[str, float] = {}
    for backend in backends:
        await converse(backend, WARM_UP)  # imports, first connections, caches
        variants = [backend.model_copy(update={"keep_checkpoints": k}) for k in (KEEP, OFF)]
        done: dict[int, list[Conversation]] = {v.keep_checkpoints: [] for v in variants}
        for _ in range(repeats):  # interleaved: a slow spell of the machine hits both
            for variant in variants:
                done[variant.keep_checkpoints].append(await converse(variant, turns))
        for variant in variants:
            runs.append(summary(variant, done[variant.keep_checkpoints]))
            _progress(runs[-1])
        prunes[backend.backend] = await prune_cost(variants[1])
    return runs, prunes


def _progress(run: Run) -> None:
    first, last = run.points[0], run.last
    print(
        f"{run.backend} keep={run.keep}: {first.latency_ms:.2f} -> {last.latency_ms:.2f} ms, "
        f"{first.storage.bytes} -> {last.storage.bytes} bytes ({run.seconds:.1f} s)",
        file=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000, help="turns of the conversation")
    parser.add_argument(
        "--repeats", type=int, default=5, help="conversations per variant (default 5)"
    )
    parser.add_argument("--postgres", metavar="DSN", help="measure PostgreSQL too, in this DB")
    parser.add_argument("--output", type=Path, help="write the markdown report here")
    args = parser.parse_args(argv)
    if args.turns <= STEADY + WINDOW:
        parser.error(f"--turns must be more than {STEADY + WINDOW}")
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="soni-history-") as scratch:
        runs, prunes = asyncio.run(run(args.turns, args.repeats, args.postgres, Path(scratch)))
    load.append(os.getloadavg()[0])
    publish(
        "history.md.j2",
        args.output,
        runs=runs,
        keep=KEEP,
        window=WINDOW,
        repeats=args.repeats,
        load=load,
        prunes=prunes,
        turns=args.turns,
        target=TARGET,
        command=command("scripts/bench_history.py", sys.argv[1:], dsn=args.postgres),
    )
    return 0 if all(r.met(r.points[1]) for r in runs if r.pruned) else 1


if __name__ == "__main__":
    raise SystemExit(main())
