"""Flow stack operations are pure: they return deltas and leave their inputs alone."""

from __future__ import annotations

from soni.compiler import compile_domain
from soni.config import SoniConfig
from soni.core.types import EventKind
from soni.flow import FlowManager


def test_push_interrupts_and_pop_resumes(config: SoniConfig) -> None:
    manager = FlowManager(compile_domain(config.domain))
    first = manager.push((), "transfer_funds", {"beneficiary": "Bob"})
    assert first.top is not None
    assert (first.top.instance, first.top.step, first.top.slots) == (
        "transfer_funds#1",
        "who",
        {"beneficiary": "Bob"},
    )
    second = manager.push(first.stack, "check_balance")
    assert [f.instance for f in second.stack] == ["transfer_funds#1", "check_balance#2"]
    assert second.stack[0].interrupted
    assert not first.stack[0].interrupted  # the input is untouched
    back = manager.pop(second.stack, completed=True)
    assert [e.kind for e in back.events] == [EventKind.COMPLETED, EventKind.RESUMED]
    assert back.stack[0].interrupted is False
    assert len(second.stack) == 2


def test_called_flows_return_their_slots(config: SoniConfig) -> None:
    manager = FlowManager(compile_domain(config.domain))
    caller = manager.push((), "onboarding").stack
    called = manager.push(caller, "identity", called=True).stack
    filled = manager.set_slot(called, "name", "Ada").stack
    done = manager.pop(filled, completed=True)
    assert done.stack[0].slots == {"name": "Ada"}
    assert [e.kind for e in done.events] == [EventKind.COMPLETED]  # no "resuming" message


def test_correction_resumes_after_the_collect_step(config: SoniConfig) -> None:
    manager = FlowManager(compile_domain(config.domain))
    stack = manager.push((), "transfer_funds").stack
    stack = manager.set_slot(stack, "amount", 50, collected_at="how_much").stack
    stack = manager.advance(stack, "confirm").stack
    corrected = manager.correct_slot(stack, "amount", 60)
    assert corrected.stack[-1].step == "limits"
    assert corrected.stack[-1].slots["amount"] == 60
    assert stack[-1].slots["amount"] == 50
    assert manager.correct_slot(stack, "unknown", 1).events == ()


def test_link_carries_the_slots_over(config: SoniConfig) -> None:
    manager = FlowManager(compile_domain(config.domain))
    stack = manager.set_slot(manager.push((), "handover").stack, "name", "Ada").stack
    linked = manager.link(stack, "identity")
    assert [(f.flow, f.slots) for f in linked.stack] == [("identity", {"name": "Ada"})]
    assert [e.kind for e in linked.events] == [EventKind.COMPLETED, EventKind.LINKED]
