"""The understanding patterns of issue 30, as tables, in the banking example and in the
clinic domain of the tests: corrections in the user's words, free-text answers that never
swallow commands, slot-aware extraction, several values and requests per message, typo
tolerance, domain phrases over built-ins, numeric dates and times."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from soni.config import config_from_text, load_config
from soni.config.models import Domain, SlotDefinition
from soni.core.commands import (
    Affirm,
    CancelFlow,
    CannotHandle,
    ChitChat,
    Clarify,
    Command,
    CorrectSlot,
    Deny,
    Help,
    HumanHandoff,
    Repeat,
    SetSlot,
    SkipQuestion,
    StartFlow,
)
from soni.core.slots import SlotType
from soni.core.types import Awaiting, AwaitingKind, UnderstandingContext
from soni.du.extractors import Extractor
from soni.du.generator import RuleBasedCommandGenerator
from soni.du.overlaps import builtin_overlaps
from soni.examples.banking import DOMAIN as BANKING
from tests.soni.conftest import FixedClock

CLINIC = Path(__file__).with_name("clinic") / "domain.yaml"
NOT_UNDERSTOOD = CannotHandle(reason="no flow, slot or phrase matched")
OUT_OF_SCOPE = CannotHandle(reason="out of scope")


def _understand(domain: Domain, message: str, context: UnderstandingContext) -> list[Command]:
    return RuleBasedCommandGenerator(domain, FixedClock()).understand(message, context)


def collecting(flow: str, slot: str, step: str, **filled: object) -> UnderstandingContext:
    awaiting = Awaiting(kind=AwaitingKind.COLLECT, instance=f"{flow}#1", slot=slot, step=step)
    return UnderstandingContext(flow, awaiting, filled)


def confirming(flow: str, step: str, **filled: object) -> UnderstandingContext:
    awaiting = Awaiting(kind=AwaitingKind.CONFIRM, instance=f"{flow}#1", step=step)
    return UnderstandingContext(flow, awaiting, filled)


IDLE = UnderstandingContext(None, None, {})
WHO = collecting("transfer_funds", "beneficiary", "who")
HOW_MUCH = collecting("transfer_funds", "amount", "how_much", beneficiary="Bob")
SEND = confirming("transfer_funds", "confirm", beneficiary="Alice", amount=50)
BLOCK = confirming("block_card", "confirm", card="debit")
TRANSFER = "transfer_funds"


@pytest.fixture(scope="module")
def banking() -> Domain:
    return load_config(BANKING).domain


@pytest.fixture(scope="module")
def clinic() -> Domain:
    return load_config(CLINIC).domain


@pytest.mark.parametrize(
    ("message", "context", "commands"),
    [
        # corrections at the confirmation, in the user's words
        ("sorry, I meant Carol", SEND, [CorrectSlot(slot="beneficiary", value="Carol")]),
        ("no, to Bob", SEND, [CorrectSlot(slot="beneficiary", value="Bob")]),
        ("actually make it 60", SEND, [CorrectSlot(slot="amount", value=60)]),
        ("change the recipient to Carol", SEND, [CorrectSlot(slot="beneficiary", value="Carol")]),
        ("change the payee to Frank", SEND, [CorrectSlot(slot="beneficiary", value="Frank")]),
        ("change the amount to 45.5", SEND, [CorrectSlot(slot="amount", value=45.5)]),
        ("not Alice, Dave", SEND, [CorrectSlot(slot="beneficiary", value="Dave")]),
        ("70 not 50", SEND, [CorrectSlot(slot="amount", value=70)]),
        ("make it 80 dollars instead", SEND, [CorrectSlot(slot="amount", value=80)]),
        ("no wait, send it to Erin", SEND, [CorrectSlot(slot="beneficiary", value="Erin")]),
        ("no, the credit card", BLOCK, [CorrectSlot(slot="card", value="credit")]),
        # ... and what is not one
        ("no", SEND, [Deny()]),
        ("no, I changed my mind", SEND, [Deny()]),
        ("sure, go ahead", SEND, [Affirm()]),
        ("Carol", SEND, [NOT_UNDERSTOOD]),  # free text needs a marker to correct
        ("no, to Alice", SEND, [Deny()]),  # the same value: nothing to change
        # corrections while another question is open
        ("sorry, I meant Carol", HOW_MUCH, [CorrectSlot(slot="beneficiary", value="Carol")]),
        ("actually make it 60", HOW_MUCH, [SetSlot(slot="amount", value=60)]),
        # a free-text question never takes a command as its answer
        ("help", WHO, [Help()]),
        ("I want to talk to a human", WHO, [HumanHandoff()]),
        ("can you repeat that?", WHO, [Repeat()]),
        ("cancel", WHO, [CancelFlow()]),
        ("skip", WHO, [SkipQuestion()]),
        ("hello", WHO, [ChitChat(topic="greeting")]),
        ("what's the weather like?", WHO, [OUT_OF_SCOPE]),
        ("what do you mean?", WHO, [OUT_OF_SCOPE]),
        # ... and drops fillers, cue words and other slots' values
        ("Alice please", WHO, [SetSlot(slot="beneficiary", value="Alice")]),
        ("to Bob", WHO, [SetSlot(slot="beneficiary", value="Bob")]),
        ("sorry, it's Bob", WHO, [SetSlot(slot="beneficiary", value="Bob")]),
        ("Erin tomorrow", WHO, [SetSlot(slot="beneficiary", value="Erin")]),
        (
            "Dave 30 dollars",
            WHO,
            [SetSlot(slot="beneficiary", value="Dave"), SetSlot(slot="amount", value=30)],
        ),
        ("50 dollars", WHO, [SetSlot(slot="amount", value=50)]),
        ("x" * 2500, WHO, [SetSlot(slot="beneficiary", value="x" * 2500)]),  # the engine refuses it
        # captures end where another value or a connective begins; values anywhere
        (
            "send Bob 20",
            IDLE,
            [StartFlow(flow=TRANSFER, slots={"beneficiary": "Bob", "amount": 20})],
        ),
        (
            "pay Bob 20",
            IDLE,
            [StartFlow(flow=TRANSFER, slots={"beneficiary": "Bob", "amount": 20})],
        ),
        ("pay Alice please", IDLE, [StartFlow(flow=TRANSFER, slots={"beneficiary": "Alice"})]),
        ("pay 50", IDLE, [StartFlow(flow=TRANSFER, slots={"amount": 50})]),
        (
            "send 100 to Bob tomorrow",
            IDLE,
            [StartFlow(flow=TRANSFER, slots={"amount": 100, "beneficiary": "Bob"})],
        ),
        ("send money to someone", IDLE, [StartFlow(flow=TRANSFER)]),
        ("please freeze my visa", IDLE, [StartFlow(flow="block_card", slots={"card": "credit"})]),
        # two requests in one message
        (
            "send 100 to Bob and 50 to Alice",
            IDLE,
            [
                StartFlow(flow=TRANSFER, slots={"amount": 100, "beneficiary": "Bob"}),
                StartFlow(flow=TRANSFER, slots={"amount": 50, "beneficiary": "Alice"}),
            ],
        ),
        (
            "check my savings balance and block my credit card",
            IDLE,
            [
                StartFlow(flow="check_balance", slots={"account": "savings"}),
                StartFlow(flow="block_card", slots={"card": "credit"}),
            ],
        ),
        ("yes, and check my balance", SEND, [Affirm(), StartFlow(flow="check_balance")]),
        ("I lost my card and I want to block it", IDLE, [StartFlow(flow="block_card")]),
        # typos
        ("sned mony to bob", IDLE, [StartFlow(flow=TRANSFER, slots={"beneficiary": "bob"})]),
        ("trasnfer", IDLE, [StartFlow(flow=TRANSFER)]),
        ("chek my balence", IDLE, [StartFlow(flow="check_balance")]),
        ("look at my card", IDLE, [NOT_UNDERSTOOD]),  # "look" is a word, not a typo of "block"
        ("transfer my balance", IDLE, [Clarify(options=("check_balance", TRANSFER))]),
    ],
)
def test_banking(
    banking: Domain, message: str, context: UnderstandingContext, commands: list[Command]
) -> None:
    assert _understand(banking, message, context) == commands


DAY = collecting("book_appointment", "date", "day", specialty="dermatology")
HOUR = collecting("book_appointment", "time", "hour", specialty="dermatology", date="2026-11-27")
BOOK = confirming(
    "book_appointment",
    "confirm",
    specialty="dermatology",
    date="2026-11-26",
    time="11:00",
    patient="Ada Lovelace",
)
BOOKING = "book_appointment"


@pytest.mark.parametrize(
    ("message", "context", "commands"),
    [
        (
            "book a dermatology appointment for tomorrow at 11:00",
            IDLE,
            [
                StartFlow(
                    flow=BOOKING,
                    slots={"specialty": "dermatology", "date": "2026-11-26", "time": "11:00"},
                )
            ],
        ),
        (
            "can I book a skin doctor on 24/12/2026 at 3pm",
            IDLE,
            [
                StartFlow(
                    flow=BOOKING,
                    slots={"specialty": "dermatology", "date": "2026-12-24", "time": "15:00"},
                )
            ],
        ),
        # a domain flow named like a built-in wins for its own phrases
        ("cancel my appointment", IDLE, [StartFlow(flow="cancel_appointment")]),
        ("I cant make my appointment", IDLE, [StartFlow(flow="cancel_appointment")]),
        ("cancel my apointment", IDLE, [StartFlow(flow="cancel_appointment")]),
        (
            "cancel APT-1234",
            IDLE,
            [StartFlow(flow="cancel_appointment", slots={"booking_ref": "APT-1234"})],
        ),
        ("cancel", DAY, [CancelFlow()]),
        (
            "book a dermatolgy appointment",
            IDLE,
            [StartFlow(flow=BOOKING, slots={"specialty": "dermatology"})],
        ),
        # answers: dates and times in their common forms
        ("24/12/2026", DAY, [SetSlot(slot="date", value="2026-12-24")]),
        ("the 30th of november", DAY, [SetSlot(slot="date", value="2026-11-30")]),
        (
            "friday at 10am",
            DAY,
            [SetSlot(slot="date", value="2026-11-27"), SetSlot(slot="time", value="10:00")],
        ),
        ("at 9", HOUR, [SetSlot(slot="time", value="09:00")]),
        ("noon", HOUR, [SetSlot(slot="time", value="12:00")]),
        ("what?", HOUR, [Repeat()]),
        # corrections: slot words from prompts and their synonyms, old values named
        ("actually make it friday", BOOK, [CorrectSlot(slot="date", value="2026-11-27")]),
        ("no, at 3pm", BOOK, [CorrectSlot(slot="time", value="15:00")]),
        ("change the day to Monday", BOOK, [CorrectSlot(slot="date", value="2026-11-30")]),
        ("not Ada, Grace Hopper", BOOK, [CorrectSlot(slot="patient", value="Grace Hopper")]),
        ("wait, 9:15 not 11", BOOK, [CorrectSlot(slot="time", value="09:15")]),
        ("the patient is Alan Turing", BOOK, [CorrectSlot(slot="patient", value="Alan Turing")]),
        ("sorry, I meant cardiology", HOUR, [CorrectSlot(slot="specialty", value="cardiology")]),
        (
            "yes, and what are your opening hours?",
            BOOK,
            [Affirm(), StartFlow(flow="opening_hours")],
        ),
    ],
)
def test_clinic(
    clinic: Domain, message: str, context: UnderstandingContext, commands: list[Command]
) -> None:
    assert _understand(clinic, message, context) == commands


def test_a_typo_equally_close_to_two_flows_asks_which() -> None:
    domain = config_from_text(
        textwrap.dedent(
            """\
            version: "1"
            flows:
              prices: {description: Show a price chart, trigger: {keywords: [chart]}, steps: [{id: a, say: "Prices."}]}
              shopping: {description: Show my carts, trigger: {keywords: [carts]}, steps: [{id: a, say: "Carts."}]}
            """
        )
    ).domain
    assert _understand(domain, "show my cart", IDLE) == [Clarify(options=("prices", "shopping"))]
    assert _understand(domain, "show my chart", IDLE) == [StartFlow(flow="prices")]


EXTRACT = Extractor(FixedClock())


@pytest.mark.parametrize(
    ("order", "text", "value"),
    [
        ("dmy", "03/04/2027", "2027-04-03"),
        ("mdy", "03/04/2027", "2027-03-04"),
        ("ymd", "2027/04/03", "2027-04-03"),
        ("mdy", "24/12/2026", "2026-12-24"),  # not a date month first: read day first
        ("dmy", "24.12.26", "2026-12-24"),
        ("dmy", "24-12-2026", "2026-12-24"),
        ("dmy", "24/12", "2026-12-24"),
        ("dmy", "01/01", "2027-01-01"),  # without a year: the next one
        ("dmy", "31/02/2027", None),
        ("dmy", "10:30", None),
    ],
)
def test_numeric_dates_follow_the_date_order(order: str, text: str, value: str | None) -> None:
    extractor = Extractor(FixedClock(), date_order=order)
    assert extractor.extract(SlotDefinition(type=SlotType.DATE), text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10:30", "10:30"),
        ("at 11am", "11:00"),
        ("3:15 pm", "15:15"),
        ("12am", "00:00"),
        ("noon please", "12:00"),
        ("11", "11:00"),  # a bare hour, when the time is what was asked
        ("25:00", None),
        ("13pm", None),
    ],
)
def test_times(text: str, value: str | None) -> None:
    assert EXTRACT.extract(SlotDefinition(type=SlotType.TIME), text) == value


@pytest.mark.parametrize(
    ("pattern", "text", "value"),
    [
        (r"(\d{1,2}):(\d{2})", "at 10:30 please", "10:30"),  # the whole match, not group 1
        (r"(?P<value>[A-Z]{2}\d{4})!", "ref AB1234!", "AB1234"),  # a group named value
        (r"[A-Z]{2}(?P<digits>\d{4})", "ref AB1234", "AB1234"),  # other names: whole match
    ],
)
def test_regex_slots_keep_the_whole_match_unless_a_group_is_named_value(
    pattern: str, text: str, value: str
) -> None:
    assert EXTRACT.extract(SlotDefinition(type=SlotType.REGEX, pattern=pattern), text) == value


def test_the_validator_warns_where_a_trigger_and_a_built_in_share_words(clinic: Domain) -> None:
    warned = list(builtin_overlaps(clinic))
    assert [path for path, _ in warned] == [
        ("flows", "cancel_appointment", "trigger", "phrases", 0)
    ]
    domain = config_from_text(
        'version: "1"\nflows:\n  helpdesk: {trigger: {keywords: [help]}, steps: [{id: a, say: x}]}\n'
    )
    (warning,) = domain.warnings
    assert warning.field == "flows.helpdesk.trigger.keywords[0]"
    assert warning.line == 3
    assert "keyword 'help' is a built-in help phrase" in str(warning)


def test_today_moves_with_the_clock() -> None:
    class Later:
        def today(self) -> datetime.date:
            return datetime.date(2027, 3, 1)

    extractor = Extractor(Later())
    assert extractor.extract(SlotDefinition(type=SlotType.DATE), "tomorrow") == "2027-03-02"
