"""A model's reply as soni commands, or `InvalidReply` saying what was wrong with it.

Nothing the model writes is taken on trust: the reply must be JSON of the command
language's shape; flows and slots must exist (a slot only in its own flow, and never one
that only an action fills); every value is read by the rules' extractor for its slot's type
(amounts, numbers, dates, times, enums with their synonyms, regexes, emails; text within
its length), so a model's "fifty dollars", "$50" and "50" all become 50, and "banana" for
an amount is refused. Reasons name flows, slots and types, never a value the user gave.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from soni.config.models import Domain
from soni.core.commands import (
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
)
from soni.core.slots import SlotType, SlotValue
from soni.core.types import UnderstandingContext
from soni.du.extractors import Extractor
from soni.du.llm.language import (
    ChitChatReply,
    ClarifyReply,
    CorrectSlotReply,
    PlainReply,
    Reply,
    SetSlotReply,
    StartFlowReply,
)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
_PLAIN: dict[str, Command] = {
    "cancel_flow": CancelFlow(),
    "affirm": Affirm(),
    "deny": Deny(),
    "help": Help(),
    "human_handoff": HumanHandoff(),
    "skip_question": SkipQuestion(),
    "repeat": Repeat(),
    "cannot_handle": CannotHandle(reason="the model found nothing to do"),
}
MAX_SHOWN = 60
"""Characters of a refused value quoted in the reason (reasons are logged)."""


class InvalidReply(Exception):
    """The reply cannot be used; `reason` says why, in a few words fit for a log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ReplyReader:
    def __init__(
        self,
        domain: Domain,
        flow_slots: dict[str, tuple[str, ...]],
        extractor: Extractor,
        topics: frozenset[str],
    ) -> None:
        self.domain = domain
        self.flow_slots = flow_slots
        self.extractor = extractor
        self.topics = topics

    def interpret(self, text: str | None, context: UnderstandingContext) -> tuple[Command, ...]:
        reply = _parse(text)
        flow = context.active_flow
        commands: list[Command] = []
        for item in reply.commands:
            if isinstance(item, StartFlowReply):
                started = self._start(item)
                flow = started.flow if not commands else flow
                commands.append(started)
            elif isinstance(item, SetSlotReply | CorrectSlotReply):
                slot = self._slot_of(flow, item.slot, item.kind)
                value = self._value(slot, item.value)
                made = SetSlot if isinstance(item, SetSlotReply) else CorrectSlot
                commands.append(made(slot=slot, value=value))
            elif isinstance(item, ClarifyReply):
                commands.append(self._clarify(item))
            elif isinstance(item, ChitChatReply):
                if item.topic not in self.topics:
                    raise InvalidReply(f"unknown small-talk topic {_shown(item.topic)}")
                commands.append(ChitChat(topic=item.topic))
            else:
                assert isinstance(item, PlainReply)
                commands.append(_PLAIN[item.kind])
        return tuple(commands)

    def _start(self, item: StartFlowReply) -> StartFlow:
        if item.flow not in self.domain.flows:
            raise InvalidReply(f"unknown flow {_shown(item.flow)}")
        slots: dict[str, SlotValue] = {}
        for pair in item.slots:
            slot = self._slot_of(item.flow, pair.slot, "start_flow")
            slots[slot] = self._value(slot, pair.value)
        return StartFlow(flow=item.flow, slots=slots)

    def _slot_of(self, flow: str | None, slot: str, kind: str) -> str:
        if slot not in self.domain.slots:
            raise InvalidReply(f"unknown slot {_shown(slot)}")
        if flow is None:
            raise InvalidReply(f"{kind} of slot {slot!r} with no flow running")
        if slot not in self.flow_slots.get(flow, ()):
            raise InvalidReply(f"slot {slot!r} is not asked by flow {flow!r}")
        return slot

    def _value(self, slot: str, text: str) -> SlotValue:
        definition = self.domain.slots[slot]
        value = self.extractor.extract(definition, text)
        too_long = (
            definition.type is SlotType.STRING
            and isinstance(value, str)
            and len(value) > definition.max_length
        )
        if value is None or too_long:
            kind = "text" if definition.type is SlotType.STRING else definition.type.value
            raise InvalidReply(f"the value of slot {slot!r} is not a valid {kind}")
        return value

    def _clarify(self, item: ClarifyReply) -> Clarify:
        options = tuple(dict.fromkeys(item.options))
        unknown = [option for option in options if option not in self.domain.flows]
        if unknown:
            raise InvalidReply(f"unknown flow {_shown(unknown[0])}")
        if len(options) < 2:
            raise InvalidReply("a clarification needs two flows or more")
        return Clarify(options=options)


def _parse(text: str | None) -> Reply:
    if not text or not text.strip():
        raise InvalidReply("an empty reply")
    fenced = _FENCE.match(text)
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        raise InvalidReply("not JSON") from None
    try:
        return Reply.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the reply"
        raise InvalidReply(f"outside the schema at {where}: {first['msg']}") from None


def _shown(text: str) -> str:
    return repr(text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "...")
