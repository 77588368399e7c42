"""What the rules know about a domain, worked out once: each flow's slots, the words users
call each slot by, the cue words before a slot in trigger phrases ("to {beneficiary}"),
the slots each confirmation shows, and the vocabulary typos are corrected towards.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from soni.config.models import Domain, StepKind
from soni.core.slots import SlotType
from soni.core.templates import template_fields
from soni.du.lexicon import Lexicon
from soni.du.text import norm, words_of
from soni.du.typos import Vocabulary

TYPED = frozenset(
    {
        SlotType.NUMBER,
        SlotType.AMOUNT,
        SlotType.DATE,
        SlotType.TIME,
        SlotType.ENUM,
        SlotType.REGEX,
        SlotType.EMAIL,
    }
)
"""Types whose values can be picked out of a sentence; free text and yes/no cannot."""


@dataclass(frozen=True)
class SlotName:
    words: tuple[str, ...]
    slot: str
    rank: int
    """0: the slot's name or an alias; 1: a word of its prompt; 2: a synonym of one."""


class DomainIndex:
    def __init__(self, domain: Domain, lexicon: Lexicon) -> None:
        self.domain = domain
        self.lexicon = lexicon
        self.flow_slots: Mapping[str, tuple[str, ...]] = {
            name: tuple(dict.fromkeys(s.collect for s in flow.steps if s.collect is not None))
            for name, flow in domain.flows.items()
        }
        self.confirm_fields: Mapping[tuple[str, str], frozenset[str]] = {
            (name, step.id): template_fields(step.confirm)
            for name, flow in domain.flows.items()
            for step in flow.steps
            if step.kind is StepKind.CONFIRM and step.confirm is not None
        }
        self.cues = _cues(domain)
        self.names = _slot_names(domain, lexicon)
        self._own_words = {
            slot: frozenset(
                word
                for name in self.names
                if name.slot == slot and name.rank == 0
                for word in name.words
            )
            for slot in domain.slots
        }
        self.vocabulary = _vocabulary(domain, lexicon)

    def typed(self, slot: str) -> bool:
        definition = self.domain.slots.get(slot)
        return definition is not None and definition.type in TYPED

    def is_text(self, slot: str | None) -> bool:
        definition = self.domain.slots.get(slot) if slot else None
        return definition is not None and definition.type is SlotType.STRING

    def own_words(self, slot: str) -> frozenset[str]:
        """The words of a slot's name and aliases ("card" around "the credit card")."""
        return self._own_words.get(slot, frozenset())

    def slots_named(self, words: tuple[str, ...], among: frozenset[str]) -> list[str]:
        """The slots of `among` that `words` name, the most direct names first."""
        ranked = sorted((name.rank, name.slot) for name in self.names if name.words == words)
        best = [slot for rank, slot in ranked if slot in among and rank == ranked[0][0]]
        if best:
            return best
        return [slot for _, slot in ranked if slot in among]


def _cues(domain: Domain) -> Mapping[str, Mapping[str, frozenset[str]]]:
    """Per flow: the word right before each capture in its phrases -> the slots captured
    after it ("transfer {amount} to {beneficiary}": "to" -> beneficiary). Only words that
    announce one slot of the flow count."""
    cues: dict[str, dict[str, frozenset[str]]] = {}
    for name, flow in domain.flows.items():
        found: dict[str, set[str]] = {}
        for phrase in flow.trigger.phrases:
            words = phrase.split()
            for before, word in itertools.pairwise(words):
                if word.startswith("{") and word.endswith("}") and not before.startswith("{"):
                    found.setdefault(norm(before), set()).add(word[1:-1])
        cues[name] = {word: frozenset(slots) for word, slots in found.items() if len(slots) == 1}
    return cues


def _slot_names(domain: Domain, lexicon: Lexicon) -> tuple[SlotName, ...]:
    names: list[SlotName] = []
    for slot, definition in domain.slots.items():
        direct = {words_of(slot.replace("_", " ")), *(words_of(a) for a in definition.aliases)}
        prompt: set[tuple[str, ...]] = {
            (word,)
            for word in words_of(definition.prompt or "")
            if word not in lexicon.function_words and word.isalpha()
        }
        related = {
            words_of(other)
            for group in lexicon.slot_word_groups
            if any(" ".join(words) in group for words in direct | prompt)
            for other in group
        }
        ranked: tuple[set[tuple[str, ...]], ...] = (
            direct,
            prompt - direct,
            related - direct - prompt,
        )
        for rank, group in enumerate(ranked):
            names.extend(SlotName(words, slot, rank) for words in group if words)
    return tuple(names)


def _vocabulary(domain: Domain, lexicon: Lexicon) -> Vocabulary:
    trigger_words: set[str] = set()
    for flow in domain.flows.values():
        for phrase in (*flow.trigger.phrases, *flow.trigger.keywords):
            trigger_words.update(w for w in words_of(phrase) if not w.startswith("{"))
    known: set[str] = set(lexicon.affirm) | set(lexicon.deny) | set(lexicon.function_words)
    for slot in domain.slots.values():
        known.update(word for value in slot.values for word in words_of(value))
        for synonyms in slot.synonyms.values():
            known.update(word for synonym in synonyms for word in words_of(synonym))
    for group in lexicon.slot_word_groups:
        known.update(word for phrase in group for word in words_of(phrase))
    known.update(lexicon.units)
    known.update(lexicon.tens)
    return Vocabulary(trigger_words, known, lexicon.typos)
