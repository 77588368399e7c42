"""The default, rule-based command generator: deterministic, no model, configured entirely
from the YAML (triggers, slot types, synonyms, prompts) and the lexicons.

A message with several requests ("check my balance and send 50 to Bob") gives the commands
of its first part and a `StartFlow` per later request. A single request is read, in order,
as: a repair (cancel, handoff, help, repeat; a phrase of a domain flow wins over them), an
answer to what the bot asked (a clarification choice, a yes or no to a confirmation), the
start of a flow (a digression when another flow is active; a clarification when two flows
match about equally), a correction of a slot already filled, the value of the slot being
collected (with the other slots' values said with it), small talk, an out-of-scope
request, and otherwise something it cannot handle.
"""

from __future__ import annotations

from collections.abc import Sequence

from soni.config.models import Domain
from soni.core.commands import (
    OUT_OF_SCOPE,
    Affirm,
    CancelFlow,
    CannotHandle,
    ChitChat,
    Clarify,
    Command,
    Deny,
    Help,
    HumanHandoff,
    Repeat,
    StartFlow,
)
from soni.core.types import AwaitingKind, Clock, UnderstandingContext
from soni.du.answers import AnswerReader
from soni.du.corrections import CorrectionReader, Focus
from soni.du.extractors import Extractor
from soni.du.index import DomainIndex
from soni.du.lexicon import Lexicon, english, normalize
from soni.du.message import Message
from soni.du.requests import RequestSplitter
from soni.du.triggers import KEYWORD_SCORE, TYPO_COST, Triggers

CLARIFY_MARGIN = 0.1
MAX_CANCEL_WORDS = 6
MAX_HELP_WORDS = 5
MAX_REPEAT_WORDS = 6
EMPTY_MESSAGE = "empty message"
_ORDINALS = {"first": 0, "1": 0, "one": 0, "second": 1, "2": 1, "two": 1, "third": 2, "3": 2}


class RuleBasedCommandGenerator:
    def __init__(self, domain: Domain, clock: Clock, lexicon: Lexicon | None = None) -> None:
        self.domain = domain
        self.lexicon = lexicon or english()
        self.extractor = Extractor(clock, self.lexicon, domain.settings.date_order)
        self.index = DomainIndex(domain, self.lexicon)
        self.triggers = Triggers(domain, self.index.flow_slots)
        self.requests = RequestSplitter(self.index, self.triggers)
        self.corrections = CorrectionReader(self.index)
        self.answers = AnswerReader(self.index)

    async def generate(self, message: str, context: UnderstandingContext) -> Sequence[Command]:
        return self.understand(message, context)

    def understand(self, message: str, context: UnderstandingContext) -> list[Command]:
        read = Message(message, self.index, self.extractor)
        if not read.tokens:
            return [CannotHandle(reason=EMPTY_MESSAGE)]
        requests = self.requests.split(read, context.active_flow)
        if len(requests) > 1:
            first: list[Command] = [
                command
                for command in self._read(read.part(*requests[0].span), context)
                if not isinstance(command, CannotHandle)
            ]
            return first + [request.start for request in requests[1:] if request.start]
        return self._read(read, context)

    def _read(self, message: Message, context: UnderstandingContext) -> list[Command]:
        for reading in (
            self._repair,
            self._clarification,
            self._confirmation,
            self._flow_start,
            self._correction,
            self._answer,
            self._leading_answer,
            self._small_talk,
        ):
            commands = reading(message, context)
            if commands:
                return commands
        if self.lexicon.out_of_scope.search(message.normalized):
            return [CannotHandle(reason=OUT_OF_SCOPE)]
        return [CannotHandle(reason="no flow, slot or phrase matched")]

    # -- readings, in order ----------------------------------------------------------------

    def _repair(self, message: Message, context: UnderstandingContext) -> list[Command]:
        repair = self._builtin(message, context)
        if repair and any(match.phrase for match in self.triggers.match(message)):
            return []  # "cancel my appointment": the domain's phrase wins over the built-in
        return repair

    def _builtin(self, message: Message, context: UnderstandingContext) -> list[Command]:
        lexicon, words, size = self.lexicon, message.normalized, len(message.words)
        if _confirming(context) and lexicon.leading_answer(message.words) is False:
            return []  # "no, I changed my mind" answers the confirmation (read below)
        if lexicon.cancel.search(words) and size <= MAX_CANCEL_WORDS:
            return [CancelFlow()]
        if lexicon.handoff.search(words):
            return [HumanHandoff()]
        if lexicon.help.search(words) and size <= MAX_HELP_WORDS:
            return [Help()]
        alone = normalize(words.replace("?", " "))
        if (lexicon.repeat.search(words) and size <= MAX_REPEAT_WORDS) or (
            alone in lexicon.repeat_alone
        ):
            return [Repeat()]
        return []

    def _clarification(self, message: Message, context: UnderstandingContext) -> list[Command]:
        awaiting = context.awaiting
        if awaiting is None or awaiting.kind is not AwaitingKind.CLARIFY:
            return []
        options = list(awaiting.options)
        for word in message.words:
            if word in _ORDINALS and _ORDINALS[word] < len(options):
                return [StartFlow(flow=options[_ORDINALS[word]])]
        for match in self.triggers.match(message):
            if match.flow in options:
                return [self.requests.starting(message, match)]
        for option in options:
            described = normalize(self.domain.flows[option].description or option.replace("_", " "))
            words = message.normalized
            if described and (described in words or option.replace("_", " ") in words):
                return [StartFlow(flow=option)]
        return []

    def _confirmation(self, message: Message, context: UnderstandingContext) -> list[Command]:
        awaiting = context.awaiting
        if awaiting is None or awaiting.kind is not AwaitingKind.CONFIRM:
            return []
        answer = self.lexicon.answer(message.text)
        if answer is True:
            return [Affirm()]
        if answer is False:
            return [Deny()]
        return []

    def _flow_start(self, message: Message, context: UnderstandingContext) -> list[Command]:
        least = KEYWORD_SCORE - 2 * TYPO_COST
        matches = [m for m in self.triggers.match(message) if m.phrase or m.score >= least]
        if self._collecting_text(context):
            matches = [m for m in matches if m.phrase or not m.typos]
        if not matches:
            return []
        best = matches[0]
        if best.flow == context.active_flow and not best.phrase:
            return []  # a keyword of the flow already running is not a new start
        rivals = [
            m for m in matches[1:] if best.score - m.score < CLARIFY_MARGIN and m.flow != best.flow
        ]
        if rivals and not best.exact:
            return [Clarify(options=(best.flow, *(m.flow for m in rivals)))]
        return [self.requests.starting(message, best)]

    def _correction(self, message: Message, context: UnderstandingContext) -> list[Command]:
        flow = context.active_flow
        if flow is None:
            return []
        awaiting = context.awaiting
        confirming = awaiting is not None and awaiting.kind is AwaitingKind.CONFIRM
        shown = (
            self.index.confirm_fields.get((flow, awaiting.step or ""), frozenset())
            if confirming and awaiting is not None
            else frozenset()
        )
        filled = {slot: value for slot, value in context.filled_slots.items() if value is not None}
        focus = Focus(flow, self.index.flow_slots.get(flow, ()), filled, shown)
        return self.corrections.read(message, focus, confirming=confirming)

    def _answer(self, message: Message, context: UnderstandingContext) -> list[Command]:
        awaiting = context.awaiting
        if awaiting is None or awaiting.kind is not AwaitingKind.COLLECT or not awaiting.slot:
            return []
        if awaiting.slot not in self.domain.slots:
            return []
        return self.answers.read(message, awaiting.slot, context.active_flow, context.filled_slots)

    def _leading_answer(self, message: Message, context: UnderstandingContext) -> list[Command]:
        """At a confirmation, "no, I don't think so" is a no and "yes do it now" a yes."""
        awaiting = context.awaiting
        if awaiting is None or awaiting.kind is not AwaitingKind.CONFIRM:
            return []
        answer = self.lexicon.leading_answer(message.words)
        return [] if answer is None else [Affirm() if answer else Deny()]

    def _small_talk(self, message: Message, context: UnderstandingContext) -> list[Command]:
        for topic, pattern in self.lexicon.chitchat.items():
            if pattern.search(message.normalized):
                return [ChitChat(topic=topic)]
        return []

    def _collecting_text(self, context: UnderstandingContext) -> bool:
        awaiting = context.awaiting
        return (
            awaiting is not None
            and awaiting.kind is AwaitingKind.COLLECT
            and self.index.is_text(awaiting.slot)
        )


def _confirming(context: UnderstandingContext) -> bool:
    awaiting = context.awaiting
    return awaiting is not None and awaiting.kind is AwaitingKind.CONFIRM
