"""The lexicons in `lexicon.toml`, compiled once: whole-word matchers for what is read
anywhere in a message, word lists (`Phrases`) for what is read at a position."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from soni.du.text import Phrases


def normalize(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation."""
    return " ".join(re.sub(r"[^\w$€£'./@:+-]+", " ", text.lower()).split()).strip(" .")


def _words(phrases: Iterable[str]) -> re.Pattern[str]:
    escaped = sorted((re.escape(p.lower()) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(escaped) + r")(?![\w'])")


@dataclass(frozen=True)
class Typos:
    """How far a word may be from a trigger word and still count as it."""

    one_from: int
    two_from: int
    substitution_from: int
    max_words: int

    def allowance(self, word: str) -> int:
        size = len(word)
        return 2 if size >= self.two_from else 1 if size >= self.one_from else 0

    def substituted(self, word: str, candidate: str) -> bool:
        """A short word with one letter changed is another word more often than a typo
        ("look" is not "book")."""
        return (
            len(word) == len(candidate)
            and len(candidate) < self.substitution_from
            and sorted(word) != sorted(candidate)
        )


@dataclass(frozen=True)
class Corrections:
    markers: Phrases
    forms: tuple[str, ...]
    free_text_words: int
    not_values: frozenset[str]


@dataclass(frozen=True)
class Fillers:
    trailing: Phrases
    leading: Phrases
    connectives: Phrases
    placeholders: Phrases
    around_values: frozenset[str]


@dataclass(frozen=True)
class Lexicon:
    cancel: re.Pattern[str]
    help: re.Pattern[str]
    handoff: re.Pattern[str]
    skip: re.Pattern[str]
    repeat: re.Pattern[str]
    repeat_alone: frozenset[str]
    out_of_scope: re.Pattern[str]
    builtins: Mapping[str, tuple[str, ...]]
    """The phrases of each built-in repair, for the validator's overlap warnings."""
    affirm: frozenset[str]
    deny: frozenset[str]
    politeness: re.Pattern[str]
    corrections: Corrections
    fillers: Fillers
    typos: Typos
    slot_word_groups: tuple[frozenset[str], ...]
    function_words: frozenset[str]
    chitchat: Mapping[str, re.Pattern[str]]
    units: Mapping[str, int]
    tens: Mapping[str, int]
    scales: Mapping[str, int]
    currencies: tuple[str, ...]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    relative_days: Mapping[str, int]
    named_times: Mapping[str, str]

    def answer(self, text: str) -> bool | None:
        """True for a yes, False for a no, when that is all the message says ("sure, go
        ahead" is a yes; "no, make it 60" is not just a no)."""
        words = normalize(self.politeness.sub(" ", normalize(text))).replace(",", " ").split()
        seen: set[bool] = set()
        position = 0
        while position < len(words):
            for size in (3, 2, 1):
                phrase = " ".join(words[position : position + size])
                if phrase in self.affirm or phrase in self.deny:
                    seen.add(phrase in self.affirm)
                    position += size
                    break
            else:
                return None
        return seen.pop() if len(seen) == 1 else None

    def leading_answer(self, words: list[str]) -> bool | None:
        """The yes or no a message starts with ("no, I changed my mind" starts with a no)."""
        for size in (3, 2, 1):
            phrase = " ".join(words[:size])
            if len(words) >= size and (phrase in self.affirm or phrase in self.deny):
                return phrase in self.affirm
        return None


@cache
def english() -> Lexicon:
    data: Mapping[str, Any] = tomllib.loads(
        resources.files(__package__).joinpath("lexicon.toml").read_text(encoding="utf-8")
    )
    repair, answers, numbers = data["repair"], data["answers"], data["numbers"]
    correction, fillers, typos = data["correction"], data["fillers"], data["typos"]
    return Lexicon(
        cancel=_words(repair["cancel"]),
        help=_words(repair["help"]),
        handoff=_words(repair["handoff"]),
        skip=_words(repair["skip"]),
        repeat=_words(repair["repeat"]),
        repeat_alone=frozenset(repair["repeat_alone"]),
        out_of_scope=_words(repair["out_of_scope"]),
        builtins={
            name: tuple(repair[name]) for name in ("cancel", "help", "handoff", "skip", "repeat")
        },
        affirm=frozenset(answers["affirm"]),
        deny=frozenset(answers["deny"]),
        politeness=_words(answers["politeness"]),
        corrections=Corrections(
            markers=Phrases(correction["markers"]),
            forms=tuple(correction["forms"]),
            free_text_words=int(correction["free_text_words"]),
            not_values=frozenset(correction["not_values"]),
        ),
        fillers=Fillers(
            trailing=Phrases(fillers["trailing"]),
            leading=Phrases(fillers["leading"]),
            connectives=Phrases(fillers["connectives"]),
            placeholders=Phrases(fillers["placeholders"]),
            around_values=frozenset(fillers["around_values"]),
        ),
        typos=Typos(
            int(typos["one_from"]),
            int(typos["two_from"]),
            int(typos["substitution_from"]),
            int(typos["max_words"]),
        ),
        slot_word_groups=tuple(frozenset(group) for group in data["slot_words"]["groups"]),
        function_words=frozenset(data["slot_words"]["function_words"]),
        chitchat={topic: _words(phrases) for topic, phrases in data["chitchat"].items()},
        units=dict(numbers["units"]),
        tens=dict(numbers["tens"]),
        scales=dict(numbers["scales"]),
        currencies=tuple(numbers["currencies"]),
        weekdays=tuple(data["dates"]["weekdays"]),
        months=tuple(data["dates"]["months"]),
        relative_days=dict(data["dates"]["relative"]),
        named_times=dict(data["times"]["named"]),
    )
