"""Soni's command language as a model writes it: a JSON object `{"commands": [...]}`.

`reply_schema` is the JSON schema sent to the server (structured output), with the domain's
flow, slot and small-talk names as enums; it keeps to the subset OpenAI's strict mode takes
(every property required, no additional properties). `Reply` checks the shape of what comes
back, whatever the server did with the schema. Values are text ("50", "tomorrow",
"savings"): the rules' extractors read them as the slot's type reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

MAX_COMMANDS = 8
"""More than this in one message is not a reading but a runaway reply."""

PlainKind = Literal[
    "cancel_flow",
    "affirm",
    "deny",
    "help",
    "human_handoff",
    "skip_question",
    "repeat",
    "cannot_handle",
]
"""Commands without arguments."""
PLAIN_KINDS: tuple[str, ...] = get_args(PlainKind)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_text(value: Any) -> Any:
    """A number or yes/no written bare (servers without structured output do that) is read
    as its text, like every value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


Text = Annotated[str, BeforeValidator(_as_text)]


class Pair(_Shape):
    slot: str
    value: Text


class StartFlowReply(_Shape):
    kind: Literal["start_flow"]
    flow: str
    slots: tuple[Pair, ...] = ()


class SetSlotReply(_Shape):
    kind: Literal["set_slot"]
    slot: str
    value: Text


class CorrectSlotReply(_Shape):
    kind: Literal["correct_slot"]
    slot: str
    value: Text


class ClarifyReply(_Shape):
    kind: Literal["clarify"]
    options: tuple[str, ...]


class ChitChatReply(_Shape):
    kind: Literal["chitchat"]
    topic: str


class PlainReply(_Shape):
    kind: PlainKind


ReplyCommand = Annotated[
    StartFlowReply | SetSlotReply | CorrectSlotReply | ClarifyReply | ChitChatReply | PlainReply,
    Field(discriminator="kind"),
]


class Reply(_Shape):
    commands: tuple[ReplyCommand, ...] = Field(min_length=1, max_length=MAX_COMMANDS)


def reply_schema(
    flows: Iterable[str], slots: Iterable[str], topics: Iterable[str]
) -> dict[str, Any]:
    """The JSON schema of a reply for a domain with these flows, collected slots and
    small-talk topics."""
    flow_names = _names(flows)
    slot_names = _names(slots)
    pair = _object(slot=slot_names, value={"type": "string"})
    variants = [
        _object(kind=_one("start_flow"), flow=flow_names, slots={"type": "array", "items": pair}),
        _object(kind=_one("set_slot"), slot=slot_names, value={"type": "string"}),
        _object(kind=_one("correct_slot"), slot=slot_names, value={"type": "string"}),
        _object(kind=_one("clarify"), options={"type": "array", "items": flow_names}),
        _object(kind=_one("chitchat"), topic=_names(topics)),
        _object(kind={"type": "string", "enum": list(PLAIN_KINDS)}),
    ]
    commands = {
        "type": "array",
        "items": {"anyOf": variants},
        "minItems": 1,
        "maxItems": MAX_COMMANDS,
    }
    return _object(commands=commands)


def _names(names: Iterable[str]) -> dict[str, Any]:
    """A string from `names` (any string when there are none: an empty enum is no schema)."""
    listed = sorted(set(names))
    return {"type": "string", "enum": listed} if listed else {"type": "string"}


def _one(kind: str) -> dict[str, Any]:
    return {"type": "string", "enum": [kind]}


def _object(**properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: dict(schema) for name, schema in properties.items()},
        "required": list(properties),
        "additionalProperties": False,
    }
