"""Limits of date slots: an ISO date, `today`, or `today+N` / `today-N` days.

A relative bound is read against the clock of the turn, so `min: today` refuses yesterday
whatever day the conversation happens on.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

_RELATIVE = re.compile(r"today\s*(?:([+-])\s*(\d+))?", re.IGNORECASE)


@dataclass(frozen=True)
class DateBound:
    absolute: datetime.date | None = None
    offset_days: int = 0

    def on(self, today: datetime.date) -> datetime.date:
        if self.absolute is not None:
            return self.absolute
        return today + datetime.timedelta(days=self.offset_days)


def parse_date_bound(text: str) -> DateBound | None:
    """The bound `text` names, or None when it names none."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative is not None:
        sign, days = relative.groups()
        return DateBound(offset_days=(-1 if sign == "-" else 1) * int(days or 0))
    try:
        return DateBound(absolute=datetime.date.fromisoformat(text.strip()))
    except ValueError:
        return None
