"""Flow triggers: phrases with `{slot}` captures, keywords and regexes, scored.

A phrase matches anywhere in the message, word by word and case-insensitively; its captures
are read with the slot's typed extractor ("transfer {amount} to {beneficiary}" on
"Transfer $50 to Bob" gives amount 50 and beneficiary "Bob").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from soni.config.models import Domain
from soni.core.slots import SlotValue
from soni.du.extractors import Extractor
from soni.du.lexicon import normalize

PHRASE_SCORE = 1.0
REGEX_SCORE = 0.9
KEYWORD_SCORE = 0.6
_TOKEN = re.compile(r"\{(\w+)\}|[^\s{}]+")


@dataclass(frozen=True)
class TriggerMatch:
    flow: str
    score: float
    slots: Mapping[str, SlotValue]


@dataclass(frozen=True)
class _Phrase:
    pattern: re.Pattern[str]
    captures: tuple[str, ...]
    specificity: float


def compile_phrase(text: str) -> _Phrase:
    parts = []
    captures: list[str] = []
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name is None:
            parts.append(re.escape(match.group(0)))
        elif name in captures:
            parts.append(r".+?")
        else:
            captures.append(name)
            parts.append(rf"(?P<{name}>.+?)")
    ends_with_capture = text.rstrip().endswith("}")
    pattern = r"(?<!\w)" + r"\s+".join(parts) + (r"$" if ends_with_capture else r"(?!\w)")
    words = len(text.split())
    return _Phrase(re.compile(pattern, re.IGNORECASE), tuple(captures), words / 100)


@dataclass(frozen=True)
class _FlowTrigger:
    flow: str
    phrases: tuple[_Phrase, ...]
    keywords: tuple[re.Pattern[str], ...]
    regexes: tuple[re.Pattern[str], ...]


class Triggers:
    def __init__(self, domain: Domain, extractor: Extractor) -> None:
        self.domain = domain
        self.extractor = extractor
        self._flows = tuple(
            _FlowTrigger(
                name,
                tuple(compile_phrase(phrase) for phrase in flow.trigger.phrases),
                tuple(
                    re.compile(rf"(?<!\w){re.escape(word.lower())}(?!\w)")
                    for word in flow.trigger.keywords
                ),
                tuple(re.compile(pattern, re.IGNORECASE) for pattern in flow.trigger.regex),
            )
            for name, flow in domain.flows.items()
        )

    def match(self, message: str) -> list[TriggerMatch]:
        """Every flow the message triggers, best first."""
        text = message.strip().rstrip(".!?").strip()
        words = normalize(message)
        found = []
        for trigger in self._flows:
            best: TriggerMatch | None = None
            for phrase in trigger.phrases:
                candidate = self._phrase(trigger.flow, phrase, text)
                if candidate is not None and (best is None or candidate.score > best.score):
                    best = candidate
            if best is None and any(regex.search(text) for regex in trigger.regexes):
                best = TriggerMatch(trigger.flow, REGEX_SCORE, {})
            if best is None:
                hits = sum(1 for keyword in trigger.keywords if keyword.search(words))
                if hits:
                    best = TriggerMatch(trigger.flow, KEYWORD_SCORE + 0.05 * (hits - 1), {})
            if best is not None:
                found.append(best)
        return sorted(found, key=lambda m: (-m.score, m.flow))

    def _phrase(self, flow: str, phrase: _Phrase, text: str) -> TriggerMatch | None:
        match = phrase.pattern.search(text)
        if match is None:
            return None
        slots: dict[str, SlotValue] = {}
        for name in phrase.captures:
            definition = self.domain.slots.get(name)
            raw = match.group(name)
            value = self.extractor.extract(definition, raw) if definition is not None else None
            if value is None:
                return None  # "transfer money to Bob" is not "transfer {amount} to ..."
            slots[name] = value
        return TriggerMatch(flow, PHRASE_SCORE + phrase.specificity, slots)
