"""Bounded history: a conversation keeps its last `keep` checkpoints; older ones are pruned
after the turn, never on the reply's path.

Every message saves a checkpoint (one per message with durability "exit") and LangGraph
deletes none: a 1,000-turn conversation stored 1,000, and its blobs. A turn reads only the
latest (the receipts of keyed messages are in it too), so the older ones are dead weight.

When a user is pruned: after a turn whose dialogue turn is a multiple of `keep`, and after a
message that saved a checkpoint without advancing the turn (a replayed receipt, or a run
that raised). The turn hands its locks (the process's and, on PostgreSQL, the cross-replica
turn lock) to a background task that prunes and then releases them: the reply goes out at
once, and the user's next turn waits for the prune (a millisecond or two) instead of the
prune waiting for a free moment. A first version queued users for one worker that took the
locks anew; under 50 users in a closed loop each user's next turn always got there first,
and conversations grew to 20 checkpoints and more.

The prune never sees a turn half saved (PostgreSQL's `aput` writes the blobs before the
checkpoint row, not in one transaction): it runs under the same locks. The bound, per user
and namespace: a prune leaves the newest `keep` checkpoints (so never the latest) and the
next is due at most `keep` saves later, so a user has at most `2 * keep - 1` checkpoints
between turns, `2 * keep` while a due prune runs (3 to 6 with the default 3). A prune that
did not happen (it failed and was logged) is made up by the next, which prunes down to
`keep` whatever it finds.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeGuard

from langgraph.checkpoint.base import BaseCheckpointSaver

from soni.runtime.memory_saver import PrunableMemorySaver
from soni.runtime.sqlite_saver import ThreadedSqliteSaver

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

log = logging.getLogger("soni.runtime")

Hold = Callable[[str], AbstractAsyncContextManager[None]]
"""A lock a turn of a user holds, by user id."""
Prune = Callable[[str, int], Awaitable[int]]
"""Prunes one thread down to its newest `keep` checkpoints: the number deleted."""


class HistoryPruner:
    """Keeps each conversation's checkpoints bounded. Idle (it prunes nothing) until
    `serving` runs it over a checkpointer."""

    def __init__(self) -> None:
        self.keep = 1
        self._prune: Prune | None = None
        self._locks: tuple[Hold, ...] = ()
        self._running: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def serving(
        self, saver: BaseCheckpointSaver[str], keep: int, locks: Sequence[Hold]
    ) -> AsyncIterator[HistoryPruner]:
        """Prune the conversations of `saver` while inside; leaving lets the prunes under
        way finish (each holds a user's locks, which must be released before the database
        closes)."""
        prune = backend(saver)
        if prune is None:
            log.info("checkpoints of %s are not pruned (no pruning for it)", type(saver).__name__)
            yield self
            return
        self.keep, self._prune, self._locks = keep, prune, tuple(locks)
        try:
            yield self
        finally:
            self._prune = None
            await self.settled()

    async def release(self, user_id: str, held: AsyncExitStack, *, due: bool) -> None:
        """Release a turn's locks (`held`), after pruning its user if `due`: then in a task
        of its own, so the caller (the reply) does not wait."""
        if not due or self._prune is None:
            await held.aclose()
            return
        task = asyncio.create_task(self._prune_then_release(user_id, held, self._prune))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _prune_then_release(self, user_id: str, held: AsyncExitStack, prune: Prune) -> None:
        try:
            await prune(user_id, self.keep)
        except Exception:
            log.exception("pruning the checkpoints of user %r failed", user_id)
        finally:
            await held.aclose()

    @property
    def running(self) -> int:
        """Prunes under way."""
        return len(self._running)

    async def settled(self) -> None:
        """Return once no prune is under way (closing, tests and benchmarks)."""
        while self._running:
            await asyncio.wait(set(self._running))

    async def prune(self, user_id: str, keep: int | None = None) -> int:
        """Prune `user_id`'s conversation down to `keep` (else `self.keep`) checkpoints now,
        under a turn's locks: the number deleted."""
        if self._prune is None:
            return 0
        async with AsyncExitStack() as held:
            for hold in self._locks:
                await held.enter_async_context(hold(user_id))
            return await self._prune(user_id, keep or self.keep)


def due(result: Mapping[str, Any], keep: int) -> bool:
    """Whether the graph run that returned `result` (a `GraphState`) makes its user due."""
    outcome = result["outcome"]
    if outcome["replayed"]:
        return True  # answered from a receipt: a checkpoint without a turn
    return int(outcome["answer"]["turn"]) % keep == 0


def backend(saver: BaseCheckpointSaver[str]) -> Prune | None:
    """How to prune `saver`'s threads, or None for a checkpointer this module does not know."""
    if isinstance(saver, ThreadedSqliteSaver):
        return partial(_prune_sqlite, saver)
    if isinstance(saver, PrunableMemorySaver):
        return partial(_prune_memory, saver)
    if _is_postgres(saver):
        return partial(_prune_postgres, saver)
    return None


def _is_postgres(saver: BaseCheckpointSaver[str]) -> TypeGuard[AsyncPostgresSaver]:
    # Looked up, not imported: PostgreSQL is optional, and its module is loaded whenever
    # one of its savers exists.
    module = sys.modules.get("langgraph.checkpoint.postgres.aio")
    return module is not None and isinstance(saver, module.AsyncPostgresSaver)


# -- SQLite: `checkpoints` (values inline) and `writes`, on the saver's thread -------------

_SQLITE_DOOMED = """
SELECT checkpoint_ns, checkpoint_id FROM (
    SELECT checkpoint_ns, checkpoint_id,
        row_number() OVER (PARTITION BY checkpoint_ns ORDER BY checkpoint_id DESC) AS age
    FROM checkpoints WHERE thread_id = ?
) WHERE age > ?
"""
_SQLITE_DELETE = (
    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
    # the oldest one kept had its parent deleted: no reference to a missing checkpoint
    "UPDATE checkpoints SET parent_checkpoint_id = NULL"
    " WHERE thread_id = ? AND checkpoint_ns = ? AND parent_checkpoint_id = ?",
)


async def _prune_sqlite(saver: ThreadedSqliteSaver, thread_id: str, keep: int) -> int:
    return await saver._call(_prune_sqlite_now, saver, thread_id, keep)


def _prune_sqlite_now(saver: ThreadedSqliteSaver, thread_id: str, keep: int) -> int:
    """On the saver's worker thread, the only user of its connection: one transaction."""
    with saver.lock, saver.conn:
        doomed = [
            (thread_id, ns, checkpoint_id)
            for ns, checkpoint_id in saver.conn.execute(_SQLITE_DOOMED, (thread_id, keep))
        ]
        for statement in _SQLITE_DELETE:
            saver.conn.executemany(statement, doomed)
    return len(doomed)


# -- PostgreSQL: `checkpoints`, `checkpoint_writes` and the shared `checkpoint_blobs` ------

_POSTGRES_PRUNE = """
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


async def _prune_postgres(saver: AsyncPostgresSaver, thread_id: str, keep: int) -> int:
    async with saver._cursor() as cursor:  # the saver's own connection discipline
        await cursor.execute(_POSTGRES_PRUNE, {"thread": thread_id, "keep": keep})
        row = await cursor.fetchone()
    return int(row["checkpoints"]) if row else 0


# -- memory: `PrunableMemorySaver` prunes its own dicts ------------------------------------


async def _prune_memory(saver: PrunableMemorySaver, thread_id: str, keep: int) -> int:
    return saver.keep_newest(thread_id, keep)
