"""The real clock (tests inject a fixed one)."""

from __future__ import annotations

import datetime


class SystemClock:
    def today(self) -> datetime.date:
        return datetime.date.today()
