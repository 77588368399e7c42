"""Whether a value is within its slot's limits: numbers and amounts by value, free text by
length (`max` defaults to `DEFAULT_MAX_LENGTH`), dates by day (bounds may be relative to
today). A value outside them is refused with the slot's `rejection` text, or one of ours.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from soni.config.models import SlotDefinition
from soni.core.bounds import parse_date_bound
from soni.core.slots import SlotType, SlotValue
from soni.core.templates import format_value


@dataclass(frozen=True)
class Refusal:
    text: str
    """The key of the bot's text (`too_small`, `too_long`, ...)."""
    limit: str
    """The limit, as the bot shows it."""


def refusal(slot: SlotDefinition, value: SlotValue, today: datetime.date) -> Refusal | None:
    if isinstance(value, bool) or value is None:
        return None
    if slot.type is SlotType.STRING and isinstance(value, str):
        return _length(slot, len(value))
    if slot.type is SlotType.DATE and isinstance(value, str):
        return _date(slot, value, today)
    if isinstance(value, int | float):
        low, high = slot.min, slot.max
        if isinstance(low, int | float) and value < low:
            return Refusal("too_small", format_value(low, slot.type))
        if isinstance(high, int | float) and value > high:
            return Refusal("too_large", format_value(high, slot.type))
    return None


def _length(slot: SlotDefinition, length: int) -> Refusal | None:
    if isinstance(slot.min, int | float) and length < slot.min:
        return Refusal("too_short", str(int(slot.min)))
    if length > slot.max_length:
        return Refusal("too_long", str(slot.max_length))
    return None


def _date(slot: SlotDefinition, value: str, today: datetime.date) -> Refusal | None:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return None
    earliest = _bound(slot.min, today)
    if earliest is not None and day < earliest:
        return Refusal("too_early", earliest.isoformat())
    latest = _bound(slot.max, today)
    if latest is not None and day > latest:
        return Refusal("too_late", latest.isoformat())
    return None


def _bound(bound: float | str | None, today: datetime.date) -> datetime.date | None:
    parsed = parse_date_bound(bound) if isinstance(bound, str) else None
    return parsed.on(today) if parsed is not None else None
