"""Where values stand in a message: the typed value a stretch of words is, where a free
text value ends, and the values of a flow's slots found anywhere when only one slot can
take them.

A free-text value ends at a comma, a connective ("and", "then") or where a value of another
of the flow's slots begins ("Dave 30 dollars": Dave, and 30 is the amount), and drops
trailing fillers ("Alice please").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from soni.core.slots import SlotType, SlotValue
from soni.du.found import Found
from soni.du.message import Message

Span = tuple[int, int]
"""Token positions [start, end)."""

_PRIORITY = (
    SlotType.DATE,
    SlotType.TIME,
    SlotType.EMAIL,
    SlotType.REGEX,
    SlotType.ENUM,
    SlotType.AMOUNT,
    SlotType.NUMBER,
)
"""The order in which types claim words: a number inside a date is the date's."""


def typed_slots(message: Message, slots: Iterable[str]) -> list[str]:
    return [slot for slot in slots if message.index.typed(slot)]


def value_starts(message: Message, slots: Iterable[str]) -> frozenset[int]:
    """Token positions where a value of one of `slots` begins."""
    starts = set()
    for slot in typed_slots(message, slots):
        for found in message.finds(slot):
            span = message.token_span(found)
            if span is not None:
                starts.add(span[0])
    return frozenset(starts)


def text_end(message: Message, start: int, others: tuple[str, ...]) -> int:
    """Where a free-text value starting at `start` ends."""
    stops = message.memo(("starts", others), lambda: value_starts(message, others))
    connectives = message.index.lexicon.fillers.connectives
    for position in range(start + 1, len(message.tokens)):
        if message.tokens[position - 1].breaks or position in stops:
            return position
        if connectives.at(message.words, position):
            return position
    return len(message.tokens)


def trimmed(message: Message, start: int, end: int) -> Span:
    """`start:end` without leading and trailing fillers."""
    fillers = message.index.lexicon.fillers
    words = message.words
    while start < end:
        size = fillers.leading.at(words[:end], start)
        if not size:
            break
        start += size
    while end > start:
        size = fillers.trailing.ending_at(words, end)
        if not size or end - size < start:
            break
        end -= size
    return start, end


def text_value(message: Message, start: int, end: int) -> str | None:
    """Free text from `start` to `end`, trimmed; None for nothing or a placeholder
    ("someone")."""
    start, end = trimmed(message, start, end)
    if message.index.lexicon.fillers.placeholders.whole(message.words[start:end]):
        return None
    value = message.text_of(start, end).strip(" .!?,;")
    return value or None


def value_for(message: Message, slot: str, start: int, end: int) -> SlotValue:
    """The value tokens `start:end` give `slot`, read as its type reads."""
    definition = message.index.domain.slots[slot]
    if message.index.typed(slot):
        return typed_value(message, slot, start, end)
    if definition.type is SlotType.BOOLEAN:
        return message.index.lexicon.answer(message.text_of(start, end))
    value = text_value(message, start, end)
    return value if value is not None and len(value) <= definition.max_length else None


def typed_value(message: Message, slot: str, start: int, end: int) -> SlotValue:
    """The value of `slot` that tokens `start:end` are, give or take the little words
    around a value ("the 30th of november", "$ 50"); None if they are not one."""
    tokens = message.tokens[start:end]
    low, high = tokens[0].start, tokens[-1].end
    found = [f for f in message.finds(slot) if low <= f.start and f.end <= high]
    known = message.index.vocabulary.known
    if not found and not all(token.norm in known for token in tokens):  # typos of a value
        definition = message.index.domain.slots[slot]
        part = message.text[low:high]
        found = [
            Found(f.value, f.start + low, f.end + low)
            for f in message.extractor.find(definition, part, fuzzy=True)
        ]
    if not found or len({f.value for f in found}) != 1:
        return None
    lexicon = message.index.lexicon
    around = lexicon.fillers.around_values | message.index.own_words(slot)
    for token in tokens:
        covered = any(f.overlaps(token.start, token.end) for f in found)
        if not covered and token.norm not in around and token.norm not in lexicon.currencies:
            return None
    return found[0].value


def other_values(
    message: Message, slots: Iterable[str], taken: Iterable[Span] = ()
) -> dict[str, tuple[SlotValue, Span]]:
    """The values of `slots` anywhere in the message, outside `taken`, when each belongs
    to one slot only: one value of its type in the message, and no other slot of the
    same type wanting it."""
    claimed: list[Span] = list(taken)
    by_type: dict[SlotType, list[str]] = {}
    for slot in typed_slots(message, slots):
        by_type.setdefault(message.index.domain.slots[slot].type, []).append(slot)
    result: dict[str, tuple[SlotValue, Span]] = {}
    for kind in _PRIORITY:
        found = _unclaimed(message, by_type.get(kind, ()), claimed)
        takers = [slot for slot, items in found.items() if items]
        for slot in takers:
            values = {item.value for item, _ in found[slot]}
            others_want = any(
                _same_place(found[slot], found[other]) for other in takers if other != slot
            )
            if len(values) == 1 and not others_want:
                item, span = found[slot][0]
                result[slot] = (item.value, span)
        for items in found.values():
            claimed.extend(span for _, span in items)
    return result


def _unclaimed(
    message: Message, slots: Iterable[str], claimed: list[Span]
) -> Mapping[str, list[tuple[Found, Span]]]:
    found: dict[str, list[tuple[Found, Span]]] = {}
    for slot in slots:
        items = []
        for item in message.finds(slot):
            span = message.token_span(item)
            if span is not None and not any(_overlap(span, other) for other in claimed):
                items.append((item, span))
        found[slot] = items
    return found


def _same_place(mine: list[tuple[Found, Span]], theirs: list[tuple[Found, Span]]) -> bool:
    return any(_overlap(a, b) for _, a in mine for _, b in theirs)


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]
