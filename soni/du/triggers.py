"""Flow triggers: phrases with `{slot}` captures, keywords and regexes, scored.

A phrase matches anywhere in the message, word by word; a word may be a small typo of the
phrase's word ("sned mony" for "send money"), which costs a little score. A capture takes
the words its slot's type can read: a typed capture is exactly a value ("$50", "the 30th
of november"); a free-text one ends where the next word of the phrase, a comma, a
connective or a value of another of the flow's slots begins ("send 100 to Bob and 50 to
Alice": Bob).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from soni.config.models import Domain
from soni.core.slots import SlotValue
from soni.du.message import Message
from soni.du.text import words_of
from soni.du.values import Span, text_end, value_for, value_starts

PHRASE_SCORE = 1.0
REGEX_SCORE = 0.9
KEYWORD_SCORE = 0.6
TYPO_COST = 0.05
MAX_VALUE_WORDS = 8
"""The most words a typed capture may span ("the 30th of november 2026")."""
_CAPTURE = re.compile(r"^\{(\w+)\}$")


@dataclass(frozen=True)
class TriggerMatch:
    flow: str
    score: float
    slots: Mapping[str, SlotValue]
    phrase: bool = False
    """Matched one of the flow's phrases (not only a keyword or a regex)."""
    typos: int = 0
    spans: tuple[Span, ...] = ()
    """The words the match used: other slots' values are read outside them."""

    @property
    def exact(self) -> bool:
        return self.phrase and not self.typos


@dataclass(frozen=True)
class Capture:
    slot: str


Element = str | Capture


@dataclass(frozen=True)
class Phrase:
    elements: tuple[Element, ...]
    specificity: float
    literals: frozenset[str]

    @property
    def prefix(self) -> tuple[str, ...]:
        """The words before its first capture ("send" of "send {amount} to ...")."""
        words = []
        for element in self.elements:
            if isinstance(element, Capture):
                break
            words.append(element)
        return tuple(words)


def compile_phrase(text: str) -> Phrase:
    elements: list[Element] = []
    for part in text.split():
        capture = _CAPTURE.match(part)
        if capture is not None:
            elements.append(Capture(capture.group(1)))
        else:
            elements.extend(words_of(part))
    literals = frozenset(e for e in elements if isinstance(e, str))
    return Phrase(tuple(elements), len(text.split()) / 100, literals)


@dataclass(frozen=True)
class _Partial:
    slots: dict[str, SlotValue]
    typos: int
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class FlowTrigger:
    flow: str
    slots: tuple[str, ...]
    phrases: tuple[Phrase, ...]
    keywords: tuple[tuple[str, ...], ...]
    regexes: tuple[re.Pattern[str], ...]


class Triggers:
    def __init__(self, domain: Domain, flow_slots: Mapping[str, tuple[str, ...]]) -> None:
        self.domain = domain
        self.flows = tuple(
            FlowTrigger(
                name,
                flow_slots.get(name, ()),
                tuple(compile_phrase(phrase) for phrase in flow.trigger.phrases),
                tuple(words for words in map(words_of, flow.trigger.keywords) if words),
                tuple(re.compile(pattern, re.IGNORECASE) for pattern in flow.trigger.regex),
            )
            for name, flow in domain.flows.items()
        )
        self._by_flow = {trigger.flow: trigger for trigger in self.flows}

    def of(self, flow: str) -> FlowTrigger:
        return self._by_flow[flow]

    def match(self, message: Message) -> list[TriggerMatch]:
        """Every flow the message triggers (its best match each), best first."""
        return message.memo("triggers", lambda: self._match(message))

    def _match(self, message: Message) -> list[TriggerMatch]:
        found = []
        for trigger in self.flows:
            best = self.phrase_match(trigger, message)
            if best is None and any(r.search(message.text) for r in trigger.regexes):
                best = TriggerMatch(trigger.flow, REGEX_SCORE, {})
            if best is None:
                best = _keywords(trigger, message)
            if best is not None:
                found.append(best)
        return sorted(found, key=lambda m: (-m.score, m.flow))

    def phrase_match(self, trigger: FlowTrigger, message: Message) -> TriggerMatch | None:
        best: TriggerMatch | None = None
        present = message.present()
        for phrase in trigger.phrases:
            if not phrase.literals <= present:
                continue  # a word of the phrase is missing: no need to read it
            candidate = _PhraseReader(trigger, phrase, message).best()
            if candidate is not None and (best is None or candidate.score > best.score):
                best = candidate
        return best


def _keywords(trigger: FlowTrigger, message: Message) -> TriggerMatch | None:
    hits = typos = 0
    spans: list[Span] = []
    for keyword in trigger.keywords:
        place = _find_words(keyword, message)
        if place is not None:
            hits += 1
            typos += place[1]
            spans.append((place[0], place[0] + len(keyword)))
    if not hits:
        return None
    score = KEYWORD_SCORE + 0.05 * (hits - 1) - TYPO_COST * typos
    return TriggerMatch(trigger.flow, score, {}, typos=typos, spans=tuple(spans))


def _find_words(words: tuple[str, ...], message: Message) -> tuple[int, int] | None:
    """Where `words` stand in the message (exactly, else with typos): (position, typos)."""
    best: tuple[int, int] | None = None
    size = len(words)
    if not message.present().issuperset(words):
        return None
    for start in range(len(message.tokens) - size + 1):
        typos = 0
        for offset, word in enumerate(words):
            if message.words[start + offset] == word:
                continue
            if word not in message.candidates(start + offset):
                break
            typos += 1
        else:
            if best is None or typos < best[1]:
                best = (start, typos)
            if typos == 0:
                return best
    return best


class _PhraseReader:
    """One phrase against one message: the best place it matches, if any."""

    def __init__(self, trigger: FlowTrigger, phrase: Phrase, message: Message) -> None:
        self.trigger = trigger
        self.phrase = phrase
        self.message = message
        self.size = min(len(message.tokens), message.index.lexicon.typos.max_words)

    def best(self) -> TriggerMatch | None:
        first = self.phrase.elements[0] if self.phrase.elements else None
        if isinstance(first, str):
            starts = [p for p, _ in self.message.places(first) if p < self.size]
        else:
            starts = list(range(self.size))
        found: _Partial | None = None
        for start in starts:
            partial = self._from(0, start)
            if partial is not None and (found is None or partial.typos < found.typos):
                found = partial
                if not found.typos:
                    break
        if found is None:
            return None
        score = PHRASE_SCORE + self.phrase.specificity - TYPO_COST * found.typos
        return TriggerMatch(
            self.trigger.flow,
            score,
            found.slots,
            phrase=True,
            typos=found.typos,
            spans=found.spans,
        )

    def _literal(self, word: str, position: int) -> int | None:
        """0 when the token is `word`, 1 when it is a typo of it, None otherwise."""
        if position >= self.size:
            return None
        if self.message.words[position] == word:
            return 0
        return 1 if word in self.message.candidates(position) else None

    def _from(self, element: int, position: int) -> _Partial | None:
        elements = self.phrase.elements
        if element == len(elements):
            return _Partial({}, 0, ())
        current = elements[element]
        if isinstance(current, str):
            typo = self._literal(current, position)
            if typo is None:
                return None
            rest = self._from(element + 1, position + 1)
            if rest is None:
                return None
            return _Partial(rest.slots, rest.typos + typo, ((position, position + 1), *rest.spans))
        return self._capture(current.slot, element, position)

    def _capture(self, slot: str, element: int, position: int) -> _Partial | None:
        if position >= self.size or slot not in self.message.index.domain.slots:
            return None
        last = element == len(self.phrase.elements) - 1
        for end in self._ends(slot, position, last):
            value = self._value(slot, position, end)
            if value is None:
                continue
            rest = self._from(element + 1, end)
            if rest is not None:
                return _Partial(
                    {slot: value, **rest.slots}, rest.typos, ((position, end), *rest.spans)
                )
        return None

    def _ends(self, slot: str, position: int, last: bool) -> range:
        if self.message.index.typed(slot):
            limit = min(self.size, position + MAX_VALUE_WORDS)
            return range(limit, position, -1) if last else range(position + 1, limit + 1)
        others = tuple(s for s in self.trigger.slots if s != slot)
        starts = self.message.memo(("starts", others), lambda: value_starts(self.message, others))
        if position in starts:
            return range(0)  # "pay 50": a value of another slot is not a name
        stop = min(text_end(self.message, position, others), self.size)
        return range(stop, stop + 1) if last else range(position + 1, stop + 1)

    def _value(self, slot: str, start: int, end: int) -> SlotValue:
        return value_for(self.message, slot, start, end)
