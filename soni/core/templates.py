"""Bot texts with slot values: `"Send {amount} to {beneficiary}?"`."""

from __future__ import annotations

import string
from collections.abc import Mapping

from soni.core.slots import SlotType, SlotValue

_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    pass


def template_fields(text: str) -> frozenset[str]:
    """The names a template reads; only plain `{name}` fields are allowed."""
    names = set()
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as error:
        raise TemplateError(f"bad template {text!r}: {error}") from error
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise TemplateError(f"template field {{{field}}} must be a plain slot name")
        names.add(field)
    return frozenset(names)


def render(text: str, values: Mapping[str, SlotValue], types: Mapping[str, SlotType]) -> str:
    """The text with each `{slot}` replaced by its value, formatted by the slot's type."""
    parts = []
    for literal, field, _, _ in _FORMATTER.parse(text):
        parts.append(literal)
        if field is not None:
            parts.append(format_value(values.get(field), types.get(field)))
    return "".join(parts)


def format_value(value: SlotValue, slot_type: SlotType | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if slot_type is SlotType.AMOUNT and isinstance(value, int | float):
        return f"{value:,.2f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
