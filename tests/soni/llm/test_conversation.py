"""Whole conversations in `hybrid`: `RuntimeLoop` on a real SQLite checkpointer, the model a
scripted chat-completions server over real HTTP. The rules answer what they can, the model
the rest, a failing model leaves the conversation going, and the API key appears in no log,
no state and no checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harness.chat_server import Scripted, ScriptedChatServer, commands
from soni.config.models import PersistenceSettings
from soni.errors import ConfigError
from soni.runtime import RuntimeLoop
from tests.soni.conftest import FixedClock
from tests.soni.llm.conftest import KEY, assert_not_stored, banking_with, settings


@pytest.fixture
def hybrid(tmp_path: Path, model: ScriptedChatServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SONI_BANKING_DB", str(tmp_path / "bank.db"))
    return banking_with(tmp_path / "domain", **settings(model, "hybrid"))


def sqlite(tmp_path: Path) -> PersistenceSettings:
    return PersistenceSettings(backend="sqlite", path=str(tmp_path / "state.db"))


async def test_a_conversation_in_hybrid(
    tmp_path: Path,
    hybrid: Path,
    model: ScriptedChatServer,
    key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the client's and httpx's included
    async with RuntimeLoop(hybrid, clock=FixedClock(), persistence=sqlite(tmp_path)) as runtime:
        first = await runtime.process_message("ann", "send 50 to Alice")
        assert first.reply == "Send 50.00 to Alice from checking?"
        assert model.received == []  # the rules read it
        state = await runtime.get_state("ann")
        assert state is not None
        assert state.understanding is not None
        assert state.understanding["model_calls"] == 0
        assert state.understanding["answered_by"] == "rules"

        model.script(commands({"kind": "correct_slot", "slot": "beneficiary", "value": "Quinn"}))
        second = await runtime.process_message("ann", "the name is Quinn")
        assert "I've changed the beneficiary to Quinn" in second.reply
        assert "Send 50.00 to Quinn from checking?" in second.reply
        assert second.slots["beneficiary"] == "Quinn"
        state = await runtime.get_state("ann")
        assert state is not None
        assert state.understanding is not None
        assert state.understanding["model_calls"] == 1
        assert state.understanding["answered_by"] == "model"
        assert state.understanding["latency_ms"] > 0
        # the model saw the turn before: the question it answers
        assert "assistant: Send 50.00 to Alice from checking?" in model.received[0].prompt

        third = await runtime.process_message("ann", "yes")
        assert "50.00 sent to Quinn" in third.reply
        assert len(model.received) == 1

        model.script(
            commands(
                {
                    "kind": "start_flow",
                    "flow": "block_card",
                    "slots": [{"slot": "card", "value": "debit"}],
                },
                {"kind": "start_flow", "flow": "check_balance", "slots": []},
            )
        )
        fourth = await runtime.process_message(
            "ann", "my debit card is missing, and what have I got left"
        )
        assert fourth.active_flow == "block_card"
        assert "Block your debit card?" in fourth.reply
        state = await runtime.get_state("ann")
        assert state is not None
        assert state.stack == ("check_balance", "block_card")

        model.script(Scripted(status=500), Scripted(status=500))
        fifth = await runtime.process_message("ann", "hmm, the thing from before")
        assert "Block your debit card?" in fifth.reply  # the rules' reading: asked again
        state = await runtime.get_state("ann")
        assert state is not None
        assert state.understanding is not None
        assert state.understanding["answered_by"] == "rules"
        assert state.understanding["fallback"] == "HTTP 500 from the model server"
        assert state.understanding["model_calls"] == 2

        sixth = await runtime.process_message("ann", "yes")
        assert "Your debit card is blocked" in sixth.reply
        assert "Now, let's check an account balance." in sixth.reply

    async with RuntimeLoop(hybrid, clock=FixedClock(), persistence=sqlite(tmp_path)) as runtime:
        again = await runtime.get_state("ann")  # read back from the SQLite file
        assert again is not None
        assert again.turn == 6
        assert again.understanding is not None
        assert again.understanding["model_calls"] == 0

    assert all(request.headers["authorization"] == f"Bearer {KEY}" for request in model.received)
    assert "model call(s)" in caplog.text
    assert "HTTP 500 from the model server" in caplog.text
    assert KEY not in caplog.text
    assert KEY not in repr(again)
    assert_not_stored(tmp_path, KEY)


async def test_the_llm_backend_reads_every_message(
    tmp_path: Path, model: ScriptedChatServer, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONI_BANKING_DB", str(tmp_path / "bank.db"))
    config = banking_with(tmp_path / "domain", **settings(model, "llm"))
    model.script(
        commands(
            {
                "kind": "start_flow",
                "flow": "check_balance",
                "slots": [{"slot": "account", "value": "savings"}],
            }
        )
    )
    async with RuntimeLoop(config, clock=FixedClock(), persistence=sqlite(tmp_path)) as runtime:
        result = await runtime.process_message("bo", "check my balance")
        assert "Your savings balance is 12,000.00." in result.reply  # the model's savings
        state = await runtime.get_state("bo")
        assert state is not None
        assert state.understanding is not None
        assert state.understanding["backend"] == "llm"


async def test_the_rules_backend_records_no_model_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONI_BANKING_DB", str(tmp_path / "bank.db"))
    config = banking_with(tmp_path / "domain", backend="rules")
    async with RuntimeLoop(config, clock=FixedClock()) as runtime:
        await runtime.process_message("cy", "send 50 to Bob")
        state = await runtime.get_state("cy")
        assert state is not None
        assert state.understanding is None


async def test_an_unset_key_variable_stops_the_runtime_with_a_named_error(
    tmp_path: Path, model: ScriptedChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SONI_TEST_LLM_KEY", raising=False)
    config = banking_with(tmp_path / "domain", **settings(model, "hybrid"))
    with pytest.raises(ConfigError, match="SONI_TEST_LLM_KEY") as raised:
        async with RuntimeLoop(config, clock=FixedClock()):
            pass
    assert "settings.understanding.api_key_env" in str(raised.value)
