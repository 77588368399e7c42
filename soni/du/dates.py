"""Dates and times in a message, with where they stand.

Dates: today/tomorrow/..., weekdays ("next friday"), "in 3 days", month names ("the 30th of
november", "march 3rd"), ISO dates and numeric ones ("24/12/2026", "12.24.26", "24/12")
read in the domain's `settings.date_order`, the other order only when that one is not a
date. Times: "10:30", "11am", "3:15 pm", "noon". Values are ISO strings ("2026-12-24",
"15:15").
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator

from soni.core.types import Clock
from soni.du.found import Found, non_overlapping
from soni.du.lexicon import Lexicon

_ISO = re.compile(r"(?<![\w/.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w/-])")
_NUMERIC = re.compile(r"(?<![\w/.:-])(\d{1,4})([/.-])(\d{1,2})(?:\2(\d{2,4}))?(?![\w/:-]|\.\d)")
_IN_DAYS = re.compile(r"\bin (\d+|[a-z]+) (days?|weeks?)\b", re.IGNORECASE)
_CLOCK = re.compile(
    r"(?<![\w:.])([01]?\d|2[0-3])(?::([0-5]\d))?\s?(am|pm|a\.m\.|p\.m\.|o'clock)(?!\w)"
    r"|(?<![\w:.])([01]?\d|2[0-3]):([0-5]\d)(?![\w:])",
    re.IGNORECASE,
)
NumberOf = Callable[[str], "int | float | None"]
_ORDERS = {"dmy": (0, 1, 2), "mdy": (1, 0, 2), "ymd": (2, 1, 0)}
"""Where day, month and year stand in a numeric date, for each `settings.date_order`."""


class DateReader:
    def __init__(self, clock: Clock, lexicon: Lexicon, order: str, number: NumberOf) -> None:
        self.clock = clock
        self.lexicon = lexicon
        self.order = order
        self.number = number
        months = "|".join(f"{m}|{m[:3]}" for m in lexicon.months)
        self._day_month = re.compile(
            rf"\b(?:the )?(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({months})\b", re.IGNORECASE
        )
        self._month_day = re.compile(
            rf"\b({months}) (?:the )?(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE
        )
        relative = sorted(lexicon.relative_days, key=len, reverse=True)
        self._relative = re.compile(
            r"\b(?:the )?(" + "|".join(map(re.escape, relative)) + r")\b", re.IGNORECASE
        )
        self._weekday = re.compile(
            r"\b(?:(?:on|next|this) )?(" + "|".join(lexicon.weekdays) + r")\b", re.IGNORECASE
        )

    def find(self, text: str) -> tuple[Found, ...]:
        today = self.clock.today()
        found = [
            *self._relatives(text, today),
            *self._isos(text),
            *self._numerics(text, today),
            *self._in_days(text, today),
            *self._weekdays(text, today),
            *self._month_names(text, today),
        ]
        return non_overlapping(found)

    def _relatives(self, text: str, today: datetime.date) -> Iterator[Found]:
        for match in self._relative.finditer(text):
            offset = self.lexicon.relative_days[match.group(1).lower()]
            yield _found(today + datetime.timedelta(days=offset), match)

    def _isos(self, text: str) -> Iterator[Found]:
        for match in _ISO.finditer(text):
            date = _date(*(int(part) for part in match.groups()))
            if date is not None:
                yield _found(date, match)

    def _numerics(self, text: str, today: datetime.date) -> Iterator[Found]:
        for match in _NUMERIC.finditer(text):
            first, _, second, third = match.groups()
            if third is None and len(first) > 2:
                continue
            date = self._numeric(first, second, third, today)
            if date is not None:
                yield _found(date, match)

    def _numeric(
        self, first: str, second: str, third: str | None, today: datetime.date
    ) -> datetime.date | None:
        preferred = self.order
        others = [order for order in _ORDERS if order != preferred]
        for order in (preferred, *others):
            day_at, month_at, year_at = _ORDERS[order]
            parts = [first, second, third]
            if third is None:
                if order == "ymd":
                    continue
                day, month = int(parts[day_at] or 0), int(parts[month_at] or 0)
                date = _date(today.year, month, day)
                if date is not None and date < today:
                    date = _date(today.year + 1, month, day)
            else:
                year_text = parts[year_at] or ""
                year = int(year_text) + (2000 if len(year_text) == 2 else 0)
                if len(year_text) not in (2, 4):
                    continue
                date = _date(year, int(parts[month_at] or 0), int(parts[day_at] or 0))
            if date is not None:
                return date
        return None

    def _in_days(self, text: str, today: datetime.date) -> Iterator[Found]:
        for match in _IN_DAYS.finditer(text):
            count = self.number(match.group(1))
            if isinstance(count, int):
                days = count * (7 if match.group(2).lower().startswith("week") else 1)
                yield _found(today + datetime.timedelta(days=days), match)

    def _weekdays(self, text: str, today: datetime.date) -> Iterator[Found]:
        for match in self._weekday.finditer(text):
            index = self.lexicon.weekdays.index(match.group(1).lower())
            ahead = (index - today.weekday()) % 7 or 7
            yield _found(today + datetime.timedelta(days=ahead), match)

    def _month_names(self, text: str, today: datetime.date) -> Iterator[Found]:
        for pattern, day_group, month_group in ((self._day_month, 1, 2), (self._month_day, 2, 1)):
            for match in pattern.finditer(text):
                name = match.group(month_group).lower()
                month = next(i for i, m in enumerate(self.lexicon.months, 1) if name in (m, m[:3]))
                date = _date(today.year, month, int(match.group(day_group)))
                if date is not None and date < today:
                    date = date.replace(year=today.year + 1)
                if date is not None:
                    yield _found(date, match)


class TimeReader:
    def __init__(self, lexicon: Lexicon) -> None:
        names = sorted(lexicon.named_times, key=len, reverse=True)
        self.named = lexicon.named_times
        self._named = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)

    def find(self, text: str) -> tuple[Found, ...]:
        found = [
            Found(self.named[m.group(1).lower()], m.start(), m.end())
            for m in self._named.finditer(text)
        ]
        for match in _CLOCK.finditer(text):
            if match.group(4) is not None:
                hour, minute = int(match.group(4)), int(match.group(5))
            else:
                hour, minute = int(match.group(1)), int(match.group(2) or 0)
                suffix = match.group(3).lower().replace(".", "")
                if suffix in ("am", "pm") and not 1 <= hour <= 12:
                    continue
                if suffix == "pm" and hour < 12:
                    hour += 12
                elif suffix == "am" and hour == 12:
                    hour = 0
            found.append(Found(f"{hour:02d}:{minute:02d}", match.start(), match.end()))
        return non_overlapping(found)

    @staticmethod
    def bare_hour(text: str) -> str | None:
        """ "11" or "at 9" as the answer to "What time?" (never read elsewhere)."""
        match = re.fullmatch(r"\s*(?:at\s+)?([01]?\d|2[0-3])(?::([0-5]\d))?\s*", text)
        if match is None:
            return None
        return f"{int(match.group(1)):02d}:{int(match.group(2) or 0):02d}"


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _found(date: datetime.date, match: re.Match[str]) -> Found:
    return Found(date.isoformat(), match.start(), match.end())
