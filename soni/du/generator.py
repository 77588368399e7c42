"""The default, rule-based command generator: deterministic, no model, configured entirely
from the YAML (triggers, slot types, synonyms) and the lexicons.

In order, a message is read as: a repair (cancel, handoff, help), an answer to what the bot
asked (a clarification choice, a yes or no to a confirmation), the start of a flow (a
digression when another flow is active; a clarification when two flows match about
equally), a correction of a slot already filled, the value of the slot being collected, a
skip, small talk, and otherwise something it cannot handle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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
    SetSlot,
    SkipQuestion,
    StartFlow,
)
from soni.core.slots import SlotType, SlotValue
from soni.core.types import AwaitingKind, Clock, UnderstandingContext
from soni.du.extractors import Extractor
from soni.du.lexicon import Lexicon, english, normalize
from soni.du.triggers import KEYWORD_SCORE, PHRASE_SCORE, Triggers

CLARIFY_MARGIN = 0.1
_ORDINALS = {"first": 0, "1": 0, "one": 0, "second": 1, "2": 1, "two": 1, "third": 2, "3": 2}


class RuleBasedCommandGenerator:
    def __init__(self, domain: Domain, clock: Clock, lexicon: Lexicon | None = None) -> None:
        self.domain = domain
        self.lexicon = lexicon or english()
        self.extractor = Extractor(clock, self.lexicon)
        self.triggers = Triggers(domain, self.extractor)

    async def generate(self, message: str, context: UnderstandingContext) -> Sequence[Command]:
        return self.understand(message, context)

    def understand(self, message: str, context: UnderstandingContext) -> list[Command]:
        words = normalize(message)
        if not words:
            return [CannotHandle(reason="empty message")]
        for reading in (
            self._repair,
            self._clarification,
            self._confirmation,
            self._flow_start,
            self._correction,
            self._slot_value,
            self._small_talk,
        ):
            commands = reading(message, words, context)
            if commands:
                return commands
        return [CannotHandle(reason="no flow, slot or phrase matched")]

    # -- readings, in order ----------------------------------------------------------------

    def _repair(self, message: str, words: str, context: UnderstandingContext) -> list[Command]:
        lexicon = self.lexicon
        collecting_text = self._expected_type(context) is SlotType.STRING
        if lexicon.cancel.search(words) and len(words.split()) <= 4:
            return [CancelFlow()]
        if lexicon.handoff.search(words) and not collecting_text:
            return [HumanHandoff()]
        if lexicon.help.search(words) and len(words.split()) <= 5 and not collecting_text:
            return [Help()]
        return []

    def _clarification(
        self, message: str, words: str, context: UnderstandingContext
    ) -> list[Command]:
        awaiting = context.awaiting
        if awaiting is None or awaiting.kind is not AwaitingKind.CLARIFY:
            return []
        options = list(awaiting.options)
        for word in words.split():
            if word in _ORDINALS and _ORDINALS[word] < len(options):
                return [StartFlow(flow=options[_ORDINALS[word]])]
        for match in self.triggers.match(message):
            if match.flow in options:
                return [StartFlow(flow=match.flow, slots=dict(match.slots))]
        for option in options:
            described = normalize(self.domain.flows[option].description or option.replace("_", " "))
            if described and (described in words or option.replace("_", " ") in words):
                return [StartFlow(flow=option)]
        return []

    def _confirmation(
        self, message: str, words: str, context: UnderstandingContext
    ) -> list[Command]:
        awaiting = context.awaiting
        if awaiting is None or awaiting.kind is not AwaitingKind.CONFIRM:
            return []
        answer = self.lexicon.answer(message)
        if answer is True:
            return [Affirm()]
        if answer is False:
            return [Deny()]
        return []

    def _flow_start(self, message: str, words: str, context: UnderstandingContext) -> list[Command]:
        matches = [m for m in self.triggers.match(message) if m.score >= KEYWORD_SCORE]
        if not matches:
            return []
        best = matches[0]
        rivals = [
            m for m in matches[1:] if best.score - m.score < CLARIFY_MARGIN and m.flow != best.flow
        ]
        if best.flow == context.active_flow and best.score < PHRASE_SCORE:
            return []  # a keyword of the flow already running is not a new start
        if rivals and best.score < PHRASE_SCORE:
            return [Clarify(options=(best.flow, *(m.flow for m in rivals)))]
        return [StartFlow(flow=best.flow, slots=dict(best.slots))]

    def _correction(self, message: str, words: str, context: UnderstandingContext) -> list[Command]:
        filled = {slot: value for slot, value in context.filled_slots.items() if value is not None}
        if not filled:
            return []
        marked = self.lexicon.correction.search(words) is not None
        awaiting = context.awaiting
        answering = awaiting is not None and awaiting.kind is AwaitingKind.CONFIRM
        if not marked and not (answering and self.lexicon.answer(message) is None):
            return []
        named = [slot for slot in filled if slot.replace("_", " ") in words]
        candidates = named or list(filled)
        found: list[tuple[str, SlotValue]] = []
        for slot in candidates:
            if self.domain.slots[slot].type is SlotType.STRING:
                continue  # free text is read after the slot's name, below
            value = self.extractor.extract(self.domain.slots[slot], message)
            if value is not None and value != filled[slot]:
                found.append((slot, value))
        if len(found) == 1:
            slot, value = found[0]
            return [CorrectSlot(slot=slot, value=value)]
        if named and self.domain.slots[named[0]].type is SlotType.STRING:
            value = self._text_after(named[0], message)
            if value:
                return [CorrectSlot(slot=named[0], value=value)]
        return []

    def _slot_value(self, message: str, words: str, context: UnderstandingContext) -> list[Command]:
        slot = self._expected(context)
        if slot is None:
            return []
        definition = self.domain.slots[slot]
        if self.lexicon.skip.search(words) and len(words.split()) <= 4:
            return [SkipQuestion()]
        value = self.extractor.extract(definition, message)
        if value is None:
            return []
        return [SetSlot(slot=slot, value=value)]

    def _small_talk(self, message: str, words: str, context: UnderstandingContext) -> list[Command]:
        for topic, pattern in self.lexicon.chitchat.items():
            if pattern.search(words):
                return [ChitChat(topic=topic)]
        return []

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _expected(context: UnderstandingContext) -> str | None:
        awaiting = context.awaiting
        if awaiting is not None and awaiting.kind is AwaitingKind.COLLECT:
            return awaiting.slot
        return None

    def _expected_type(self, context: UnderstandingContext) -> SlotType | None:
        slot = self._expected(context)
        definition: SlotDefinition | None = self.domain.slots.get(slot) if slot else None
        return definition.type if definition is not None else None

    @staticmethod
    def _text_after(slot: str, message: str) -> str:
        """`Bob` in "change the beneficiary to Bob"."""
        match = re.search(
            rf"{slot.replace('_', '[ _]')}\W+(?:to|is|should be)?\s*(.+)", message, re.IGNORECASE
        )
        return match.group(1).strip(" .!?") if match else ""
