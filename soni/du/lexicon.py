"""The lexicons in `lexicon.toml`, compiled to whole-word matchers once."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


def normalize(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation."""
    return " ".join(re.sub(r"[^\w$€£'./@:+-]+", " ", text.lower()).split()).strip(" .")


def _words(phrases: Iterable[str]) -> re.Pattern[str]:
    escaped = sorted((re.escape(p.lower()) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(escaped) + r")(?![\w'])")


@dataclass(frozen=True)
class Lexicon:
    cancel: re.Pattern[str]
    help: re.Pattern[str]
    handoff: re.Pattern[str]
    skip: re.Pattern[str]
    affirm: frozenset[str]
    deny: frozenset[str]
    politeness: re.Pattern[str]
    correction: re.Pattern[str]
    chitchat: Mapping[str, re.Pattern[str]]
    units: Mapping[str, int]
    tens: Mapping[str, int]
    scales: Mapping[str, int]
    currencies: tuple[str, ...]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]

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


@cache
def english() -> Lexicon:
    data: Mapping[str, Any] = tomllib.loads(
        resources.files(__package__).joinpath("lexicon.toml").read_text(encoding="utf-8")
    )
    repair, answers, numbers = data["repair"], data["answers"], data["numbers"]
    return Lexicon(
        cancel=_words(repair["cancel"]),
        help=_words(repair["help"]),
        handoff=_words(repair["handoff"]),
        skip=_words(repair["skip"]),
        affirm=frozenset(answers["affirm"]),
        deny=frozenset(answers["deny"]),
        politeness=_words(answers["politeness"]),
        correction=_words(data["correction"]["markers"]),
        chitchat={topic: _words(phrases) for topic, phrases in data["chitchat"].items()},
        units=dict(numbers["units"]),
        tens=dict(numbers["tens"]),
        scales=dict(numbers["scales"]),
        currencies=tuple(numbers["currencies"]),
        weekdays=tuple(data["dates"]["weekdays"]),
        months=tuple(data["dates"]["months"]),
    )
