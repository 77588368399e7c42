"""The answer to the question the bot asked: the asked slot's value, and the values of the
flow's other slots said with it ("Dave 30 dollars" at "Who should receive it?").

A free-text answer is what is not a command: help, handoff, cancel and repeat are read
before it (see the generator); small talk, out-of-scope requests and questions are not
names either. It drops leading markers and fillers ("sorry, it's Bob"), the cue words of
its slot ("to Bob") and trailing fillers ("Alice please"), and ends where another slot's
value begins.
"""

from __future__ import annotations

from collections.abc import Mapping

from soni.core.commands import OUT_OF_SCOPE, CannotHandle, ChitChat, Command, SetSlot, SkipQuestion
from soni.core.slots import SlotType, SlotValue
from soni.du.index import DomainIndex
from soni.du.message import Message
from soni.du.values import Span, other_values, text_value, trimmed, value_starts

MAX_SKIP_WORDS = 4
MAX_CHITCHAT_WORDS = 3


class AnswerReader:
    def __init__(self, index: DomainIndex) -> None:
        self.index = index
        self.lexicon = index.lexicon

    def read(
        self, message: Message, slot: str, flow: str | None, filled: Mapping[str, SlotValue]
    ) -> list[Command]:
        lexicon = self.lexicon
        if lexicon.skip.search(message.normalized) and len(message.words) <= MAX_SKIP_WORDS:
            return [SkipQuestion()]
        others = [
            other
            for other in self.index.flow_slots.get(flow or "", ())
            if other != slot and filled.get(other) is None
        ]
        definition = self.index.domain.slots[slot]
        if definition.type is SlotType.STRING:
            return self._text(message, slot, others)
        if definition.type is SlotType.BOOLEAN:
            answer = lexicon.answer(message.text)
            return [SetSlot(slot=slot, value=answer)] if answer is not None else []
        return self._typed(message, slot, others)

    def _typed(self, message: Message, slot: str, others: list[str]) -> list[Command]:
        taken: list[Span] = []
        value: SlotValue = None
        found = message.finds(slot)
        if found:
            span = message.token_span(found[0])
            value = found[0].value
            taken = [span] if span is not None else []
        else:
            value = message.extractor.extract(self.index.domain.slots[slot], message.text)
        commands: list[Command] = [SetSlot(slot=slot, value=value)] if value is not None else []
        return commands + self._others(message, others, taken)

    def _text(self, message: Message, slot: str, others: list[str]) -> list[Command]:
        lexicon = self.lexicon
        words = message.normalized
        if len(message.words) <= MAX_CHITCHAT_WORDS:
            for topic, pattern in lexicon.chitchat.items():
                if pattern.search(words):
                    return [ChitChat(topic=topic)]
        if lexicon.out_of_scope.search(words) or self._question(message):
            return [CannotHandle(reason=OUT_OF_SCOPE)]
        start = self._start(message, slot)
        stops = sorted(p for p in value_starts(message, others) if p >= start)
        end = stops[0] if stops else len(message.tokens)
        rest = self._others(message, others, [(0, end)])
        value = text_value(message, start, end) if end > start else None
        if value is None:
            return rest
        return [SetSlot(slot=slot, value=value), *rest]

    def _start(self, message: Message, slot: str) -> int:
        """Where the value begins: after markers, fillers and the slot's cue words."""
        markers = self.lexicon.corrections.markers
        cues = {word for flow in self.index.cues.values() for word, s in flow.items() if slot in s}
        position = 0
        while position < len(message.tokens):
            size = markers.at(message.words, position)
            if not size and message.words[position] in cues:
                size = 1
            if not size:
                size = trimmed(message, position, len(message.tokens))[0] - position
            if not size:
                return position
            position += size
        return position

    def _question(self, message: Message) -> bool:
        """ "What do you mean?" is not a name."""
        return (
            message.text.rstrip().endswith("?")
            and len(message.words) > 1
            and message.words[0] in self.lexicon.corrections.not_values
        )

    @staticmethod
    def _others(message: Message, others: list[str], taken: list[Span]) -> list[Command]:
        found = other_values(message, others, taken)
        return [SetSlot(slot=slot, value=value) for slot, (value, _) in found.items()]
