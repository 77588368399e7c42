"""Corrections in the user's words: "no, to Alice", "sorry, I meant Carol", "actually make
it 60", "change the recipient to Carol", "not Bob, Carol", "70 not 60".

Leading markers ("no", "sorry", "actually", "I meant") are dropped; the forms of the
lexicon are tried on what is left. The slot is the one the words name (its name, aliases,
prompt words and their synonyms), the one whose old value is named, the one a cue word
announces ("to" before the beneficiary in "send {amount} to {beneficiary}"), the one whose
type the value fits, or, for free text, the one the pending confirmation shows. Only a
marked message (a marker, a form, a cue) changes free text: "Carol" alone at a
confirmation is not a correction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from soni.core.commands import Command, CorrectSlot
from soni.core.slots import SlotValue
from soni.du.index import DomainIndex
from soni.du.message import Message
from soni.du.text import norm
from soni.du.values import Span, trimmed, value_for, value_starts

_SLOT, _VALUE, _OLD = "{slot}", "{value}", "{old}"


@dataclass(frozen=True)
class Focus:
    """What a correction may change: the active flow's slots, the filled ones first among
    those the pending confirmation shows."""

    flow: str
    slots: tuple[str, ...]
    filled: Mapping[str, SlotValue]
    confirming: frozenset[str]

    def typed_slots(self, index: DomainIndex) -> list[str]:
        return [slot for slot in self.slots if index.typed(slot)]

    def order(self) -> list[str]:
        shown = [slot for slot in self.filled if slot in self.confirming]
        return [*shown, *(slot for slot in self.filled if slot not in self.confirming)]


@dataclass(frozen=True)
class _Form:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class _Reading:
    slots: tuple[str, ...]
    value: Span
    old: Span | None


class CorrectionReader:
    def __init__(self, index: DomainIndex) -> None:
        self.index = index
        self.lexicon = index.lexicon.corrections
        self.forms = tuple(_Form(_parts(form)) for form in self.lexicon.forms)

    def read(self, message: Message, focus: Focus, *, confirming: bool) -> list[Command]:
        if not focus.filled or not message.tokens:
            return []
        start, end = self._body(message)
        marked = start > 0
        readings = list(self._forms(message, focus, start, end))
        for reading in readings:
            command = self._named(message, focus, reading)
            if command is not None:
                return [command]
        if readings:
            return []  # "make it 60" with nothing filled to take 60: an answer, read later
        start, end = trimmed(message, start, end)
        if start >= end:
            return []
        cued = self._cued(message, focus, start, end, text=marked)
        if cued is not None:
            return [cued]
        if not (marked or confirming):
            return []
        found = self._typed(message, focus, (start, end))
        if found is None and marked:
            found = self._text(message, focus, (start, end))
        return [found] if found is not None else []

    def _body(self, message: Message) -> Span:
        """The message without its leading markers ("no, sorry, I meant ...")."""
        position = 0
        markers = self.lexicon.markers
        while position < len(message.words):
            size = markers.at(message.words, position)
            if not size:
                break
            position += size
        return position, len(message.words)

    # -- forms -----------------------------------------------------------------------------

    def _forms(self, message: Message, focus: Focus, start: int, end: int) -> Iterator[_Reading]:
        among = frozenset(focus.slots) | frozenset(focus.filled)
        fillers = self.index.lexicon.fillers.trailing
        while end > start and fillers.ending_at(message.words, end):
            end -= fillers.ending_at(message.words, end)
        for form in self.forms:
            yield from self._match(
                form.parts, 0, message, start, end, among, _Reading((), (0, 0), None)
            )

    def _match(
        self,
        parts: tuple[str, ...],
        index: int,
        message: Message,
        position: int,
        end: int,
        among: frozenset[str],
        reading: _Reading,
    ) -> Iterator[_Reading]:
        if index == len(parts):
            if position == end:
                yield reading
            return
        part = parts[index]
        words = message.words
        if part == _SLOT:
            for size in range(1, min(4, end - position) + 1):
                named = self.index.slots_named(tuple(words[position : position + size]), among)
                if named:
                    found = _Reading(tuple(named), reading.value, reading.old)
                    yield from self._match(
                        parts, index + 1, message, position + size, end, among, found
                    )
        elif part in (_VALUE, _OLD):
            last = index == len(parts) - 1
            for stop in [end] if last else range(position + 1, end):
                span = (position, stop)
                found = (
                    _Reading(reading.slots, span, reading.old)
                    if part == _VALUE
                    else _Reading(reading.slots, reading.value, span)
                )
                yield from self._match(parts, index + 1, message, stop, end, among, found)
        elif position < end and words[position] == part:
            yield from self._match(parts, index + 1, message, position + 1, end, among, reading)

    def _named(self, message: Message, focus: Focus, reading: _Reading) -> CorrectSlot | None:
        start, end = trimmed(message, *reading.value)
        if start >= end:
            return None
        if reading.slots:
            return self._first_fit(message, focus, reading.slots, (start, end))
        if reading.old is not None:
            owners = self._owners(message, focus, reading.old)
            return self._first_fit(message, focus, owners, (start, end)) if owners else None
        return (
            self._cued(message, focus, start, end, text=True)
            or self._typed(message, focus, (start, end))
            or self._text(message, focus, (start, end))
        )

    def _owners(self, message: Message, focus: Focus, old: Span) -> tuple[str, ...]:
        """The filled slots whose value the words `old` name ("not Bob, Carol"; "not Ada"
        for Ada Lovelace; "11" for 11:00)."""
        said = message.text_of(*old).strip(" ,")
        words = set(said.lower().split())
        owners = []
        for slot, value in focus.filled.items():
            definition = self.index.domain.slots[slot]
            if self.index.typed(slot):
                named = message.extractor.extract(definition, said) == value
            else:
                named = bool(words) and words <= set(str(value).lower().split())
            if named:
                owners.append(slot)
        return tuple(owners)

    # -- which slot ------------------------------------------------------------------------

    def _cued(
        self, message: Message, focus: Focus, start: int, end: int, *, text: bool
    ) -> CorrectSlot | None:
        """ "to Alice": the word before a capture in the flow's phrases names the slot; the
        cue may stand anywhere ("send it to Carol"), the last one counts. Free text is
        taken after a cue only in a marked correction (`text`)."""
        cues = self.index.cues.get(focus.flow, {})
        for position in range(end - 2, start - 1, -1):
            slots = cues.get(message.words[position])
            if not slots:
                continue
            slot = next(iter(slots))
            if slot in focus.filled and (text or self.index.typed(slot)):
                return self._fit(message, focus, slot, (position + 1, end))
        return None

    def _typed(self, message: Message, focus: Focus, span: Span) -> CorrectSlot | None:
        fits = []
        for slot in focus.order():
            if self.index.typed(slot):
                command = self._fit(message, focus, slot, span)
                if command is not None:
                    fits.append(command)
        if len(fits) > 1:
            fits = [fit for fit in fits if fit.slot in focus.confirming]
        return fits[0] if len(fits) == 1 else None

    def _text(self, message: Message, focus: Focus, span: Span) -> CorrectSlot | None:
        """Free text with no slot named: short, not a sentence ("I changed my mind"), not a
        value another slot's type reads ("60"), after the flow's cue words ("to Alice")."""
        cues = self.index.cues.get(focus.flow, {})
        start, end = span
        while start < end and message.words[start] in cues:
            start += 1
        words = message.words[start:end]
        if not words or len(words) > self.lexicon.free_text_words:
            return None
        if words[0] in self.lexicon.not_values:
            return None
        starts = value_starts(message, focus.typed_slots(self.index))
        if any(start <= position < end for position in starts):
            return None
        span = (start, end)
        texts = [slot for slot in focus.order() if self.index.is_text(slot)]
        shown = [slot for slot in texts if slot in focus.confirming]
        chosen = shown or texts
        return self._fit(message, focus, chosen[0], span) if len(chosen) == 1 else None

    def _first_fit(
        self, message: Message, focus: Focus, slots: tuple[str, ...], span: Span
    ) -> CorrectSlot | None:
        for slot in slots:
            command = self._fit(message, focus, slot, span)
            if command is not None:
                return command
        return None

    def _fit(self, message: Message, focus: Focus, slot: str, span: Span) -> CorrectSlot | None:
        start, end = trimmed(message, *span)
        if start >= end:
            return None
        value = value_for(message, slot, start, end)
        if value is None or value == focus.filled.get(slot):
            return None
        return CorrectSlot(slot=slot, value=value)


def _parts(form: str) -> tuple[str, ...]:
    return tuple(part if part in (_SLOT, _VALUE, _OLD) else norm(part) for part in form.split())
