"""Several requests in one message: "check my balance and send 50 to Bob", "send 100 to Bob
and 50 to Alice", "yes, and block my card".

The message is cut at connectives and commas. A part that starts a flow is a request; a
part that does not, but gives values of the previous request's flow, repeats it with the
words it left out ("50 to Alice" after "send 100 to Bob" is "send 50 to Alice"); any other
part belongs to the one before. Two requests of one flow whose values agree are one ("I lost
my card and I want to block it").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from soni.core.commands import StartFlow
from soni.du.index import DomainIndex
from soni.du.message import Message
from soni.du.triggers import KEYWORD_SCORE, TriggerMatch, Triggers
from soni.du.values import Span, other_values, text_end, value_for

Starter = Callable[[Message, TriggerMatch], StartFlow]


@dataclass(frozen=True)
class Request:
    span: Span
    start: StartFlow | None


class RequestSplitter:
    def __init__(self, index: DomainIndex, triggers: Triggers) -> None:
        self.index = index
        self.triggers = triggers

    def split(self, message: Message, active: str | None = None) -> list[Request]:
        """The requests of a message; one when it holds a single one. A part that would
        start the `active` flow again belongs to the message's reading ("no wait, send it
        to Erin" corrects the transfer under way)."""
        parts = self._parts(message)
        if len(parts) < 2:
            return [Request((0, len(message.tokens)), None)]
        requests: list[Request] = []
        for span in parts:
            part = message.part(*span)
            start = self.start_of(part)
            if start is not None and start.flow == active:
                start = None
            previous = requests[-1] if requests else None
            if start is None and previous is not None and previous.start is not None:
                start = self._elliptic(part, previous.start.flow)
            if previous is None:
                requests.append(Request(span, start))
            elif start is None or _same(previous.start, start):
                merged = _merged(previous.start, start)
                requests[-1] = Request((previous.span[0], span[1]), merged)
            else:
                requests.append(Request(span, start))
        return requests

    def start_of(self, message: Message) -> StartFlow | None:
        matches = [m for m in self.triggers.match(message) if m.phrase or not m.typos]
        if not matches or matches[0].score < KEYWORD_SCORE:
            return None
        return self.starting(message, matches[0])

    def starting(self, message: Message, match: TriggerMatch) -> StartFlow:
        """The flow a match starts, with the captured values and its other slots' values
        found anywhere in the message."""
        slots = dict(match.slots)
        wanted = [s for s in self.index.flow_slots.get(match.flow, ()) if s not in slots]
        for slot, (value, _) in other_values(message, wanted, match.spans).items():
            slots[slot] = value
        for slot in wanted:
            if slot not in slots and self.index.is_text(slot):
                value = self._cued_text(message, match, slot)
                if value is not None:
                    slots[slot] = value
        return StartFlow(flow=match.flow, slots=slots)

    def _cued_text(self, message: Message, match: TriggerMatch, slot: str) -> str | None:
        """Free text after a cue word of its slot outside the trigger's own words: "to Bob"
        in "send money to Bob" (the phrase "send money" captures nothing)."""
        used = {position for start, end in match.spans for position in range(start, end)}
        cues = self.index.cues.get(match.flow, {})
        others = tuple(s for s in self.index.flow_slots.get(match.flow, ()) if s != slot)
        for position, word in enumerate(message.words[:-1]):
            if position in used or slot not in cues.get(word, ()) or position + 1 in used:
                continue
            end = text_end(message, position + 1, others)
            end = min([end, *(p for p in used if p > position)])
            value = value_for(message, slot, position + 1, end)
            return value if isinstance(value, str) else None
        return None

    def _elliptic(self, part: Message, flow: str) -> StartFlow | None:
        trigger = self.triggers.of(flow)
        for phrase in trigger.phrases:
            if not phrase.prefix or len(phrase.prefix) == len(phrase.elements):
                continue
            whole = Message(" ".join(phrase.prefix) + " " + part.text, part.index, part.extractor)
            match = self.triggers.phrase_match(trigger, whole)
            if match is None:
                continue
            start = self.starting(whole, match)
            if any(self.index.typed(slot) for slot in start.slots):
                return start
        return None

    def _parts(self, message: Message) -> list[Span]:
        connectives = self.index.lexicon.fillers.connectives
        parts: list[Span] = []
        begin = position = 0
        while position < len(message.tokens):
            size = connectives.at(message.words, position)
            if size:
                if position > begin:
                    parts.append((begin, position))
                position += size
                begin = position
                continue
            position += 1
            if message.tokens[position - 1].breaks:
                parts.append((begin, position))
                begin = position
        if begin < len(message.tokens):
            parts.append((begin, len(message.tokens)))
        return parts


def _same(first: StartFlow | None, second: StartFlow | None) -> bool:
    """Two starts that are one request: the same flow, no value said twice differently."""
    if first is None or second is None or first.flow != second.flow:
        return False
    return all(first.slots.get(slot, value) == value for slot, value in second.slots.items())


def _merged(first: StartFlow | None, second: StartFlow | None) -> StartFlow | None:
    if first is None or second is None:
        return first or second
    return first.model_copy(update={"slots": {**first.slots, **second.slots}})
