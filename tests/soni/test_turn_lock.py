"""Two replicas on one PostgreSQL: one user's turns run one at a time across them. Each
runtime here has its own locks and connections, as separate processes would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest

from soni.config import SoniConfig
from soni.config.models import PersistenceSettings
from soni.core.commands import Command
from soni.core.types import UnderstandingContext
from soni.du.generator import RuleBasedCommandGenerator
from soni.runtime import RuntimeLoop
from soni.runtime.turn_lock import ProcessOnly, lock_key
from tests.postgres import needs_postgres, postgres_dsn
from tests.soni.conftest import FixedClock


class SlowUnderstanding:
    """The rule-based generator, after a pause: the turn has read the conversation and not
    yet written it, the window in which another replica could fork it."""

    def __init__(self, inner: RuleBasedCommandGenerator) -> None:
        self.inner = inner

    async def generate(self, message: str, context: UnderstandingContext) -> Sequence[Command]:
        await asyncio.sleep(0.3)
        return await self.inner.generate(message, context)


def _replica(config: SoniConfig, *, locked: bool = True) -> RuntimeLoop:
    generator = SlowUnderstanding(RuleBasedCommandGenerator(config.domain, FixedClock()))
    settings = PersistenceSettings(backend="postgres", dsn=postgres_dsn())
    return RuntimeLoop(config, persistence=settings, generator=generator, clock=FixedClock())


@needs_postgres
async def test_two_replicas_never_run_one_users_turns_at_once(config: SoniConfig) -> None:
    user = f"pair-{uuid.uuid4().hex}"
    async with _replica(config) as one, _replica(config) as two:
        first, second = await asyncio.gather(
            one.process_message(user, "send money"), two.process_message(user, "Bob")
        )
        assert sorted((first.turn, second.turn)) == [1, 2]  # one after the other
        state = await one.get_state(user)
        assert state is not None
        assert state.turn == 2
        history = [c async for c in one.checkpointer.alist({"configurable": {"thread_id": user}})]
        parents = [c.parent_config for c in history]
        ids = [c.config["configurable"]["checkpoint_id"] for c in history]
        assert len(history) == 2
        assert parents[0] is not None
        assert parents[0]["configurable"]["checkpoint_id"] == ids[1]  # a line, not a fork


@needs_postgres
async def test_without_the_lock_the_conversation_forks(
    config: SoniConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race with the cross-process lock taken away: a turn is lost."""

    async def process_only(settings: object, stack: object) -> ProcessOnly:
        return ProcessOnly()

    monkeypatch.setattr("soni.runtime.loop.open_turn_lock", process_only)
    user = f"fork-{uuid.uuid4().hex}"
    async with _replica(config) as one, _replica(config) as two:
        await asyncio.gather(
            one.process_message(user, "send money"), two.process_message(user, "Bob")
        )
        state = await one.get_state(user)
        assert state is not None
        assert state.turn == 1  # two messages answered, one turn kept


def test_lock_keys_are_stable_and_distinct() -> None:
    assert lock_key("alice") == lock_key("alice")
    assert lock_key("alice") != lock_key("bob")
    assert -(2**63) <= lock_key("alice") < 2**63
