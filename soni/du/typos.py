"""Typo tolerance for trigger words: "sned mony" reads as "send money".

A word of the message that is not a known word is compared with the trigger vocabulary
within a bounded edit distance (adjacent swaps count once). Candidates are found through
an index of deletions (each vocabulary word under every deletion of up to two letters), so
a word costs a few dictionary look-ups, not a comparison with every trigger word; answers
are cached per word.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from functools import lru_cache

from soni.du.lexicon import Typos

MAX_WORD = 24
"""Longer words are not looked up (no trigger word is that long; "xxxx..." costs nothing)."""


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of `a` and `b`, or `limit + 1` when above it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i, *([0] * len(b))]
        for j, other in enumerate(b, start=1):
            cost = 0 if char == other else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _deletions(word: str, depth: int) -> set[str]:
    found = {word}
    for count in range(1, depth + 1):
        for positions in itertools.combinations(range(len(word)), count):
            found.add("".join(c for i, c in enumerate(word) if i not in positions))
    return found


class Vocabulary:
    """The words triggers are made of, and the words that are never typos of them."""

    def __init__(self, words: Iterable[str], known: Iterable[str], typos: Typos) -> None:
        self.words = frozenset(w for w in words if w.isalpha() or "'" in w)
        self.known = frozenset(known) | self.words
        self.typos = typos
        index: dict[str, set[str]] = {}
        for word in self.words:
            for deleted in _deletions(word, typos.allowance(word)):
                index.setdefault(deleted, set()).add(word)
        self._index = {key: frozenset(value) for key, value in index.items()}
        self.candidates = lru_cache(maxsize=4096)(self._candidates)

    def _candidates(self, word: str) -> frozenset[str]:
        """The vocabulary words `word` may be a typo of, all at the smallest distance."""
        size = len(word)
        if word in self.known or not word.isalpha() or not self.typos.one_from <= size <= MAX_WORD:
            return frozenset()
        allowance = self.typos.allowance(word)
        found: dict[str, int] = {}
        for deleted in _deletions(word, allowance):
            for candidate in self._index.get(deleted, ()):
                limit = min(allowance, self.typos.allowance(candidate))
                if candidate not in found and limit and not self.typos.substituted(word, candidate):
                    gap = distance(word, candidate, limit)
                    if gap <= limit:
                        found[candidate] = gap
        if not found:
            return frozenset()
        nearest = min(found.values())
        return frozenset(word for word, gap in found.items() if gap == nearest)
