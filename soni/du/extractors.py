"""Typed slot values in a message: every value of a slot's type with its place (`find`), or
the value a message gives a slot it answers (`extract`).

Values are JSON-friendly: numbers as int (when whole) or float, dates and times as ISO
strings, enum values by their canonical name. A regex slot keeps the whole match, or its
group named `value` when the pattern has one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from types import MappingProxyType

from soni.config.models import SlotDefinition
from soni.core.slots import SlotType, SlotValue
from soni.core.types import Clock
from soni.du.dates import DateReader, TimeReader
from soni.du.found import Found, non_overlapping
from soni.du.lexicon import Lexicon, Typos, english
from soni.du.text import tokenize
from soni.du.typos import distance

_NUMBER = re.compile(r"(?<![\w.:/-])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w:/]|[.,/-]\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WORD = re.compile(r"[a-z]+", re.IGNORECASE)
_SYMBOLS = "$€£"

MAX_FUZZY_WORD = 30
"""Longer words are never typos of an enum value."""

Finder = Callable[[SlotDefinition, str, bool], tuple[Found, ...]]


class Extractor:
    def __init__(self, clock: Clock, lexicon: Lexicon | None = None, date_order: str = "dmy"):
        self.clock = clock
        self.lexicon = lexicon or english()
        self.dates = DateReader(clock, self.lexicon, date_order, self.number)
        self.times = TimeReader(self.lexicon)
        words = "|".join(re.escape(c) for c in self.lexicon.currencies if c not in _SYMBOLS)
        self._currency_after = re.compile(rf"\s*(?:{words})\b|\s*[{_SYMBOLS}]", re.IGNORECASE)
        self._currency_before = re.compile(rf"(?:[{_SYMBOLS}]|\b(?:{words}))\s*$", re.IGNORECASE)
        self._finders: dict[SlotType, Finder] = {
            SlotType.NUMBER: lambda slot, text, fuzzy: self.numbers(text),
            SlotType.AMOUNT: lambda slot, text, fuzzy: self.amounts(text),
            SlotType.DATE: lambda slot, text, fuzzy: self.dates.find(text),
            SlotType.TIME: lambda slot, text, fuzzy: self.times.find(text),
            SlotType.ENUM: self._enum,
            SlotType.REGEX: lambda slot, text, fuzzy: _regex(slot, text),
            SlotType.EMAIL: lambda slot, text, fuzzy: _emails(text),
        }

    def find(self, slot: SlotDefinition, text: str, *, fuzzy: bool = False) -> tuple[Found, ...]:
        """Every value of the slot's type in `text`; none for free text and yes/no, whose
        values are a whole answer, not a part of one. `fuzzy` admits enum typos."""
        finder = self._finders.get(slot.type)
        return finder(slot, text, fuzzy) if finder is not None else ()

    def extract(self, slot: SlotDefinition, text: str) -> SlotValue:
        """The value `text` gives `slot` when it answers the slot's question."""
        if slot.type is SlotType.STRING:
            value = text.strip().strip(".!?").strip()
            return value or None
        if slot.type is SlotType.BOOLEAN:
            return self.lexicon.answer(text)
        found = self.find(slot, text, fuzzy=True)
        if found:
            return found[0].value
        if slot.type is SlotType.TIME:
            return self.times.bare_hour(text)
        return None

    # -- numbers ---------------------------------------------------------------------------

    def number(self, text: str) -> int | float | None:
        found = self.numbers(text)
        value = found[0].value if found else None
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    def numbers(self, text: str) -> tuple[Found, ...]:
        digits = [
            Found(_whole(float(m.group().replace(",", ""))), m.start(), m.end())
            for m in _NUMBER.finditer(text)
        ]
        return non_overlapping([*digits, *self._number_words(text)])

    def _number_words(self, text: str) -> Iterator[Found]:
        lexicon = self.lexicon
        total = current = 0
        start = end = -1
        for match in itertools.chain(_WORD.finditer(text), [None]):
            word = match.group().lower() if match is not None else ""
            if word in lexicon.units or word in lexicon.tens:
                current += lexicon.units.get(word, 0) + lexicon.tens.get(word, 0)
            elif word in lexicon.scales:
                scale = lexicon.scales[word]
                current = max(current, 1) * scale
                if scale > 100:
                    total, current = total + current, 0
            elif word in ("and", "a") and start >= 0:
                continue
            else:
                if start >= 0:
                    yield Found(total + current, start, end)
                total = current = 0
                start = -1
                continue
            assert match is not None
            start = match.start() if start < 0 else start
            end = match.end()

    def amounts(self, text: str) -> tuple[Found, ...]:
        """Numbers with the currency around them ("$50", "50 dollars", "fifty euros")."""
        after, before = self._currency_after, self._currency_before
        found = []
        for number in self.numbers(text):
            start, end = number.start, number.end
            ahead = after.match(text, end)
            if ahead is not None:
                end = ahead.end()
            behind = before.search(text, 0, start)
            if behind is not None:
                start = behind.start()
            found.append(Found(number.value, start, end))
        return tuple(found)

    # -- categorical -----------------------------------------------------------------------

    def _enum(self, slot: SlotDefinition, text: str, fuzzy: bool) -> tuple[Found, ...]:
        names = _enum_names(slot)
        found = [
            Found(names[m.group().lower()], m.start(), m.end())
            for m in _enum_pattern(slot).finditer(text)
        ]
        if found or not fuzzy:
            return non_overlapping(found)
        tokens = tuple(t for t in tokenize(text) if len(t.norm) <= MAX_FUZZY_WORD)
        spans = [*((t, t) for t in tokens), *itertools.pairwise(tokens)]
        for first, last in spans:
            words = text[first.start : last.end].lower()
            close = _closest(words, tuple(names), self.lexicon.typos)
            if close is not None:
                found.append(Found(names[close], first.start, last.end))
        return non_overlapping(found)


@lru_cache(maxsize=4096)
def _closest(words: str, names: tuple[str, ...], typos: Typos) -> str | None:
    """The one enum name `words` is a typo of ("savngs": savings), by the same edit
    distance as trigger words."""
    allowance = typos.allowance(words)
    close = [
        name
        for name in names
        if allowance
        and abs(len(name) - len(words)) <= allowance
        and distance(words, name, allowance) <= allowance
        and not typos.substituted(words, name)
    ]
    return close[0] if len(close) == 1 else None


def _enum_names(slot: SlotDefinition) -> Mapping[str, str]:
    return _names(slot.values, tuple(slot.synonyms.items()))


@lru_cache(maxsize=256)
def _names(
    values: tuple[str, ...], synonyms: tuple[tuple[str, tuple[str, ...]], ...]
) -> Mapping[str, str]:
    """Every name of an enum slot's values (lower case) -> the value it names."""
    names = {value.lower(): value for value in values}
    for value, others in synonyms:
        for synonym in others:
            names.setdefault(synonym.lower(), value)
    return MappingProxyType(names)


def _enum_pattern(slot: SlotDefinition) -> re.Pattern[str]:
    return _alternatives(tuple(sorted(_enum_names(slot), key=len, reverse=True)))


@lru_cache(maxsize=256)
def _alternatives(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(name) for name in names)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _regex(slot: SlotDefinition, text: str) -> tuple[Found, ...]:
    assert slot.pattern is not None
    found = []
    for match in re.finditer(slot.pattern, text):
        named = "value" in match.re.groupindex and match.group("value") is not None
        value = match.group("value") if named else match.group(0)
        if value:
            found.append(Found(value, match.start(), match.end()))
    return tuple(found)


def _emails(text: str) -> tuple[Found, ...]:
    return tuple(Found(m.group(), m.start(), m.end()) for m in _EMAIL.finditer(text))


def _whole(value: float) -> int | float:
    return int(value) if value.is_integer() else value
