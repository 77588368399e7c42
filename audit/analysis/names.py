"""Small helpers for reading names out of libcst expressions."""

from __future__ import annotations

import libcst as cst


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else (calls, subscripts...)."""
    parts: list[str] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Attribute):
        parts.append(current.attr.value)
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    parts.append(current.value)
    return ".".join(reversed(parts))


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain (non-f, non-concatenated) string literal, else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def is_property(node: cst.CSTNode) -> bool:
    """A method decorated `@property` or `@cached_property` (however imported): reading the
    attribute runs it."""
    if not isinstance(node, cst.FunctionDef):
        return False
    names = (dotted_name(d.decorator) or "" for d in node.decorators)
    return any(name.rpartition(".")[2] in ("property", "cached_property") for name in names)
