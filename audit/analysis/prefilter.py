"""Cheap checks that let a file skip an analysis it cannot need.

They look for keywords as tokens: a whole word, whatever follows it (a space, a tab, a
line continuation), so `def\tf(p): ...` is a function like any other. A match inside a
string or a comment only costs the analysis; a missed keyword would cost findings.
"""

from __future__ import annotations


def has_async(text: str) -> bool:
    """Whether the file may define a coroutine (`async def`, `async with`, `async for`)."""
    return has_keyword(text, "async")


def has_functions(text: str) -> bool:
    """Whether the file may define a function or a lambda."""
    return has_keyword(text, "def") or has_keyword(text, "lambda")


def has_defs(text: str) -> bool:
    """Whether the file may define a named function."""
    return has_keyword(text, "def")


def has_keyword(text: str, keyword: str) -> bool:
    """`keyword` as a whole word somewhere in `text` (a substring search, then a look at
    the characters around it: much faster than a word-boundary regex)."""
    start = text.find(keyword)
    while start >= 0:
        end = start + len(keyword)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not _word(before) and not _word(after):
            return True
        start = text.find(keyword, end)
    return False


def _word(character: str) -> bool:
    return character.isalnum() or character == "_"
