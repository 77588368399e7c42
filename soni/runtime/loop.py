"""`RuntimeLoop`: the dialogue runtime as an async context manager.

    async with RuntimeLoop("domain.yaml") as runtime:
        result = await runtime.process_message("alice", "send 50 to Bob")

Entering loads and compiles the configuration (off the event loop) and opens the
checkpointer in an `AsyncExitStack`; leaving closes everything, also after an error. Each
user is a LangGraph thread: one user's messages are handled one at a time (across replicas
sharing a PostgreSQL too, see `turn_lock`), different users concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from soni.compiler import compile_domain
from soni.config.loader import SoniConfig, load_config
from soni.config.models import PersistenceSettings
from soni.core.slots import SlotValue
from soni.core.state import DialogueState
from soni.core.types import Clock, CommandGenerator
from soni.du.backends import open_generator
from soni.du.clock import SystemClock
from soni.errors import SoniError, StaleStateError
from soni.runtime.engine import ActionFailure, DialogueEngine
from soni.runtime.graph import GraphState, Outcome, Services, build_graph
from soni.runtime.history import HistoryPruner, due
from soni.runtime.persistence import open_checkpointer, open_turn_lock
from soni.runtime.receipts import Answer, IdempotencyKeyReused, ReceiptPolicy, request
from soni.runtime.turn_lock import ProcessOnly, TurnLock

log = logging.getLogger("soni.runtime")


class RuntimeNotReady(SoniError):
    """The runtime is used outside `async with` (or after it closed)."""


@dataclass(frozen=True)
class TurnResult:
    reply: str
    active_flow: str | None
    slots: dict[str, SlotValue]
    turn: int
    messages: tuple[str, ...] = ()
    failures: tuple[ActionFailure, ...] = ()
    replayed: bool = False
    """Answered from the receipt of an earlier message with the same idempotency key."""

    @classmethod
    def of(cls, answer: Answer, *, replayed: bool = False) -> TurnResult:
        return cls(
            reply=answer["reply"],
            active_flow=answer["active_flow"],
            slots=answer["slots"],
            turn=answer["turn"],
            messages=tuple(answer["messages"]),
            failures=tuple(ActionFailure(**item) for item in answer["failures"]),
            replayed=replayed,
        )


@dataclass(frozen=True)
class UserState:
    """What a user's conversation looks like now (`get_state`)."""

    turn: int
    active_flow: str | None
    slots: dict[str, SlotValue]
    stack: tuple[str, ...]
    awaiting: dict[str, Any] | None
    handoff: bool
    understanding: dict[str, Any] | None = None
    """The last turn's model calls, their latency and who answered (`ModelUse`)."""

    @classmethod
    def of(cls, state: DialogueState) -> UserState:
        return cls(
            turn=state.turn,
            active_flow=state.active_flow,
            slots=state.active_slots,
            stack=tuple(frame.flow for frame in state.stack),
            awaiting=state.awaiting.model_dump(mode="json") if state.awaiting else None,
            handoff=state.handoff,
            understanding=(
                state.understanding.model_dump(mode="json") if state.understanding else None
            ),
        )


@dataclass
class _Lock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0


class _UserLocks:
    """One lock per user while someone waits on it; dropped afterwards, so idle users cost
    nothing however many there were."""

    def __init__(self) -> None:
        self._locks: dict[str, _Lock] = {}

    @asynccontextmanager
    async def hold(self, user_id: str) -> AsyncIterator[None]:
        entry = self._locks.setdefault(user_id, _Lock())
        entry.holders += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._locks[user_id]

    def __len__(self) -> int:
        return len(self._locks)


class RuntimeLoop:
    def __init__(
        self,
        config: SoniConfig | str | os.PathLike[str],
        *,
        checkpointer: BaseCheckpointSaver[str] | None = None,
        generator: CommandGenerator | None = None,
        clock: Clock | None = None,
        persistence: PersistenceSettings | None = None,
        receipts: ReceiptPolicy | None = None,
    ) -> None:
        self._source = config
        self._receipts = receipts or ReceiptPolicy()
        self._checkpointer = checkpointer
        self._generator = generator
        self._clock = clock or SystemClock()
        self._persistence = persistence
        self._exit = AsyncExitStack()
        self._graph: CompiledStateGraph[GraphState, Services, GraphState, GraphState] | None = None
        self._saver: BaseCheckpointSaver[str] | None = None
        self._services: Services | None = None
        self._locks = _UserLocks()
        self._turn_lock: TurnLock = ProcessOnly()
        self.pruner = HistoryPruner()
        self.config: SoniConfig | None = None

    async def __aenter__(self) -> RuntimeLoop:
        try:
            await self._start()
        except BaseException:
            await self._exit.aclose()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._graph = None
        self._services = None
        self._saver = None
        await self._exit.aclose()

    async def _start(self) -> None:
        source = self._source
        config = (
            source
            if isinstance(source, SoniConfig)
            else await asyncio.to_thread(load_config, os.fspath(source))
        )
        for warning in config.warnings:
            log.warning("%s", warning)
        programs = compile_domain(config.domain)
        engine = DialogueEngine(config, programs, clock=self._clock)
        generator: CommandGenerator
        if self._generator is not None:
            generator = self._generator
        else:  # the rules, and the model client when one is configured (closed on exit)
            generator = await open_generator(config.domain, self._clock, self._exit)
        persistence = self._persistence or config.domain.settings.persistence
        if self._checkpointer is None:
            saver = await open_checkpointer(persistence, config, self._exit)
            self._turn_lock = await open_turn_lock(persistence, self._exit)
        else:
            saver = self._checkpointer
        await config.actions.open(self._exit)
        locks = (self._locks.hold, self._turn_lock.hold)  # a turn's: pruning never overlaps one
        await self._exit.enter_async_context(
            self.pruner.serving(saver, persistence.keep_checkpoints, locks)
        )
        self.config = config
        self._saver = saver
        self._services = Services(generator, engine, self._receipts)
        self._graph = build_graph().compile(checkpointer=saver)

    @property
    def ready(self) -> bool:
        return self._graph is not None

    @property
    def checkpointer(self) -> BaseCheckpointSaver[str]:
        if self._saver is None:
            raise RuntimeNotReady("the runtime is not running (use `async with RuntimeLoop(...)`)")
        return self._saver

    @property
    def active_users(self) -> int:
        """Users whose messages are being handled or waiting right now (or pruned)."""
        return len(self._locks)

    def _running(
        self,
    ) -> tuple[CompiledStateGraph[GraphState, Services, GraphState, GraphState], Services]:
        if self._graph is None or self._services is None:
            raise RuntimeNotReady("the runtime is not running (use `async with RuntimeLoop(...)`)")
        return self._graph, self._services

    @staticmethod
    def _thread(user_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": user_id}}

    async def process_message(
        self, user_id: str, message: str, *, idempotency_key: str | None = None
    ) -> TurnResult:
        """Run one turn. With an `idempotency_key`, the same key and message again (a retry)
        is answered from the first turn's receipt without running it again; the same key
        with another message raises `IdempotencyKeyReused`."""
        graph, services = self._running()
        asked = request(idempotency_key, message, time.time()) if idempotency_key else None
        held = await self._hold(user_id)
        try:
            result = await graph.ainvoke(
                {"inbox": {"message": message, "request": asked}},
                self._thread(user_id),
                context=services,
                durability="exit",
            )
        except BaseException as error:
            # the run saved a checkpoint and no turn: due for pruning like a turn
            await self.pruner.release(user_id, held, due=True)
            if isinstance(error, StaleStateError):
                raise error.of_user(user_id) from error
            raise
        await self.pruner.release(user_id, held, due=due(result, self.pruner.keep))
        outcome: Outcome = result["outcome"]
        if outcome["conflict"] and asked is not None:
            raise IdempotencyKeyReused(user_id, asked["key"], outcome["answer"]["turn"])
        return TurnResult.of(outcome["answer"], replayed=outcome["replayed"])

    async def _hold(self, user_id: str) -> AsyncExitStack:
        """The locks a turn of `user_id` holds (this process's, then across replicas), held
        until the stack is closed: `pruner.release` closes it, after a prune if one is due."""
        async with AsyncExitStack() as taking:  # a failure part way releases what was taken
            await taking.enter_async_context(self._locks.hold(user_id))
            await taking.enter_async_context(self._turn_lock.hold(user_id))
            return taking.pop_all()

    async def get_state(self, user_id: str) -> UserState | None:
        graph, _ = self._running()
        snapshot = await graph.aget_state(self._thread(user_id))
        dialogue = snapshot.values.get("dialogue") if snapshot.values else None
        return UserState.of(DialogueState.from_json(dialogue)) if dialogue else None

    async def reset_state(self, user_id: str) -> None:
        self._running()
        async with self._locks.hold(user_id), self._turn_lock.hold(user_id):
            await self.checkpointer.adelete_thread(user_id)
