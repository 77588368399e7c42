"""Messages as words: tokens that remember where they stand, and lists of phrases matched
word by word (at a position, at the start, at the end of a span).

Captures, corrections and clauses are cut at token boundaries, so a value is always a
stretch of the message as the user wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

_WORD = re.compile(r"\S+")
_CURLY = "\u2018\u2019\u201c\u201d"  # typographic quotes
_EDGE = "\"'.,!?;:()[]{}<>*" + _CURLY
_BREAK = ",;"


class Token(NamedTuple):
    text: str
    """As written, without the punctuation around it."""
    norm: str
    """Lower case: what phrases are compared with."""
    start: int
    end: int
    breaks: bool = False
    """A comma or semicolon follows it: a value or a request ends here."""


def norm(word: str) -> str:
    return word.strip(_EDGE).lower().replace("\u2019", "'")


def tokenize(message: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    for match in _WORD.finditer(message):
        raw = match.group()
        core = raw.lstrip(_EDGE)
        lead = len(raw) - len(core)
        core = core.rstrip(_EDGE)
        tail = raw[lead + len(core) :]
        breaks = "," in tail or ";" in tail
        if not core:
            if breaks and tokens:
                tokens[-1] = tokens[-1]._replace(breaks=True)
            continue
        start = match.start() + lead
        lowered = core.lower().replace("\u2019", "'")
        tokens.append(Token(core, lowered, start, start + len(core), breaks))
    return tuple(tokens)


def words_of(phrase: str) -> tuple[str, ...]:
    return tuple(w for w in (norm(part) for part in phrase.split()) if w)


def span_text(message: str, tokens: Sequence[Token]) -> str:
    """The message between the first and the last token, as written."""
    return message[tokens[0].start : tokens[-1].end] if tokens else ""


class Phrases:
    """Phrases of one or more words, matched against token words."""

    def __init__(self, phrases: Iterable[str]) -> None:
        found = {words_of(phrase) for phrase in phrases}
        self._phrases = tuple(sorted((p for p in found if p), key=len, reverse=True))
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self._phrases:
            by_first.setdefault(phrase[0], []).append(phrase)
        self._by_first = {word: tuple(group) for word, group in by_first.items()}

    def at(self, words: Sequence[str], position: int) -> int:
        """The length of the longest phrase starting at `position` (0 for none)."""
        if position >= len(words):
            return 0
        for phrase in self._by_first.get(words[position], ()):
            if tuple(words[position : position + len(phrase)]) == phrase:
                return len(phrase)
        return 0

    def ending_at(self, words: Sequence[str], end: int) -> int:
        """The length of the longest phrase ending just before `end` (0 for none)."""
        for phrase in self._phrases:
            size = len(phrase)
            if size <= end and tuple(words[end - size : end]) == phrase:
                return size
        return 0

    def whole(self, words: Sequence[str]) -> bool:
        return bool(words) and self.at(words, 0) == len(words)

    def anywhere(self, words: Sequence[str]) -> bool:
        return any(self.at(words, i) for i in range(len(words)))
