"""One turn of dialogue: apply the understood commands, then run the active flow until the
bot needs the user again (a question, a confirmation) or nothing is left to do.

The engine is a pure function of (state, message, commands) apart from the actions it
runs: it builds a new `DialogueState` and never changes the one it was given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from soni.compiler.program import (
    Assign,
    Branch,
    CallFlow,
    Collect,
    Confirm,
    LinkFlow,
    LoopGuard,
    Programs,
    RunAction,
    Say,
)
from soni.config.loader import SoniConfig
from soni.core.commands import (
    OUT_OF_SCOPE,
    Affirm,
    CancelFlow,
    CannotHandle,
    ChitChat,
    Clarify,
    Command,
    CorrectSlot,
    Deny,
    Help,
    HumanHandoff,
    Repeat,
    SetSlot,
    SkipQuestion,
    StartFlow,
    dump_commands,
)
from soni.core.slots import SlotType, SlotValue
from soni.core.state import HISTORY_LIMIT, DialogueState, Turn
from soni.core.templates import format_value, render
from soni.core.types import (
    Awaiting,
    AwaitingKind,
    Clock,
    EventKind,
    FlowDelta,
    UnderstandingContext,
    Understood,
)
from soni.du.clock import SystemClock
from soni.errors import ActionError, StaleStateError
from soni.flow.manager import FlowManager
from soni.runtime.limits import refusal
from soni.runtime.texts import Texts, english_texts

HANDOFF_FLOW = "handoff"
"""A domain flow of this name runs when the user asks for a human (after the others end)."""

MAX_STEPS_PER_TURN = 500
log = logging.getLogger("soni.runtime")


@dataclass(frozen=True)
class ActionFailure:
    """An action that failed during a turn; the conversation apologised and went on."""

    action: str
    message: str


@dataclass(frozen=True)
class TurnOutcome:
    state: DialogueState
    messages: tuple[str, ...]
    failures: tuple[ActionFailure, ...] = ()


def understanding_context(state: DialogueState) -> UnderstandingContext:
    return UnderstandingContext(
        active_flow=state.active_flow,
        awaiting=state.awaiting,
        filled_slots=state.active_slots,
        history=state.history,
    )


class DialogueEngine:
    def __init__(
        self,
        config: SoniConfig,
        programs: Programs,
        texts: Texts | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.programs = programs
        self.texts = texts or english_texts()
        self.clock = clock or SystemClock()
        self.manager = FlowManager(programs)

    def check_state(self, state: DialogueState) -> None:
        """Raise `StaleStateError` when a saved state names flows or steps that the
        configuration no longer defines, before anything runs on it."""
        places = [(frame.flow, frame.step) for frame in state.stack]
        awaiting = state.awaiting
        if awaiting is not None and awaiting.step is not None:
            owners = [f.flow for f in state.stack if f.instance == awaiting.instance]
            places.extend((flow, awaiting.step) for flow in owners)
        for flow, step in places:
            if flow not in self.programs:
                raise StaleStateError(
                    f"the saved conversation is in flow {flow!r}, which the configuration "
                    "no longer defines"
                )
            if not self.programs[flow].has_step(step):
                raise StaleStateError(
                    f"the saved conversation is at step {step!r} of flow {flow!r}, which "
                    "the configuration no longer defines"
                )

    async def run_turn(
        self, state: DialogueState, message: str, commands: Sequence[Command]
    ) -> TurnOutcome:
        turn = _Turn(self, state)
        for position, command in enumerate(commands):
            await turn.apply(command, later=position > 0)
        if not turn.stopped:
            await turn.execute()
        messages = tuple(turn.messages)
        history = (
            *state.history,
            Turn(user=message, bot="\n".join(messages), commands=tuple(dump_commands(commands))),
        )
        new_state = DialogueState(
            turn=state.turn + 1,
            stack=turn.stack,
            awaiting=turn.awaiting,
            handoff=turn.handoff,
            history=history[-HISTORY_LIMIT:],
            understanding=commands.use if isinstance(commands, Understood) else None,
        )
        return TurnOutcome(new_state, messages, tuple(turn.failures))

    def describe(self, flow: str) -> str:
        text = self.programs[flow].description if flow in self.programs else ""
        return (text[0].lower() + text[1:]) if text else flow.replace("_", " ")


class _Turn:
    """The work of one turn; local to `run_turn`, so it may change its own fields."""

    def __init__(self, engine: DialogueEngine, state: DialogueState) -> None:
        self.engine = engine
        self.texts = engine.texts
        self.manager = engine.manager
        self.programs = engine.programs
        self.domain = engine.config.domain
        self.stack = state.stack
        self.awaiting = state.awaiting
        self.handoff = state.handoff
        self.last_said = state.history[-1].bot if state.history else ""
        self.today = engine.clock.today()
        self.messages: list[str] = []
        self.failures: list[ActionFailure] = []
        self.stopped = False
        self.completed = False
        self.queue_at: int | None = None
        """Where flows asked for later in the message go: below the one the message is
        about, in the order they were asked."""

    # -- commands --------------------------------------------------------------------------

    async def apply(self, command: Command, *, later: bool = False) -> None:
        """Apply one command; `later`: not the message's first, so a flow it starts waits
        for the one the message began with."""
        if isinstance(command, StartFlow):
            self._start(command, queued=later)
        elif isinstance(command, SetSlot):
            self._set(command.slot, command.value)
        elif isinstance(command, CorrectSlot):
            self._correct(command.slot, command.value)
        elif isinstance(command, CancelFlow):
            self._cancel()
        elif isinstance(command, Affirm):
            self._answer(True)
        elif isinstance(command, Deny):
            self._answer(False)
        elif isinstance(command, Clarify):
            options = " or ".join(self.engine.describe(flow) for flow in command.options)
            self.messages.append(self.texts.say("clarify", options=options))
            self.awaiting = Awaiting(kind=AwaitingKind.CLARIFY, options=command.options)
            self.stopped = True
        elif isinstance(command, ChitChat):
            self.messages.append(self.texts.chitchat.get(command.topic, ""))
        elif isinstance(command, Help):
            flows = ", ".join(self.engine.describe(flow) for flow in self.programs.flows)
            self.messages.append(self.texts.say("help", flows=flows))
        elif isinstance(command, HumanHandoff):
            self._handoff()
        elif isinstance(command, SkipQuestion):
            self._skip()
        elif isinstance(command, Repeat):
            self.messages.append(self.last_said or self.texts.say("nothing_to_repeat"))
            self.stopped = True
        elif isinstance(command, CannotHandle):
            key = "out_of_scope" if command.reason == OUT_OF_SCOPE else "cannot_handle"
            self.messages.append(self.texts.say(key))

    def _start(self, command: StartFlow, *, queued: bool) -> None:
        if command.flow not in self.programs:
            self.messages.append(self.texts.say("cannot_handle"))
            return
        top = self.stack[-1] if self.stack else None
        if queued and top is not None:
            valid = {s: v for s, v in command.slots.items() if self._valid(s, v)}
            at = self.queue_at if self.queue_at is not None else len(self.stack) - 1
            self._take(self.manager.queue(self.stack, command.flow, valid, at))
            self.queue_at = at
            return
        if top is not None and top.flow == command.flow:
            for slot, value in command.slots.items():
                known = top.slots.get(slot)
                if known is not None and known != value:
                    self._correct(slot, value)  # the checks after it run again
                else:
                    self._set(slot, value)
            return
        valid = {slot: value for slot, value in command.slots.items() if self._valid(slot, value)}
        self._take(self.manager.push(self.stack, command.flow, valid))
        self.awaiting = None

    def _handoff(self) -> None:
        """A human takes over: the flows end (announced by the domain's `handoff` flow when
        it has one) and the conversation is marked as handed off."""
        self.handoff = True
        self.stack = ()
        self.awaiting = None
        if HANDOFF_FLOW in self.programs:
            self._take(self.manager.push(self.stack, HANDOFF_FLOW))
            return
        self.messages.append(self.texts.say("handoff"))
        self.stopped = True

    def _set(self, slot: str, value: SlotValue) -> None:
        if not self.stack or slot not in self.domain.slots or not self._valid(slot, value):
            return
        awaiting = self.awaiting
        asked = (
            awaiting is not None
            and awaiting.kind is AwaitingKind.COLLECT
            and awaiting.slot == slot
            and awaiting.instance == self.stack[-1].instance
        )
        step = awaiting.step if asked and awaiting is not None else None
        self._take(self.manager.set_slot(self.stack, slot, value, collected_at=step))
        if step is not None:
            instruction = self.programs[self.stack[-1].flow].instruction(step)
            if isinstance(instruction, Collect):
                self._take(self.manager.advance(self.stack, instruction.next))
            self.awaiting = None

    def _correct(self, slot: str, value: SlotValue) -> None:
        if not self._valid(slot, value):
            return
        delta = self.manager.correct_slot(self.stack, slot, value)
        if not delta.events:
            self._set(slot, value)
            return
        self._take(delta)
        shown = format_value(value, self.domain.slots[slot].type)
        self.messages.append(self.texts.say("corrected", slot=slot.replace("_", " "), value=shown))
        self.awaiting = None

    def _cancel(self) -> None:
        if not self.stack:
            self.messages.append(self.texts.say("nothing_to_cancel"))
            return
        self._take(self.manager.pop(self.stack, completed=False))
        self.awaiting = None

    def _answer(self, yes: bool) -> None:
        awaiting = self.awaiting
        if (
            awaiting is not None
            and awaiting.kind is AwaitingKind.COLLECT
            and awaiting.slot
            and self.domain.slots[awaiting.slot].type is SlotType.BOOLEAN
        ):
            self._set(awaiting.slot, yes)
            return
        if (
            awaiting is None
            or awaiting.kind is not AwaitingKind.CONFIRM
            or not self.stack
            or awaiting.instance != self.stack[-1].instance
            or awaiting.step is None
        ):
            self.messages.append(self.texts.say("nothing_to_confirm"))
            return
        confirm = self.programs[self.stack[-1].flow].instruction(awaiting.step)
        assert isinstance(confirm, Confirm)
        self.awaiting = None
        if yes:
            self._take(self.manager.advance(self.stack, confirm.next))
        elif confirm.on_deny is not None:
            self._take(self.manager.advance(self.stack, confirm.on_deny))
        else:
            self._take(self.manager.pop(self.stack, completed=False))

    def _skip(self) -> None:
        awaiting = self.awaiting
        if awaiting is None or awaiting.kind is not AwaitingKind.COLLECT or awaiting.slot is None:
            self.messages.append(self.texts.say("cannot_handle"))
            return
        default = self.domain.slots[awaiting.slot].default
        if default is None:
            self.messages.append(self.texts.say("skip_refused"))
            return
        self._set(awaiting.slot, default)

    def _valid(self, slot: str, value: SlotValue) -> bool:
        """Check a value against its slot's limits; say why when it is rejected (in the
        slot's own `rejection` words when it has them)."""
        definition = self.domain.slots.get(slot)
        if definition is None:
            return False
        if definition.type is SlotType.ENUM and value not in definition.values:
            return False
        refused = refusal(definition, value, self.today)
        if refused is None:
            return True
        if definition.rejection is not None:
            slots = self.stack[-1].slots if self.stack else {}
            self.messages.append(self._render(definition.rejection, slots))
        else:
            self.messages.append(self.texts.say(refused.text, limit=refused.limit))
        return False

    def _take(self, delta: FlowDelta, *, announce_cancel: bool = True) -> None:
        """Adopt a delta's stack, and say what its events mean to the user."""
        self.stack = delta.stack
        for event in delta.events:
            if event.kind is EventKind.CANCELLED and announce_cancel:
                self.messages.append(
                    self.texts.say("cancelled", flow=self.engine.describe(event.flow))
                )
            elif event.kind is EventKind.RESUMED:
                self.messages.append(
                    self.texts.say("resumed", flow=self.engine.describe(event.flow))
                )
            elif event.kind is EventKind.NEXT:
                self.messages.append(
                    self.texts.say("next_flow", flow=self.engine.describe(event.flow))
                )
            elif event.kind is EventKind.COMPLETED:
                self.completed = True

    # -- running flows ---------------------------------------------------------------------

    async def execute(self) -> None:
        self.awaiting = None
        steps = 0
        while self.stack and not self._asking():
            steps += 1
            if steps > MAX_STEPS_PER_TURN:
                flow = self.engine.describe(self.stack[-1].flow)
                self.messages.append(self.texts.say("looped", flow=flow))
                self._take(self.manager.pop(self.stack, completed=False), announce_cancel=False)
                steps = 0
                continue
            await self._step()
        message = self.engine.config.domain.settings.completion_message
        if not self.stack and self.completed and not self._asking() and message:
            self.messages.append(message)

    def _asking(self) -> bool:
        """Whether the bot asked the user something (a method: it changes during a turn)."""
        return self.awaiting is not None

    async def _step(self) -> None:
        frame = self.stack[-1]
        instruction = self.programs[frame.flow].instruction(frame.step)
        slots = frame.slots
        if instruction is None:
            self._take(self.manager.pop(self.stack, completed=True))
        elif isinstance(instruction, Collect):
            if slots.get(instruction.slot) is not None:
                self._take(self.manager.mark_collected(self.stack, instruction.slot, frame.step))
                self._take(self.manager.advance(self.stack, instruction.next))
            else:
                self.messages.append(self._prompt(instruction.slot, slots))
                self.awaiting = Awaiting(
                    kind=AwaitingKind.COLLECT,
                    instance=frame.instance,
                    slot=instruction.slot,
                    step=frame.step,
                )
        elif isinstance(instruction, Say):
            self.messages.append(self._render(instruction.text, slots))
            self._take(self.manager.advance(self.stack, instruction.next))
        elif isinstance(instruction, RunAction):
            await self._action(instruction, slots)
        elif isinstance(instruction, Assign):
            self._take(self.manager.set_slots(self.stack, dict(instruction.values)))
            self._take(self.manager.advance(self.stack, instruction.next))
        elif isinstance(instruction, Branch):
            target = next(
                (target for condition, target in instruction.cases if condition.evaluate(slots)),
                instruction.otherwise,
            )
            self._take(self.manager.advance(self.stack, target))
        elif isinstance(instruction, LoopGuard):
            if instruction.condition.evaluate(slots):
                cleared: dict[str, SlotValue] = dict.fromkeys(instruction.resets)
                self._take(self.manager.set_slots(self.stack, cleared))
                self._take(self.manager.advance(self.stack, instruction.body))
            else:
                self._take(self.manager.advance(self.stack, instruction.exit))
        elif isinstance(instruction, Confirm):
            self.messages.append(self._render(instruction.prompt, slots))
            self.awaiting = Awaiting(
                kind=AwaitingKind.CONFIRM, instance=frame.instance, step=frame.step
            )
        elif isinstance(instruction, CallFlow):
            self._take(self.manager.advance(self.stack, instruction.next))
            self._take(self.manager.push(self.stack, instruction.flow, called=True))
        elif isinstance(instruction, LinkFlow):
            self._take(self.manager.link(self.stack, instruction.flow))

    async def _action(self, instruction: RunAction, slots: Mapping[str, SlotValue]) -> None:
        try:
            result = await self.engine.config.actions.run(instruction.action, slots)
            missing = sorted(key for key, _ in instruction.outputs if key not in result)
            if missing:
                raise ActionError(
                    instruction.action,
                    f"returned no {', '.join(map(repr, missing))}, which its step's "
                    "`outputs` copy into slots",
                )
        except ActionError as error:
            log.exception("action %s failed", instruction.action)
            self.failures.append(ActionFailure(instruction.action, str(error)))
            flow = self.engine.describe(self.stack[-1].flow)
            self.messages.append(self.texts.say("apology", flow=flow))
            self._take(self.manager.pop(self.stack, completed=False), announce_cancel=False)
            return
        updates = {slot: result.get(key) for key, slot in instruction.outputs}
        if updates:
            self._take(self.manager.set_slots(self.stack, updates))
        self._take(self.manager.advance(self.stack, instruction.next))

    def _prompt(self, slot: str, slots: Mapping[str, SlotValue]) -> str:
        definition = self.domain.slots[slot]
        if definition.prompt:
            return self._render(definition.prompt, slots)
        return self.texts.say("default_prompt", slot=slot.replace("_", " "))

    def _render(self, text: str, slots: Mapping[str, SlotValue]) -> str:
        return render(text, slots, self.engine.config.slot_types)
