"""The dialogue state of one user: immutable, and JSON all the way down.

The graph checkpoints `DialogueState.to_json()`; everything in it is a string, number,
boolean, null, list or mapping (enums as their values, tuples as lists), so it comes back
equal from the memory, SQLite and Postgres checkpointers alike.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from soni.core.slots import SlotValue
from soni.core.types import Awaiting, FlowFrame, ModelUse

HISTORY_LIMIT = 20


class Turn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    bot: str
    commands: tuple[dict[str, Any], ...] = ()


class DialogueState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    turn: int = 0
    stack: tuple[FlowFrame, ...] = ()
    awaiting: Awaiting | None = None
    handoff: bool = False
    history: tuple[Turn, ...] = Field(default=(), max_length=HISTORY_LIMIT)
    understanding: ModelUse | None = None
    """The last turn's model use, where a model is configured (never a key or a prompt)."""

    @property
    def active(self) -> FlowFrame | None:
        return self.stack[-1] if self.stack else None

    @property
    def active_flow(self) -> str | None:
        return self.active.flow if self.active is not None else None

    @property
    def active_slots(self) -> dict[str, SlotValue]:
        return dict(self.active.slots) if self.active is not None else {}

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DialogueState:
        return cls.model_validate(data) if data else cls()
