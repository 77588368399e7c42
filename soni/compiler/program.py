"""Compiled flows: immutable programs of instructions, each naming its successor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from soni.config.models import END
from soni.core.conditions import Condition
from soni.core.slots import SlotValue


@dataclass(frozen=True)
class Collect:
    slot: str
    next: str


@dataclass(frozen=True)
class Say:
    text: str
    next: str


@dataclass(frozen=True)
class RunAction:
    action: str
    outputs: tuple[tuple[str, str], ...]  # (key in the action's result, slot)
    next: str


@dataclass(frozen=True)
class Assign:
    values: tuple[tuple[str, SlotValue], ...]
    next: str


@dataclass(frozen=True)
class Branch:
    cases: tuple[tuple[Condition, str], ...]
    otherwise: str


@dataclass(frozen=True)
class LoopGuard:
    """`while`: enter the body (after clearing the slots it collects) or go to `exit`."""

    condition: Condition
    body: str
    exit: str
    resets: tuple[str, ...]


@dataclass(frozen=True)
class Confirm:
    prompt: str
    next: str
    on_deny: str | None  # None: a "no" cancels the flow


@dataclass(frozen=True)
class CallFlow:
    flow: str
    next: str  # where the caller continues once the called flow ends


@dataclass(frozen=True)
class LinkFlow:
    flow: str


Instruction = (
    Collect | Say | RunAction | Assign | Branch | LoopGuard | Confirm | CallFlow | LinkFlow
)


@dataclass(frozen=True)
class Program:
    flow: str
    description: str
    start: str
    steps: tuple[tuple[str, Instruction], ...]
    _index: Mapping[str, Instruction] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", MappingProxyType(dict(self.steps)))

    def instruction(self, step: str) -> Instruction | None:
        """The instruction of a step; None for `end`."""
        return None if step == END else self._index[step]

    def has_step(self, step: str) -> bool:
        return step == END or step in self._index

    def successor_of_collect(self, slot: str, step: str) -> str | None:
        instruction = self._index.get(step)
        if isinstance(instruction, Collect) and instruction.slot == slot:
            return instruction.next
        return None


@dataclass(frozen=True)
class Programs:
    programs: tuple[Program, ...]
    _index: Mapping[str, Program] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", MappingProxyType({p.flow: p for p in self.programs}))

    def __getitem__(self, flow: str) -> Program:
        return self._index[flow]

    def __contains__(self, flow: object) -> bool:
        return flow in self._index

    @property
    def flows(self) -> tuple[str, ...]:
        return tuple(self._index)
