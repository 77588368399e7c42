"""The dialogue state survives every checkpointer exactly: every field, enum and slot."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from soni.config import SoniConfig
from soni.config.models import PersistenceSettings
from soni.core.state import DialogueState, Turn
from soni.core.types import Awaiting, AwaitingKind, FlowFrame
from soni.runtime import RuntimeLoop
from tests.postgres import needs_postgres, postgres_dsn
from tests.soni.conftest import FixedClock, talk

STATE = DialogueState(
    turn=7,
    stack=(
        FlowFrame(
            flow="transfer_funds",
            instance="transfer_funds#1",
            step="confirm",
            slots={
                "amount": 12.5,
                "count": 3,
                "beneficiary": 'Zoë «quoted» "Bob"',
                "over_limit": False,
                "tx_id": None,
                "big": 2**53,
            },
            collected_at={"amount": "how_much", "beneficiary": "who"},
            interrupted=True,
        ),
        FlowFrame(flow="check_balance", instance="check_balance#3", step="which", queued=True),
        FlowFrame(flow="identity", instance="identity#2", step="ask_name", slots={}, called=True),
    ),
    awaiting=Awaiting(kind=AwaitingKind.CLARIFY, options=("check_balance", "transfer_funds")),
    handoff=True,
    history=(
        Turn(
            user="transfer 12.5 to Bob",
            bot="Send 12.50 to Bob?",
            commands=({"kind": "start_flow", "flow": "transfer_funds", "slots": {"amount": 12.5}},),
        ),
    ),
)


def test_the_json_form_is_plain_json() -> None:
    import json

    data = STATE.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["awaiting"]["kind"] == "clarify"
    assert DialogueState.from_json(data) == STATE


Opener = Callable[[], AbstractAsyncContextManager[BaseCheckpointSaver[str]]]


def _memory() -> Opener:
    saver = InMemorySaver()

    @asynccontextmanager
    async def open_memory() -> AsyncIterator[BaseCheckpointSaver[str]]:
        yield saver

    return open_memory


def _sqlite(path: Path) -> Opener:
    from soni.runtime.sqlite_saver import ThreadedSqliteSaver

    return lambda: ThreadedSqliteSaver.open(str(path))


def _async_sqlite(path: Path) -> Opener:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    return lambda: AsyncSqliteSaver.from_conn_string(str(path))


def _postgres() -> Opener:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    @asynccontextmanager
    async def open_postgres() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with AsyncPostgresSaver.from_conn_string(postgres_dsn()) as saver:
            await saver.setup()
            yield saver

    return open_postgres


async def _round_trip(config: SoniConfig, opener: Opener) -> DialogueState | None:
    user = f"roundtrip-{uuid.uuid4().hex}"
    async with opener() as saver, RuntimeLoop(config, checkpointer=saver) as runtime:
        await runtime.process_message(user, "hello")  # creates the thread
        graph, _ = runtime._running()
        await graph.aupdate_state(
            {"configurable": {"thread_id": user}}, {"dialogue": STATE.to_json()}
        )
    async with opener() as saver, RuntimeLoop(config, checkpointer=saver) as runtime:  # reopened
        graph, _ = runtime._running()
        snapshot = await graph.aget_state({"configurable": {"thread_id": user}})
        await runtime.reset_state(user)
        assert await runtime.get_state(user) is None
    return DialogueState.from_json(snapshot.values["dialogue"])


async def test_round_trip_memory(config: SoniConfig) -> None:
    assert await _round_trip(config, _memory()) == STATE


async def test_round_trip_sqlite(config: SoniConfig, tmp_path: Path) -> None:
    assert await _round_trip(config, _sqlite(tmp_path / "state.db")) == STATE


async def test_round_trip_langgraph_async_sqlite(config: SoniConfig, tmp_path: Path) -> None:
    assert await _round_trip(config, _async_sqlite(tmp_path / "state.db")) == STATE


@pytest.mark.parametrize("direction", ["async-to-threaded", "threaded-to-async"])
async def test_sqlite_databases_are_shared_with_langgraphs_saver(
    config: SoniConfig, tmp_path: Path, direction: str
) -> None:
    path = tmp_path / "state.db"
    first, second = (_async_sqlite(path), _sqlite(path))
    if direction == "threaded-to-async":
        first, second = second, first
    async with first() as saver, RuntimeLoop(config, checkpointer=saver) as runtime:
        await talk(runtime, "ann", "send money", "Bob")
    async with second() as saver, RuntimeLoop(config, checkpointer=saver) as runtime:
        assert await talk(runtime, "ann", "40") == ["Send 40.00 to Bob?"]
        history = [item async for item in saver.alist({"configurable": {"thread_id": "ann"}})]
        assert len(history) == 3  # one checkpoint per turn (durability "exit")


@needs_postgres
async def test_round_trip_postgres(config: SoniConfig) -> None:
    assert await _round_trip(config, _postgres()) == STATE


@needs_postgres
async def test_a_conversation_on_postgres_survives_a_restart(config: SoniConfig) -> None:
    settings = PersistenceSettings(backend="postgres", dsn=postgres_dsn())
    user = f"pg-{uuid.uuid4().hex}"
    async with RuntimeLoop(config, persistence=settings, clock=FixedClock()) as runtime:
        await talk(runtime, user, "send money", "Bob")
    async with RuntimeLoop(config, persistence=settings, clock=FixedClock()) as runtime:
        assert await talk(runtime, user, "40") == ["Send 40.00 to Bob?"]
        await runtime.reset_state(user)


def test_a_state_saved_before_queued_flows_existed_still_loads() -> None:
    saved = STATE.to_json()
    for frame in saved["stack"]:
        del frame["queued"]  # what a checkpoint written by an earlier soni holds
    assert DialogueState.from_json(saved).stack[1].queued is False
    assert DialogueState.from_json(saved).stack[0] == STATE.stack[0]
