"""What the understanding component tells the dialogue manager, as a discriminated union.

Commands are plain data: they are stored in the checkpointed state as dicts
(`dump_commands`) and read back with `load_commands`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from soni.core.slots import SlotValue


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StartFlow(_Command):
    kind: Literal["start_flow"] = "start_flow"
    flow: str
    slots: dict[str, SlotValue] = Field(default_factory=dict)


class SetSlot(_Command):
    kind: Literal["set_slot"] = "set_slot"
    slot: str
    value: SlotValue


class CorrectSlot(_Command):
    kind: Literal["correct_slot"] = "correct_slot"
    slot: str
    value: SlotValue


class CancelFlow(_Command):
    kind: Literal["cancel_flow"] = "cancel_flow"


class Affirm(_Command):
    kind: Literal["affirm"] = "affirm"


class Deny(_Command):
    kind: Literal["deny"] = "deny"


class Clarify(_Command):
    kind: Literal["clarify"] = "clarify"
    options: tuple[str, ...]


class ChitChat(_Command):
    kind: Literal["chitchat"] = "chitchat"
    topic: str


class Help(_Command):
    kind: Literal["help"] = "help"


class HumanHandoff(_Command):
    kind: Literal["human_handoff"] = "human_handoff"


class SkipQuestion(_Command):
    kind: Literal["skip_question"] = "skip_question"


class Repeat(_Command):
    """Say the last question again ("can you repeat that?")."""

    kind: Literal["repeat"] = "repeat"


OUT_OF_SCOPE = "out of scope"
"""The reason of a `CannotHandle` for a request the domain has nothing for."""


class CannotHandle(_Command):
    kind: Literal["cannot_handle"] = "cannot_handle"
    reason: str = ""


Command = Annotated[
    StartFlow
    | SetSlot
    | CorrectSlot
    | CancelFlow
    | Affirm
    | Deny
    | Clarify
    | ChitChat
    | Help
    | HumanHandoff
    | SkipQuestion
    | Repeat
    | CannotHandle,
    Field(discriminator="kind"),
]

_COMMANDS: TypeAdapter[list[Command]] = TypeAdapter(list[Command])


def dump_commands(commands: Iterable[Command]) -> list[dict[str, Any]]:
    return [command.model_dump(mode="json") for command in commands]


def load_commands(data: Sequence[dict[str, Any]]) -> list[Command]:
    return _COMMANDS.validate_python(list(data))
