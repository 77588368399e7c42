"""Pure operations on the flow stack: each returns a `FlowDelta`, nothing is modified.

The stack is a tuple of frames, the active flow last. Slots live in the frame of the flow
instance that collected them, so two flows never overwrite each other's values.
"""

from __future__ import annotations

from collections.abc import Mapping

from soni.compiler.program import Programs
from soni.core.slots import SlotValue
from soni.core.types import EventKind, FlowDelta, FlowEvent, FlowFrame

Stack = tuple[FlowFrame, ...]


class FlowManager:
    def __init__(self, programs: Programs) -> None:
        self.programs = programs

    def push(
        self,
        stack: Stack,
        flow: str,
        slots: dict[str, SlotValue] | None = None,
        *,
        called: bool = False,
    ) -> FlowDelta:
        """Start `flow` on top. A digression interrupts the flow below, which announces
        itself when it resumes; a `call` (`called=True`) hands its slots back instead."""
        frame = self._frame(stack, flow, slots or {}, called=called)
        below = stack[:-1]
        if stack:
            below = (*below, stack[-1].model_copy(update={"interrupted": not called}))
        return FlowDelta((*below, frame), (FlowEvent(EventKind.STARTED, flow),))

    def queue(self, stack: Stack, flow: str, slots: dict[str, SlotValue], at: int) -> FlowDelta:
        """Put `flow` at position `at` of the stack, to start when the flows above it end
        ("check my balance and block my card": the card is blocked after the balance)."""
        frame = self._frame(stack, flow, slots, called=False, queued=True)
        return FlowDelta((*stack[:at], frame, *stack[at:]))

    def _frame(
        self,
        stack: Stack,
        flow: str,
        slots: Mapping[str, SlotValue],
        *,
        called: bool,
        queued: bool = False,
    ) -> FlowFrame:
        """A new frame of `flow` at its first step, numbered after those on `stack`."""
        return FlowFrame(
            flow=flow,
            instance=f"{flow}#{_next_sequence(stack)}",
            step=self.programs[flow].start,
            slots=dict(slots),
            called=called,
            queued=queued,
        )

    def pop(self, stack: Stack, *, completed: bool) -> FlowDelta:
        """Remove the active flow; the one below resumes (and says so if interrupted). A
        called flow that completes returns its slots to its caller."""
        if not stack:
            return FlowDelta(stack)
        ending = stack[-1]
        events = [FlowEvent(EventKind.COMPLETED if completed else EventKind.CANCELLED, ending.flow)]
        rest = stack[:-1]
        if not rest:
            return FlowDelta(rest, tuple(events))
        below = rest[-1]
        if completed and ending.called:
            below = below.with_slots(ending.slots)
        if below.queued:
            below = below.model_copy(update={"queued": False})
            events.append(FlowEvent(EventKind.NEXT, below.flow))
        elif below.interrupted:
            below = below.model_copy(update={"interrupted": False})
            events.append(FlowEvent(EventKind.RESUMED, below.flow))
        return FlowDelta((*rest[:-1], below), tuple(events))

    def link(self, stack: Stack, flow: str) -> FlowDelta:
        """Replace the active flow by `flow`, which starts with its slots (it does not come
        back to the flow it replaces)."""
        previous = stack[-1]
        frame = self._frame(stack, flow, previous.slots, called=previous.called)
        return FlowDelta(
            (*stack[:-1], frame),
            (FlowEvent(EventKind.COMPLETED, previous.flow), FlowEvent(EventKind.LINKED, flow)),
        )

    def advance(self, stack: Stack, step: str) -> FlowDelta:
        return FlowDelta((*stack[:-1], stack[-1].model_copy(update={"step": step})))

    def set_slot(
        self, stack: Stack, slot: str, value: SlotValue, *, collected_at: str | None = None
    ) -> FlowDelta:
        """Set a slot of the active flow, remembering which step collected it."""
        top = stack[-1].with_slots({slot: value})
        if collected_at is not None:
            top = top.model_copy(update={"collected_at": {**top.collected_at, slot: collected_at}})
        return FlowDelta(
            (*stack[:-1], top), (FlowEvent(EventKind.SLOT_SET, top.flow, slot, value),)
        )

    def mark_collected(self, stack: Stack, slot: str, step: str) -> FlowDelta:
        """Remember the collect step of a slot that was filled before its question came up
        (from a trigger phrase): a later correction resumes after that step."""
        top = stack[-1]
        if slot in top.collected_at:
            return FlowDelta(stack)
        marked = top.model_copy(update={"collected_at": {**top.collected_at, slot: step}})
        return FlowDelta((*stack[:-1], marked))

    def set_slots(self, stack: Stack, values: dict[str, SlotValue]) -> FlowDelta:
        top = stack[-1].with_slots(values)
        events = tuple(FlowEvent(EventKind.SLOT_SET, top.flow, s, v) for s, v in values.items())
        return FlowDelta((*stack[:-1], top), events)

    def correct_slot(self, stack: Stack, slot: str, value: SlotValue) -> FlowDelta:
        """Change a slot already filled, in the nearest flow that has it. In the active flow
        execution resumes right after the step that collected it, so the checks, branches
        and confirmations that depended on the old value run again."""
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            if frame.slots.get(slot) is None:
                continue
            changed = frame.with_slots({slot: value})
            collected = frame.collected_at.get(slot)
            if depth == len(stack) - 1 and collected is not None:
                resume = self.programs[frame.flow].successor_of_collect(slot, collected)
                if resume is not None:
                    changed = changed.model_copy(update={"step": resume})
            updated = (*stack[:depth], changed, *stack[depth + 1 :])
            return FlowDelta(
                updated, (FlowEvent(EventKind.SLOT_CORRECTED, frame.flow, slot, value),)
            )
        return FlowDelta(stack)


def _next_sequence(stack: Stack) -> int:
    numbers = [int(frame.instance.rpartition("#")[2]) for frame in stack]
    return max(numbers, default=0) + 1
