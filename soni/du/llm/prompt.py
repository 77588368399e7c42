"""What the model is shown: a system message that describes the command language and the
domain (its flows with their descriptions and slots, each slot's type, question and allowed
values), built once; and a user message per turn with the conversation so far, the running
flow, what the bot asked (the pending slot with its question and allowed values, the
confirmation, the choice of flows) and the message itself.

The system message is the same for every turn of a domain, so servers that cache prompt
prefixes (OpenAI, vLLM, llama.cpp) reuse it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from soni.config.models import Domain, SlotDefinition
from soni.core.slots import SlotType, SlotValue
from soni.core.types import AwaitingKind, UnderstandingContext

MAX_SAID_CHARS = 400
"""A longer earlier message is cut: the last turns are context, not the question."""

_RULES = """\
You read the messages a user sends to an assistant. The assistant runs the flows (tasks) \
listed below. Answer with one JSON object and nothing else: {"commands": [...]}, the commands \
the message gives, in the order it gives them.

Commands:
- {"kind": "start_flow", "flow": FLOW, "slots": [{"slot": SLOT, "value": TEXT}]}: the user \
asks for a flow; "slots" holds the values of that flow's slots the message says ([] if none).
- {"kind": "set_slot", "slot": SLOT, "value": TEXT}: a value for a slot of the running flow: \
the answer to the question asked, or another of its slots said with it.
- {"kind": "correct_slot", "slot": SLOT, "value": TEXT}: the user changes a value given \
earlier ("sorry, I meant Carol", "make it 60").
- {"kind": "affirm"} or {"kind": "deny"}: yes or no to the question asked.
- {"kind": "cancel_flow"}: stop the running flow.
- {"kind": "clarify", "options": [FLOW, FLOW]}: the message could mean either flow.
- {"kind": "help"}: the user asks what the assistant can do.
- {"kind": "human_handoff"}: the user asks for a person.
- {"kind": "repeat"}: the user asks to hear the last question again.
- {"kind": "skip_question"}: the user does not want to answer the question asked.
- {"kind": "chitchat", "topic": TOPIC}: small talk; TOPIC is one of: {topics}.
- {"kind": "cannot_handle"}: nothing above fits.

Several values in one message give all of them; two requests give two start_flow commands. \
A correction gives correct_slot, not a new start_flow. Use only the flow and slot names \
below. Values are text: amounts and numbers in digits ("50", "12.5"), dates as YYYY-MM-DD \
or as the user said them ("tomorrow"), times as HH:MM, a choice as one of its allowed \
values, names and other text as the user wrote them.
"""


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class Prompt:
    def __init__(
        self,
        domain: Domain,
        flow_slots: Mapping[str, tuple[str, ...]],
        topics: Iterable[str],
        history_turns: int,
    ) -> None:
        self.domain = domain
        self.flow_slots = flow_slots
        self.history_turns = history_turns
        self.system = ChatMessage("system", _system(domain, flow_slots, topics))

    def messages(
        self, message: str, context: UnderstandingContext, today: datetime.date
    ) -> tuple[ChatMessage, ...]:
        return self.system, ChatMessage("user", self.situation(message, context, today))

    def situation(self, message: str, context: UnderstandingContext, today: datetime.date) -> str:
        lines = [f"Today is {today.isoformat()} ({today:%A})."]
        recent = list(context.history)[-self.history_turns :] if self.history_turns else []
        if recent:
            lines.append("The conversation so far:")
            for turn in recent:
                lines.append(f"user: {_cut(turn.user)}")
                lines.extend(f"assistant: {_cut(line)}" for line in turn.bot.splitlines())
        lines.extend(self._state(context))
        lines.append(f"The user's message: {message}")
        return "\n".join(lines)

    def _state(self, context: UnderstandingContext) -> list[str]:
        flow = context.active_flow
        if flow is None:
            lines = ["No flow is running."]
        else:
            filled = {s: v for s, v in context.filled_slots.items() if v is not None}
            shown = ", ".join(f"{slot} = {_value(value)}" for slot, value in filled.items())
            lines = [f"Running flow: {flow}" + (f" (filled: {shown})" if shown else "")]
        awaiting = context.awaiting
        if awaiting is None:
            return lines
        slot = awaiting.slot
        if awaiting.kind is AwaitingKind.COLLECT and slot is not None and slot in self.domain.slots:
            described = _describe(self.domain.slots[slot])
            lines.append(f"The assistant asked for slot {slot}: {described}")
        elif awaiting.kind is AwaitingKind.CONFIRM:
            lines.append("The assistant asked the user to confirm (yes or no).")
        elif awaiting.kind is AwaitingKind.CLARIFY:
            lines.append(f"The assistant asked which of these flows: {', '.join(awaiting.options)}")
        return lines


def _system(
    domain: Domain, flow_slots: Mapping[str, tuple[str, ...]], topics: Iterable[str]
) -> str:
    lines = [_RULES.replace("{topics}", ", ".join(topics)), "Flows:"]
    for name, flow in domain.flows.items():
        description = flow.description or name.replace("_", " ")
        slots = flow_slots.get(name, ())
        lines.append(
            f"- {name}: {description}." + (f" Slots: {', '.join(slots)}." if slots else "")
        )
    described = dict.fromkeys(slot for slots in flow_slots.values() for slot in slots)
    if described:
        lines.append("Slots:")
        lines.extend(f"- {slot}: {_describe(domain.slots[slot])}" for slot in described)
    return "\n".join(lines)


def _describe(definition: SlotDefinition) -> str:
    """A slot's type, question, allowed values and limits, in one line."""
    kind = "text" if definition.type is SlotType.STRING else definition.type.value
    parts = [kind]
    if definition.prompt:
        parts.append(f'asked as "{definition.prompt}"')
    if definition.description:
        parts.append(definition.description)
    if definition.values:
        parts.append(f"one of: {', '.join(definition.values)}")
        synonyms = [
            f"{word} means {value}"
            for value, words in definition.synonyms.items()
            for word in words
        ]
        if synonyms:
            parts.append("; ".join(synonyms))
    if definition.min is not None:
        parts.append(f"at least {definition.min}")
    if definition.max is not None and definition.type is not SlotType.STRING:
        parts.append(f"at most {definition.max}")
    if definition.pattern:
        parts.append(f"matching the regular expression {definition.pattern}")
    return "; ".join(parts)


def _value(value: SlotValue) -> str:
    return "yes" if value is True else "no" if value is False else str(value)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SAID_CHARS else text[:MAX_SAID_CHARS] + "..."
