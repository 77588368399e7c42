"""Typed slot extraction: a value of the slot's type found in a message, or None.

Values are JSON-friendly: numbers as int (when whole) or float, dates as ISO strings, enum
values by their canonical name.
"""

from __future__ import annotations

import datetime
import difflib
import itertools
import re
from collections.abc import Callable

from soni.config.models import SlotDefinition
from soni.core.slots import SlotType, SlotValue
from soni.core.types import Clock
from soni.du.lexicon import Lexicon, english, normalize

_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_IN_DAYS = re.compile(r"\bin (\d+|\w+) (day|days|week|weeks)\b")


class Extractor:
    def __init__(self, clock: Clock, lexicon: Lexicon | None = None) -> None:
        self.clock = clock
        self.lexicon = lexicon or english()
        self._by_type: dict[SlotType, Callable[[SlotDefinition, str], SlotValue]] = {
            SlotType.NUMBER: self._number,
            SlotType.AMOUNT: self._amount,
            SlotType.DATE: self._date,
            SlotType.BOOLEAN: self._boolean,
            SlotType.ENUM: self._enum,
            SlotType.REGEX: self._regex,
            SlotType.EMAIL: self._email,
            SlotType.STRING: self._string,
        }

    def extract(self, slot: SlotDefinition, text: str) -> SlotValue:
        return self._by_type[slot.type](slot, text)

    # -- numbers ---------------------------------------------------------------------------

    def number(self, text: str) -> int | float | None:
        match = _NUMBER.search(text)
        if match is not None:
            value = float(match.group().replace(",", ""))
            return int(value) if value.is_integer() else value
        return self._number_words(normalize(text))

    def _number_words(self, text: str) -> int | None:
        lexicon = self.lexicon
        total = current = 0
        seen = False
        for word in re.split(r"[\s-]+", text):
            if word in lexicon.units:
                current += lexicon.units[word]
            elif word in lexicon.tens:
                current += lexicon.tens[word]
            elif word in lexicon.scales:
                scale = lexicon.scales[word]
                current = max(current, 1) * scale
                if scale > 100:
                    total, current = total + current, 0
            elif word in ("and", "a") and seen:
                continue
            else:
                if seen:
                    break
                continue
            seen = True
        return total + current if seen else None

    def _number(self, slot: SlotDefinition, text: str) -> SlotValue:
        return self.number(text)

    def _amount(self, slot: SlotDefinition, text: str) -> SlotValue:
        return self.number(text.replace("$", " ").replace("€", " ").replace("£", " "))

    # -- dates -----------------------------------------------------------------------------

    def _date(self, slot: SlotDefinition, text: str) -> SlotValue:
        found = self.date(text)
        return found.isoformat() if found is not None else None

    def date(self, text: str) -> datetime.date | None:
        today = self.clock.today()
        words = normalize(text)
        relative = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
        if "day after tomorrow" in words:
            return today + datetime.timedelta(days=2)
        for word, offset in relative.items():
            if re.search(rf"\b{word}\b", words):
                return today + datetime.timedelta(days=offset)
        iso = _ISO_DATE.search(words)
        if iso is not None:
            try:
                return datetime.date(*(int(part) for part in iso.groups()))
            except ValueError:
                return None
        later = _IN_DAYS.search(words)
        if later is not None:
            count = self.number(later.group(1))
            if isinstance(count, int):
                days = count * (7 if later.group(2).startswith("week") else 1)
                return today + datetime.timedelta(days=days)
        for index, weekday in enumerate(self.lexicon.weekdays):
            if re.search(rf"\b{weekday}\b", words):
                ahead = (index - today.weekday()) % 7 or 7
                return today + datetime.timedelta(days=ahead)
        return self._month_day(words, today)

    def _month_day(self, words: str, today: datetime.date) -> datetime.date | None:
        for index, month in enumerate(self.lexicon.months, start=1):
            names = rf"(?:{month}|{month[:3]})"
            match = re.search(
                rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? {names}\b", words
            ) or re.search(rf"\b{names} (\d{{1,2}})(?:st|nd|rd|th)?\b", words)
            if match is not None:
                try:
                    candidate = datetime.date(today.year, index, int(match.group(1)))
                except ValueError:
                    return None
                return candidate if candidate >= today else candidate.replace(year=today.year + 1)
        return None

    # -- categorical -----------------------------------------------------------------------

    def _boolean(self, slot: SlotDefinition, text: str) -> SlotValue:
        return self.lexicon.answer(text)

    def _enum(self, slot: SlotDefinition, text: str) -> SlotValue:
        words = normalize(text)
        names = {value.lower(): value for value in slot.values}
        for value, synonyms in slot.synonyms.items():
            for synonym in synonyms:
                names.setdefault(synonym.lower(), value)
        for name in sorted(names, key=len, reverse=True):
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", words):
                return names[name]
        tokens = words.split()
        candidates = [*tokens, *(" ".join(pair) for pair in itertools.pairwise(tokens))]
        for token in candidates:
            close = difflib.get_close_matches(token, list(names), n=1, cutoff=0.8)
            if close:
                return names[close[0]]
        return None

    def _regex(self, slot: SlotDefinition, text: str) -> SlotValue:
        assert slot.pattern is not None
        match = re.search(slot.pattern, text)
        if match is None:
            return None
        return match.group(1) if match.groups() else match.group(0)

    def _email(self, slot: SlotDefinition, text: str) -> SlotValue:
        match = _EMAIL.search(text)
        return match.group(0) if match is not None else None

    def _string(self, slot: SlotDefinition, text: str) -> SlotValue:
        value = text.strip().strip(".!?").strip()
        return value or None
