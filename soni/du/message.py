"""One message as the rules read it: its tokens, and, computed once when first asked, the
values of each slot in it and the trigger words each token may be a typo of."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from soni.du.extractors import Extractor
from soni.du.found import Found
from soni.du.index import DomainIndex
from soni.du.lexicon import normalize
from soni.du.text import Token, span_text, tokenize

_T = TypeVar("_T")


class Message:
    def __init__(self, text: str, index: DomainIndex, extractor: Extractor) -> None:
        self.text = text
        self.index = index
        self.extractor = extractor
        self.tokens: tuple[Token, ...] = tokenize(text)
        self.words = [token.norm for token in self.tokens]
        self.normalized = normalize(text)
        self._finds: dict[str, tuple[Found, ...]] = {}
        self._memo: dict[object, Any] = {}
        self._places: dict[str, list[tuple[int, int]]] | None = None
        self._present: frozenset[str] | None = None

    def part(self, start: int, end: int) -> Message:
        """The message made of tokens `start` to `end` (a clause, a value)."""
        return Message(span_text(self.text, self.tokens[start:end]), self.index, self.extractor)

    def finds(self, slot: str) -> tuple[Found, ...]:
        """The values of `slot` in the message (exact ones: no enum typos)."""
        found = self._finds.get(slot)
        if found is None:
            definition = self.index.domain.slots[slot]
            found = self.extractor.find(definition, self.text)
            self._finds[slot] = found
        return found

    def candidates(self, position: int) -> frozenset[str]:
        """The trigger words the token at `position` may be a typo of."""
        return self.index.vocabulary.candidates(self.words[position])

    def places(self, word: str) -> list[tuple[int, int]]:
        """Where `word` stands: (position, 0) for the word itself, (position, 1) for a typo
        of it, in message order."""
        return self._place_index().get(word, [])

    def present(self) -> frozenset[str]:
        """The words in the message, and the trigger words its words may be typos of."""
        if self._present is None:
            self._present = frozenset(self._place_index())
        return self._present

    def _place_index(self) -> dict[str, list[tuple[int, int]]]:
        if self._places is None:
            self._places = self._index_places()
        return self._places

    def _index_places(self) -> dict[str, list[tuple[int, int]]]:
        places: dict[str, list[tuple[int, int]]] = {}
        for position, word in enumerate(self.words):
            places.setdefault(word, []).append((position, 0))
            for candidate in self.candidates(position):
                places.setdefault(candidate, []).append((position, 1))
        for found in places.values():
            found.sort()
        return places

    def token_at(self, offset: int) -> int | None:
        """The token a character offset falls in."""
        for position, token in enumerate(self.tokens):
            if token.start <= offset < token.end:
                return position
        return None

    def token_span(self, found: Found) -> tuple[int, int] | None:
        """The tokens a found value touches (a "$" glued to a number is in its token)."""
        first = self.token_at(found.start)
        last = self.token_at(found.end - 1)
        if first is None or last is None:
            return None
        return first, last + 1

    def text_of(self, start: int, end: int) -> str:
        return span_text(self.text, self.tokens[start:end])

    def memo(self, key: object, compute: Callable[[], _T]) -> _T:
        """`compute()`, once per message and key."""
        if key not in self._memo:
            self._memo[key] = compute()
        result: _T = self._memo[key]
        return result
