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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, Protocol, runtime_checkable

from langgraph.checkpoint.base import BaseCheckpointSaver

log = logging.getLogger("soni.runtime")

Hold = Callable[[str], AbstractAsyncContextManager[None]]
"""A lock a turn of a user holds, by user id."""
Prune = Callable[[str, int], Awaitable[int]]
"""Prunes one thread down to its newest `keep` checkpoints: the number deleted."""


@runtime_checkable
class Prunable(Protocol):
    """A checkpointer that prunes a thread itself (soni's SQLite, PostgreSQL and memory
    savers): each knows its own tables."""

    async def akeep_newest(self, thread_id: str, keep: int) -> int:
        """Delete all but the newest `keep` checkpoints of each of `thread_id`'s namespaces,
        with what only they used: the number of checkpoints deleted."""
        ...


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
    """How to prune `saver`'s threads, or None for a checkpointer that cannot say."""
    return saver.akeep_newest if isinstance(saver, Prunable) else None
