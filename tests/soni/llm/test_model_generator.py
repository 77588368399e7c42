"""The llm and hybrid backends over real HTTP: the official `openai` client, built the way
the runtime builds it, against a scripted chat-completions server on 127.0.0.1. Happy
paths, what the model is shown, and every fault, each falling back to the rules."""

from __future__ import annotations

import json
import logging
import socket
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from harness.chat_server import Scripted, ScriptedChatServer, commands
from soni.core.commands import (
    CannotHandle,
    Command,
    CorrectSlot,
    SetSlot,
    StartFlow,
)
from soni.core.state import Turn
from soni.core.types import (
    Awaiting,
    AwaitingKind,
    UnderstandingContext,
    Understood,
)
from tests.soni.llm.conftest import KEY, banking_with, generator_for, settings

IDLE = UnderstandingContext(active_flow=None, awaiting=None, filled_slots={})
CONFIRM = UnderstandingContext(
    active_flow="transfer_funds",
    awaiting=Awaiting(kind=AwaitingKind.CONFIRM, instance="transfer_funds#1", step="confirm"),
    filled_slots={"beneficiary": "Alice", "amount": 50, "over_limit": False},
    history=(Turn(user="send 50 to Alice", bot="Send 50.00 to Alice from checking?"),),
)
HOW_MUCH = UnderstandingContext(
    active_flow="transfer_funds",
    awaiting=Awaiting(
        kind=AwaitingKind.COLLECT, instance="transfer_funds#1", slot="amount", step="how_much"
    ),
    filled_slots={"beneficiary": "Bob"},
)
WHICH_CARD = UnderstandingContext(
    active_flow="block_card",
    awaiting=Awaiting(
        kind=AwaitingKind.COLLECT, instance="block_card#1", slot="card", step="which"
    ),
    filled_slots={},
)
UNREAD = "I want to wire 200 to my mum"
"""A message the rules cannot read (a held-out miss of theirs)."""
WIRE = commands(
    {
        "kind": "start_flow",
        "flow": "transfer_funds",
        "slots": [{"slot": "amount", "value": "200"}, {"slot": "beneficiary", "value": "my mum"}],
    }
)


async def understood(
    tmp_path: Path,
    server: ScriptedChatServer,
    message: str,
    context: UnderstandingContext = IDLE,
    backend: str = "llm",
    **more: Any,
) -> Understood:
    async with AsyncExitStack() as resources:
        config = banking_with(tmp_path / "domain", **settings(server, backend, **more))
        generator = await generator_for(config, resources)
        result = await generator.generate(message, context)
    assert isinstance(result, Understood)
    return result


# -- happy paths -------------------------------------------------------------------------------


async def test_the_model_starts_a_flow_the_rules_cannot_read(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(WIRE)
    result = await understood(tmp_path, model, UNREAD)
    assert list(result) == [
        StartFlow(flow="transfer_funds", slots={"amount": 200, "beneficiary": "my mum"})
    ]
    assert result.use.answered_by == "model"
    assert result.use.model_calls == 1
    assert result.use.fallback is None
    assert result.use.latency_ms > 0


@pytest.mark.parametrize(
    ("context", "said", "expected"),
    [
        (
            HOW_MUCH,
            {"kind": "set_slot", "slot": "amount", "value": "fifty dollars"},
            SetSlot(slot="amount", value=50),
        ),
        (
            HOW_MUCH,
            {"kind": "set_slot", "slot": "amount", "value": "$1,250.50"},
            SetSlot(slot="amount", value=1250.5),
        ),
        (
            HOW_MUCH,
            {"kind": "set_slot", "slot": "amount", "value": 75},
            SetSlot(slot="amount", value=75),
        ),
        (
            WHICH_CARD,
            {"kind": "set_slot", "slot": "card", "value": "visa"},
            SetSlot(slot="card", value="credit"),
        ),
        (
            WHICH_CARD,
            {"kind": "set_slot", "slot": "card", "value": "Debit"},
            SetSlot(slot="card", value="debit"),
        ),
        (
            CONFIRM,
            {"kind": "correct_slot", "slot": "beneficiary", "value": " Carol. "},
            CorrectSlot(slot="beneficiary", value="Carol"),
        ),
    ],
)
async def test_values_are_read_by_the_rules_extractors(
    tmp_path: Path,
    model: ScriptedChatServer,
    key: str,
    context: UnderstandingContext,
    said: dict[str, Any],
    expected: Command,
) -> None:
    model.script(commands(said))
    result = await understood(tmp_path, model, "whatever the user said", context)
    assert list(result) == [expected]


async def test_several_commands_in_one_reply_keep_their_order(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(
        commands(
            {"kind": "correct_slot", "slot": "beneficiary", "value": "Carol"},
            {"kind": "correct_slot", "slot": "amount", "value": "60"},
            {
                "kind": "start_flow",
                "flow": "check_balance",
                "slots": [{"slot": "account", "value": "savings"}],
            },
        )
    )
    result = await understood(
        tmp_path, model, "no, 60 to Carol, and then tell me my savings balance", CONFIRM
    )
    assert list(result) == [
        CorrectSlot(slot="beneficiary", value="Carol"),
        CorrectSlot(slot="amount", value=60),
        StartFlow(flow="check_balance", slots={"account": "savings"}),
    ]


async def test_the_model_is_shown_the_domain_the_state_and_the_last_turns(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(commands({"kind": "affirm"}))
    await understood(tmp_path, model, "yep go ahead", CONFIRM, history_turns=2)
    [request] = model.received
    system, user = request.messages
    assert system["role"] == "system"
    assert user["role"] == "user"
    for shown in (
        "transfer_funds: Send money to someone",
        "check_balance: Check an account balance",
        "card: enum",
        "one of: debit, credit",
        "visa means credit",
        '"How much would you like to send?"',
        "greeting, thanks",
    ):
        assert shown in system["content"], shown
    for shown in (
        "Running flow: transfer_funds (filled: beneficiary = Alice, amount = 50",
        "user: send 50 to Alice",
        "assistant: Send 50.00 to Alice from checking?",
        "asked the user to confirm",
        "The user's message: yep go ahead",
        "Today is 2026-11-25",
    ):
        assert shown in user["content"], shown
    assert request.payload["model"] == "scripted"
    assert request.payload["temperature"] == 0
    response_format = request.payload["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = json.dumps(response_format["json_schema"]["schema"])
    assert '"enum": ["block_card", "check_balance", "transfer_funds"]' in schema
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_the_pending_slot_is_shown_with_its_question_and_values(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(commands({"kind": "set_slot", "slot": "card", "value": "credit"}))
    await understood(tmp_path, model, "the visa one", WHICH_CARD)
    prompt = model.received[0].messages[1]["content"]
    assert (
        'asked for slot card: enum; asked as "Which card: debit or credit?"; one of: debit, credit'
        in prompt
    )


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [("json_object", {"type": "json_object"}), ("none", None)],
)
async def test_servers_without_json_schema_are_asked_less(
    tmp_path: Path, model: ScriptedChatServer, key: str, response_format: str, sent: object
) -> None:
    model.script(Scripted(content="```json\n" + (WIRE.content or "") + "\n```"))
    result = await understood(tmp_path, model, UNREAD, response_format=response_format)
    assert result.use.answered_by == "model"
    assert model.received[0].payload.get("response_format") == sent


async def test_without_a_key_variable_no_key_is_sent(
    tmp_path: Path, model: ScriptedChatServer
) -> None:
    model.script(WIRE)
    await understood(tmp_path, model, UNREAD, api_key_env=None)
    assert model.received[0].headers["authorization"] == "Bearer unused"


# -- hybrid ------------------------------------------------------------------------------------


async def test_hybrid_asks_nothing_when_the_rules_read_the_message(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    result = await understood(tmp_path, model, "send 50 to Bob", backend="hybrid")
    assert list(result) == [
        StartFlow(flow="transfer_funds", slots={"amount": 50, "beneficiary": "Bob"})
    ]
    assert result.use.model_calls == 0
    assert result.use.answered_by == "rules"
    assert model.received == []


async def test_hybrid_asks_the_model_when_the_rules_find_nothing(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(WIRE)
    result = await understood(tmp_path, model, UNREAD, backend="hybrid")
    assert result[0] == StartFlow(
        flow="transfer_funds", slots={"amount": 200, "beneficiary": "my mum"}
    )
    assert (result.use.model_calls, result.use.answered_by) == (1, "model")


# -- faults: each falls back to the rules, with a warning ------------------------------------------


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


NOT_JSON = Scripted(content="Sure! You want to send 200 to your mum.")
OUTSIDE = commands({"kind": "launch_rocket"})
UNKNOWN_FLOW = commands({"kind": "start_flow", "flow": "order_pizza", "slots": []})
UNKNOWN_SLOT = commands(
    {"kind": "start_flow", "flow": "transfer_funds", "slots": [{"slot": "pin", "value": "1234"}]}
)
FOREIGN_SLOT = commands(
    {"kind": "start_flow", "flow": "transfer_funds", "slots": [{"slot": "card", "value": "debit"}]}
)
ACTION_SLOT = commands(
    {
        "kind": "start_flow",
        "flow": "transfer_funds",
        "slots": [{"slot": "over_limit", "value": "false"}],
    }
)
BAD_VALUE = commands(
    {
        "kind": "start_flow",
        "flow": "transfer_funds",
        "slots": [{"slot": "amount", "value": "banana"}],
    }
)
BAD_ENUM = commands(
    {"kind": "start_flow", "flow": "block_card", "slots": [{"slot": "card", "value": "platinum"}]}
)
BAD_TOPIC = commands({"kind": "chitchat", "topic": "weather"})
ONE_OPTION = commands({"kind": "clarify", "options": ["transfer_funds"]})


@pytest.mark.parametrize(
    ("replies", "failure", "calls"),
    [
        pytest.param(
            [Scripted(status=500)] * 2, "HTTP 500 from the model server", 2, id="http-500-retried"
        ),
        pytest.param(
            [Scripted(status=503), Scripted(status=502)],
            "HTTP 502 from the model server",
            2,
            id="http-5xx",
        ),
        pytest.param(
            [Scripted(status=429)] * 2, "HTTP 429 from the model server", 2, id="http-429"
        ),
        pytest.param(
            [Scripted(status=401)], "HTTP 401 from the model server", 1, id="http-401-not-retried"
        ),
        pytest.param(
            [Scripted(status=404)], "HTTP 404 from the model server", 1, id="http-404-not-retried"
        ),
        pytest.param(
            [Scripted(status=400)], "HTTP 400 from the model server", 1, id="http-400-not-retried"
        ),
        pytest.param(
            [Scripted(body="<html>bad gateway</html>")] * 2,
            "a reply that is not a chat completion",
            2,
            id="body-not-json",
        ),
        pytest.param([NOT_JSON] * 2, "invalid reply: not JSON", 2, id="content-not-json"),
        pytest.param([Scripted(content="")] * 2, "invalid reply: an empty reply", 2, id="empty"),
        pytest.param([OUTSIDE] * 2, "invalid reply: outside the schema", 2, id="outside-schema"),
        pytest.param(
            [Scripted(content='{"commands": []}')] * 2,
            "invalid reply: outside the schema",
            2,
            id="no-commands",
        ),
        pytest.param(
            [UNKNOWN_FLOW] * 2, "invalid reply: unknown flow 'order_pizza'", 2, id="unknown-flow"
        ),
        pytest.param([UNKNOWN_SLOT] * 2, "invalid reply: unknown slot 'pin'", 2, id="unknown-slot"),
        pytest.param(
            [FOREIGN_SLOT] * 2,
            "slot 'card' is not asked by flow 'transfer_funds'",
            2,
            id="slot-of-another-flow",
        ),
        pytest.param(
            [ACTION_SLOT] * 2,
            "slot 'over_limit' is not asked by flow 'transfer_funds'",
            2,
            id="slot-an-action-fills",
        ),
        pytest.param(
            [BAD_VALUE] * 2,
            "the value of slot 'amount' is not a valid amount",
            2,
            id="value-not-an-amount",
        ),
        pytest.param(
            [BAD_ENUM] * 2,
            "the value of slot 'card' is not a valid enum",
            2,
            id="value-not-allowed",
        ),
        pytest.param([BAD_TOPIC] * 2, "unknown small-talk topic 'weather'", 2, id="unknown-topic"),
        pytest.param([ONE_OPTION] * 2, "a clarification needs two flows", 2, id="clarify-one-flow"),
    ],
)
async def test_a_fault_falls_back_to_the_rules(
    tmp_path: Path,
    model: ScriptedChatServer,
    key: str,
    caplog: pytest.LogCaptureFixture,
    replies: list[Scripted],
    failure: str,
    calls: int,
) -> None:
    model.script(*replies)
    with caplog.at_level(logging.WARNING, logger="soni.understanding"):
        result = await understood(tmp_path, model, UNREAD)
    assert list(result) == [CannotHandle(reason="no flow, slot or phrase matched")]  # the rules'
    assert result.use.answered_by == "rules"
    assert result.use.fallback is not None
    assert failure in result.use.fallback
    assert result.use.model_calls == calls == len(model.received)
    assert model.pending() == 0
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "the rules read the message" in warning.getMessage()
    assert failure in warning.getMessage()


async def test_a_timeout_falls_back(
    tmp_path: Path, model: ScriptedChatServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    model.script(Scripted(content=WIRE.content, delay_s=3))
    with caplog.at_level(logging.WARNING, logger="soni.understanding"):
        result = await understood(tmp_path, model, "send 50 to Bob", timeout_s=0.2, max_retries=0)
    assert list(result) == [
        StartFlow(flow="transfer_funds", slots={"amount": 50, "beneficiary": "Bob"})
    ]
    assert result.use.fallback == "no reply within 0.2 s"
    assert result.use.model_calls == 1
    assert "no reply within 0.2 s" in caplog.text


async def test_a_refused_connection_falls_back(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    result = await understood(
        tmp_path, model, "send 50 to Bob", base_url=f"http://127.0.0.1:{refused_port()}/v1"
    )
    assert list(result) == [
        StartFlow(flow="transfer_funds", slots={"amount": 50, "beneficiary": "Bob"})
    ]
    assert result.use.fallback == "cannot connect to the model server"
    assert result.use.model_calls == 2  # asked again once (max_retries: 1)


async def test_an_invalid_reply_is_asked_again_with_the_reason(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(UNKNOWN_FLOW, WIRE)
    result = await understood(tmp_path, model, UNREAD)
    assert result.use.answered_by == "model"
    assert result.use.model_calls == 2
    assert result.use.fallback is None
    retry = model.received[1].messages
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert "order_pizza" in retry[2]["content"]
    assert "unknown flow 'order_pizza'" in retry[3]["content"]


async def test_a_failure_then_a_reply_is_the_models(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(Scripted(status=503), WIRE)
    result = await understood(tmp_path, model, UNREAD, backend="hybrid")
    assert (result.use.answered_by, result.use.model_calls) == ("model", 2)


async def test_max_retries_zero_asks_once(
    tmp_path: Path, model: ScriptedChatServer, key: str
) -> None:
    model.script(NOT_JSON, WIRE)
    result = await understood(tmp_path, model, UNREAD, max_retries=0)
    assert (result.use.answered_by, result.use.model_calls) == ("rules", 1)
    assert model.pending() == 1
