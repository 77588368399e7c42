"""The rule-based understanding component: extractors and command generation, as tables."""

from __future__ import annotations

import pytest

from soni.config import SoniConfig
from soni.config.models import SlotDefinition
from soni.core.commands import (
    Affirm,
    CancelFlow,
    CannotHandle,
    ChitChat,
    Clarify,
    CorrectSlot,
    Deny,
    Help,
    HumanHandoff,
    SetSlot,
    SkipQuestion,
    StartFlow,
)
from soni.core.slots import SlotType
from soni.core.types import Awaiting, AwaitingKind, UnderstandingContext
from soni.du.extractors import Extractor
from soni.du.generator import RuleBasedCommandGenerator
from tests.soni.conftest import FixedClock

EXTRACT = Extractor(FixedClock())


def _slot(kind: SlotType, **extra: object) -> SlotDefinition:
    return SlotDefinition(type=kind, **extra)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (SlotType.NUMBER, "I need 3 tickets", 3),
        (SlotType.NUMBER, "about 2.5", 2.5),
        (SlotType.NUMBER, "twenty one", 21),
        (SlotType.NUMBER, "two hundred and fifty", 250),
        (SlotType.NUMBER, "one thousand two hundred", 1200),
        (SlotType.NUMBER, "none at all", None),
        (SlotType.AMOUNT, "$1,250.50", 1250.5),
        (SlotType.AMOUNT, "50 dollars", 50),
        (SlotType.AMOUNT, "fifty euros", 50),
        (SlotType.AMOUNT, "€20", 20),
        (SlotType.DATE, "today", "2026-11-25"),
        (SlotType.DATE, "tomorrow please", "2026-11-26"),
        (SlotType.DATE, "the day after tomorrow", "2026-11-27"),
        (SlotType.DATE, "next friday", "2026-11-27"),
        (SlotType.DATE, "on wednesday", "2026-12-02"),
        (SlotType.DATE, "in 3 days", "2026-11-28"),
        (SlotType.DATE, "in two weeks", "2026-12-09"),
        (SlotType.DATE, "2027-01-15", "2027-01-15"),
        (SlotType.DATE, "march 3rd", "2027-03-03"),
        (SlotType.DATE, "the 30th of november", "2026-11-30"),
        (SlotType.DATE, "2026-02-30", None),
        (SlotType.DATE, "someday", None),
        (SlotType.BOOLEAN, "yes please", True),
        (SlotType.BOOLEAN, "nope", False),
        (SlotType.BOOLEAN, "maybe", None),
        (SlotType.EMAIL, "mail me at ada.l@example.org thanks", "ada.l@example.org"),
        (SlotType.EMAIL, "no address", None),
        (SlotType.STRING, "  Bob Smith. ", "Bob Smith"),
    ],
)
def test_typed_extractors(kind: SlotType, text: str, value: object) -> None:
    assert EXTRACT.extract(_slot(kind), text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("savings", "savings"),
        ("my current account", "checking"),
        ("the CHECKING one", "checking"),
        ("savngs", "savings"),  # a close match
        ("brokerage", None),
    ],
)
def test_enum_values_synonyms_and_close_matches(text: str, value: object) -> None:
    slot = _slot(SlotType.ENUM, values=("checking", "savings"), synonyms={"checking": ("current",)})
    assert EXTRACT.extract(slot, text) == value


def test_regex_slots() -> None:
    slot = _slot(SlotType.REGEX, pattern=r"\b([A-Z]{2}\d{4})\b")
    assert EXTRACT.extract(slot, "my booking is AB1234 ok") == "AB1234"
    assert EXTRACT.extract(slot, "no booking") is None


def _context(
    active: str | None = None,
    awaiting: Awaiting | None = None,
    slots: dict[str, object] | None = None,
) -> UnderstandingContext:
    return UnderstandingContext(active, awaiting, slots or {})


COLLECT_AMOUNT = Awaiting(
    kind=AwaitingKind.COLLECT, instance="transfer_funds#1", slot="amount", step="how_much"
)
COLLECT_NAME = Awaiting(
    kind=AwaitingKind.COLLECT, instance="transfer_funds#1", slot="beneficiary", step="who"
)
COLLECT_NOTE = Awaiting(kind=AwaitingKind.COLLECT, instance="order#1", slot="note", step="remark")
CONFIRM = Awaiting(kind=AwaitingKind.CONFIRM, instance="transfer_funds#1", step="confirm")
CLARIFY = Awaiting(kind=AwaitingKind.CLARIFY, options=("check_balance", "transfer_funds"))
FILLED = {"beneficiary": "Bob", "amount": 50}


@pytest.mark.parametrize(
    ("message", "context", "commands"),
    [
        ("I want to send money", _context(), [StartFlow(flow="transfer_funds")]),
        (
            "transfer $20 to Alice",
            _context(),
            [StartFlow(flow="transfer_funds", slots={"amount": 20, "beneficiary": "Alice"})],
        ),
        ("transfer the rent", _context(), [StartFlow(flow="transfer_funds")]),
        (
            "what is my balance",
            _context("transfer_funds", COLLECT_NAME),
            [StartFlow(flow="check_balance")],
        ),
        ("transfer my balance", _context(), [Clarify(options=("check_balance", "transfer_funds"))]),
        ("the first one", _context(awaiting=CLARIFY), [StartFlow(flow="check_balance")]),
        ("send money to someone", _context(awaiting=CLARIFY), [StartFlow(flow="transfer_funds")]),
        ("75", _context("transfer_funds", COLLECT_AMOUNT), [SetSlot(slot="amount", value=75)]),
        (
            "Bob Smith",
            _context("transfer_funds", COLLECT_NAME),
            [SetSlot(slot="beneficiary", value="Bob Smith")],
        ),
        ("yes", _context("transfer_funds", CONFIRM, FILLED), [Affirm()]),
        ("sure, go ahead", _context("transfer_funds", CONFIRM, FILLED), [Affirm()]),
        ("no", _context("transfer_funds", CONFIRM, FILLED), [Deny()]),
        (
            "no, make it 60",
            _context("transfer_funds", CONFIRM, FILLED),
            [CorrectSlot(slot="amount", value=60)],
        ),
        (
            "actually make it 70",
            _context("transfer_funds", COLLECT_NAME, {"amount": 50}),
            [CorrectSlot(slot="amount", value=70)],
        ),
        (
            "change the beneficiary to Alice",
            _context("transfer_funds", CONFIRM, FILLED),
            [CorrectSlot(slot="beneficiary", value="Alice")],
        ),
        ("cancel", _context("transfer_funds", COLLECT_AMOUNT), [CancelFlow()]),
        ("never mind", _context(), [CancelFlow()]),
        ("help", _context(), [Help()]),
        ("can I talk to a human", _context(), [HumanHandoff()]),
        ("skip", _context("order", COLLECT_NOTE), [SkipQuestion()]),
        ("hello there", _context(), [ChitChat(topic="greeting")]),
        ("thanks!", _context(), [ChitChat(topic="thanks")]),
        ("xyzzy", _context(), [CannotHandle(reason="no flow, slot or phrase matched")]),
        ("", _context(), [CannotHandle(reason="empty message")]),
        ("seventy", _context("transfer_funds", COLLECT_AMOUNT), [SetSlot(slot="amount", value=70)]),
    ],
)
def test_commands(
    config: SoniConfig, message: str, context: UnderstandingContext, commands: list[object]
) -> None:
    generator = RuleBasedCommandGenerator(config.domain, FixedClock())
    assert generator.understand(message, context) == commands
