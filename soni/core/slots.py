"""Slot values and slot types: the vocabulary the dialogue state and the configuration share.

They live in core so that `soni.config` depends on `soni.core` and never the reverse.
"""

from __future__ import annotations

import enum

SlotValue = str | int | float | bool | None
"""What a slot holds: JSON scalars only, so states survive every checkpointer unchanged."""


class SlotType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    AMOUNT = "amount"
    DATE = "date"
    TIME = "time"
    BOOLEAN = "boolean"
    ENUM = "enum"
    REGEX = "regex"
    EMAIL = "email"
