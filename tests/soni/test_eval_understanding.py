"""The labelled utterances of `scripts/eval_understanding.py` are well formed (each
expected command is a real command, each context a real place in its domain), there are
at least 200 of them across two domains, and the evaluation scores what it reads."""

from __future__ import annotations

from collections import Counter

import pytest

import eval_understanding as evaluation
from soni.core.commands import load_commands
from soni.core.types import AwaitingKind


@pytest.fixture(scope="module")
def sets() -> list[tuple]:
    return evaluation.load_sets(evaluation.DATA)


def test_the_sets_are_big_enough_and_cover_two_domains(sets: list[tuple]) -> None:
    items = [item for _, _, found, _, _ in sets for item in found]
    development = Counter(item.domain for item in items if item.split == "development")
    assert sum(development.values()) >= 200
    assert set(development) == {"banking", "clinic"}
    categories = {item.category for item in items}
    assert {"paraphrase", "typo", "correction", "digression", "several_values"} <= categories
    assert {"two_requests", "out_of_scope", "free_text"} <= categories
    said = Counter((item.domain, item.context, item.say) for item in items)
    assert [key for key, count in said.items() if count > 1] == []


def test_every_expected_command_and_context_is_real(sets: list[tuple]) -> None:
    for domain, _, items, _, contexts in sets:
        for item in items:
            load_commands([dict(command) for command in item.expected])
        for context in contexts.values():
            if context.active_flow is not None:
                assert context.active_flow in domain.flows
            awaiting = context.awaiting
            if awaiting is not None and awaiting.kind is AwaitingKind.COLLECT:
                steps = {s.id: s for s in domain.flows[context.active_flow].steps}
                assert steps[awaiting.step].collect == awaiting.slot
            for slot in context.filled_slots:
                assert slot in domain.slots


async def test_the_evaluation_scores_what_it_reads() -> None:
    outcomes, dropped = await evaluation.evaluate(evaluation.rules, evaluation.DATA)
    figures = evaluation.figures("rules", outcomes, dropped, "this tree")
    assert figures.items == len(outcomes)
    assert figures.exact == sum(outcome.exact for outcome in outcomes)
    assert len(figures.misses) == figures.items - figures.exact
    assert dropped == []  # this version of soni reads every key of the domains
    tp = sum(counts.get("tp", 0) for counts in figures.by_kind.values())
    expected = sum(len(outcome.item.expected) for outcome in outcomes)
    assert tp + sum(c.get("fn", 0) for c in figures.by_kind.values()) == expected
    text = evaluation.report(figures, None, "python scripts/eval_understanding.py")
    assert f"| all | {figures.items} |" in text
