"""Cheap checks that let a file skip an analysis it cannot need.

They look for keywords as tokens: a whole word, whatever follows it (a space, a tab, a
line continuation), so `def\tf(p): ...` is a function like any other. A match inside a
string or a comment only costs the analysis; a missed keyword would cost findings.
"""

from __future__ import annotations

import re

_ASYNC = re.compile(r"\basync\b")
_FUNCTION = re.compile(r"\b(?:def|lambda)\b")
_DEF = re.compile(r"\bdef\b")


def has_async(text: str) -> bool:
    """Whether the file may define a coroutine (`async def`, `async with`, `async for`)."""
    return _ASYNC.search(text) is not None


def has_functions(text: str) -> bool:
    """Whether the file may define a function or a lambda."""
    return _FUNCTION.search(text) is not None


def has_defs(text: str) -> bool:
    """Whether the file may define a named function."""
    return _DEF.search(text) is not None
