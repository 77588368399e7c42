"""The dialogue's state vocabulary: flow frames, what the bot waits for, flow deltas, and
the protocols the runtime's parts are typed with.

Frames and states are immutable pydantic models; they hold JSON values only so that they
survive every checkpointer unchanged (enums are stored as their string values).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, overload

from pydantic import BaseModel, ConfigDict, Field

from soni.core.commands import Command
from soni.core.slots import SlotValue


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class AwaitingKind(enum.StrEnum):
    COLLECT = "collect"
    CONFIRM = "confirm"
    CLARIFY = "clarify"


class FlowFrame(_Frozen):
    """One running flow: where it is (`step`, the next step to run) and its own slots.

    `collected_at` remembers which step filled each slot (a correction resumes after it);
    `interrupted` is set when another flow was started on top of this one; `called` marks a
    flow started by a `call` step, whose slots return to its caller when it ends; `queued`
    marks a flow asked for in the same message as the one above it, which starts when that
    one ends.
    """

    flow: str
    instance: str
    step: str
    slots: dict[str, SlotValue] = Field(default_factory=dict)
    collected_at: dict[str, str] = Field(default_factory=dict)
    interrupted: bool = False
    called: bool = False
    queued: bool = False

    def with_slots(self, updates: Mapping[str, SlotValue]) -> FlowFrame:
        return self.model_copy(update={"slots": {**self.slots, **updates}})


class Awaiting(_Frozen):
    """What the last bot turn asked for."""

    kind: AwaitingKind
    instance: str | None = None
    slot: str | None = None
    step: str | None = None
    options: tuple[str, ...] = ()


class EventKind(enum.StrEnum):
    STARTED = "started"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    RESUMED = "resumed"
    NEXT = "next"
    """A queued flow starts now that the one above it ended."""
    SLOT_SET = "slot_set"
    SLOT_CORRECTED = "slot_corrected"
    LINKED = "linked"


@dataclass(frozen=True)
class FlowEvent:
    kind: EventKind
    flow: str
    slot: str | None = None
    value: SlotValue = None


@dataclass(frozen=True)
class FlowDelta:
    """The result of a flow operation: the new stack and what happened, never a mutation."""

    stack: tuple[FlowFrame, ...]
    events: tuple[FlowEvent, ...] = ()

    @property
    def top(self) -> FlowFrame | None:
        return self.stack[-1] if self.stack else None


class Clock(Protocol):
    """Today's date, injectable so date extraction is testable."""

    def today(self) -> datetime.date: ...


class Exchange(Protocol):
    """One earlier turn: what the user said and what the bot answered."""

    @property
    def user(self) -> str: ...

    @property
    def bot(self) -> str: ...


@dataclass(frozen=True)
class UnderstandingContext:
    """What the understanding component may know about the conversation."""

    active_flow: str | None
    awaiting: Awaiting | None
    filled_slots: Mapping[str, SlotValue]
    history: Sequence[Exchange] = ()
    """The turns before this one, oldest first (the rules do not read them; a model does)."""


class ModelUse(_Frozen):
    """How a turn was understood where a model is configured: the calls made to it, how
    long they took in all, who gave the commands, and why not the model when it failed."""

    backend: Literal["llm", "hybrid"]
    model_calls: int = 0
    latency_ms: float = 0.0
    answered_by: Literal["rules", "model"] = "rules"
    fallback: str | None = None


@dataclass(frozen=True)
class Understood(Sequence[Command]):
    """Commands with the model use behind them: what a model-backed generator returns, so
    the turn can record it (a plain sequence of commands records nothing)."""

    commands: tuple[Command, ...]
    use: ModelUse

    @overload
    def __getitem__(self, index: int) -> Command: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Command]: ...

    def __getitem__(self, index: int | slice) -> Command | Sequence[Command]:
        return self.commands[index]

    def __len__(self) -> int:
        return len(self.commands)


class CommandGenerator(Protocol):
    """Turns a user message into commands; the rule-based generator is the default, an
    LLM-backed one plugs in through the same protocol."""

    async def generate(self, message: str, context: UnderstandingContext) -> Sequence[Command]: ...
