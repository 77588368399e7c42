"""The YAML DSL as pydantic models: shapes and local rules of each block.

Cross references (step targets, slots, flows, actions, conditions) are checked by the
loader, which knows the whole configuration and where each piece came from.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from soni.config.base import Model
from soni.config.server import ServerSettings
from soni.config.understanding import UnderstandingSettings
from soni.core.bounds import parse_date_bound
from soni.core.slots import SlotType, SlotValue

END = "end"
DEFAULT_MAX_LENGTH = 200
"""The longest free-text value (characters) a string slot takes when its `max` is unset."""
_NUMERIC = (SlotType.NUMBER, SlotType.AMOUNT)
_BOUNDED = (*_NUMERIC, SlotType.STRING, SlotType.DATE)


class SlotDefinition(Model):
    type: SlotType = SlotType.STRING
    prompt: str | None = None
    description: str | None = None
    aliases: tuple[str, ...] = ()
    """Words users call this slot by ("recipient"), beside its name and its prompt's words."""
    rejection: str | None = None
    """What the bot says when a value is outside `min`/`max` (default: a text per limit)."""
    min: float | str | None = None
    max: float | str | None = None
    """Numbers and amounts: the value; strings: the length in characters; dates: an ISO
    date, `today`, or `today+N` / `today-N` days."""
    values: tuple[str, ...] = ()
    synonyms: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    pattern: str | None = None
    default: SlotValue = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _dates_as_text(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime.date) else value

    @property
    def max_length(self) -> int:
        """The longest value a string slot takes."""
        return int(self.max) if isinstance(self.max, int | float) else DEFAULT_MAX_LENGTH

    @model_validator(mode="after")
    def _bounds(self) -> SlotDefinition:
        for name in ("min", "max"):
            bound = getattr(self, name)
            if bound is None:
                continue
            if self.type not in _BOUNDED:
                raise ValueError(f"`{name}` applies to number, amount, string and date slots")
            if self.type in _NUMERIC and not isinstance(bound, int | float):
                raise ValueError(f"`{name}` of a {self.type.value} slot must be a number")
            if self.type is SlotType.STRING and (
                not isinstance(bound, int | float) or bound < 0 or not float(bound).is_integer()
            ):
                raise ValueError(f"`{name}` of a string slot is a length: a whole number >= 0")
            if self.type is SlotType.DATE and (
                not isinstance(bound, str) or parse_date_bound(bound) is None
            ):
                raise ValueError(
                    f"`{name}` of a date slot must be a date (2026-01-31), `today`, or "
                    "`today+N` / `today-N` days"
                )
        return self

    @model_validator(mode="after")
    def _consistent(self) -> SlotDefinition:
        if self.type is SlotType.ENUM and not self.values:
            raise ValueError("an enum slot needs `values`")
        if self.synonyms and self.type is not SlotType.ENUM:
            raise ValueError("`synonyms` only apply to enum slots")
        unknown = sorted(set(self.synonyms) - set(self.values))
        if unknown:
            raise ValueError(f"synonyms for unknown values: {', '.join(unknown)}")
        if self.type is SlotType.REGEX:
            if not self.pattern:
                raise ValueError("a regex slot needs `pattern`")
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(f"`pattern` is not a valid regex: {error}") from error
        low, high = self.min, self.max
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            raise ValueError("`min` is greater than `max`")
        return self


class Trigger(Model):
    phrases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()

    @field_validator("regex", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"regex {pattern!r} does not compile: {error}") from error
        return value


class BranchCase(Model):
    condition: str = Field(alias="if")
    then: str


class BranchElse(Model):
    otherwise: str = Field(alias="else")


class StepKind(enum.StrEnum):
    COLLECT = "collect"
    ACTION = "action"
    SAY = "say"
    SET = "set"
    BRANCH = "branch"
    WHILE = "while"
    CONFIRM = "confirm"
    CALL = "call"
    LINK = "link"


_KIND_FIELDS = {
    StepKind.COLLECT: "collect",
    StepKind.ACTION: "action",
    StepKind.SAY: "say",
    StepKind.SET: "assign",
    StepKind.BRANCH: "branch",
    StepKind.WHILE: "loop",
    StepKind.CONFIRM: "confirm",
    StepKind.CALL: "call",
    StepKind.LINK: "link",
}
_COMPANIONS = {
    "outputs": StepKind.ACTION,
    "do": StepKind.WHILE,
    "exit": StepKind.WHILE,
    "on_deny": StepKind.CONFIRM,
}


class Step(Model):
    id: str
    next: str | None = None
    collect: str | None = None
    action: str | None = None
    outputs: Mapping[str, str] = Field(default_factory=dict)
    say: str | None = None
    assign: Mapping[str, SlotValue] | None = Field(default=None, alias="set")
    branch: tuple[BranchCase | BranchElse, ...] | None = None
    loop: str | None = Field(default=None, alias="while")
    do: tuple[str, ...] = ()
    exit: str | None = None
    confirm: str | None = None
    on_deny: str | None = None
    call: str | None = None
    link: str | None = None

    @property
    def kind(self) -> StepKind:
        for kind, name in _KIND_FIELDS.items():
            if getattr(self, name) is not None:
                return kind
        raise AssertionError("validated steps have a kind")

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [kind for kind, name in _KIND_FIELDS.items() if getattr(self, name) is not None]
        if len(kinds) != 1:
            names = ", ".join(sorted(k.value for k in StepKind))
            found = ", ".join(k.value for k in kinds) or "none"
            raise ValueError(f"a step needs exactly one of {names} (found: {found})")
        kind = kinds[0]
        for field, owner in _COMPANIONS.items():
            if getattr(self, field) and kind is not owner:
                raise ValueError(f"`{field}` belongs to `{owner.value}` steps")
        if kind is StepKind.WHILE and (not self.do or self.exit is None):
            raise ValueError("a `while` step needs `do` (step ids) and `exit` (a step id)")
        if kind is StepKind.BRANCH:
            assert self.branch is not None
            if not self.branch:
                raise ValueError("a `branch` needs at least one case")
            elses = [i for i, case in enumerate(self.branch) if isinstance(case, BranchElse)]
            if len(elses) > 1 or (elses and elses[0] != len(self.branch) - 1):
                raise ValueError("a `branch` may end with one `else`, and only at the end")
        if kind is StepKind.LINK and self.next is not None:
            raise ValueError("a `link` step replaces the flow: it cannot have `next`")
        if kind is StepKind.WHILE and self.next is not None:
            raise ValueError("a `while` step continues at its `exit`: it cannot have `next`")
        return self


class Flow(Model):
    description: str = ""
    trigger: Trigger = Field(default_factory=Trigger)
    steps: tuple[Step, ...] = Field(min_length=1)


class PersistenceSettings(Model):
    backend: Literal["memory", "sqlite", "postgres"] = "sqlite"
    path: str = "./soni-state.db"
    dsn: str | None = None
    keep_checkpoints: int = Field(default=3, ge=1)
    """The checkpoints a conversation keeps (see `soni.runtime.history`). A turn reads only
    the latest (the receipts of keyed messages are in it too); the two before it let an
    operator look a turn or two back. 1 would prune after every turn; 3 prunes every third
    and leaves a user 3 to 5 checkpoints between turns."""

    @model_validator(mode="after")
    def _dsn_for_postgres(self) -> PersistenceSettings:
        if self.backend == "postgres" and not self.dsn:
            raise ValueError("the postgres backend needs `dsn`")
        return self


class Settings(Model):
    persistence: PersistenceSettings = Field(default_factory=PersistenceSettings)
    language: Literal["en"] = "en"
    date_order: Literal["dmy", "mdy", "ymd"] = "dmy"
    """How numeric dates read: 03/04/2026 is 3 April (dmy) or March 4 (mdy); a date that
    cannot be read in this order is read in another (24/12/2026 is always 24 December)."""
    actions: str | None = None
    completion_message: str | None = "Is there anything else I can help you with?"
    server: ServerSettings = Field(default_factory=ServerSettings)
    understanding: UnderstandingSettings = Field(default_factory=UnderstandingSettings)


class Domain(Model):
    version: Literal["1"]
    settings: Settings = Field(default_factory=Settings)
    slots: Mapping[str, SlotDefinition] = Field(default_factory=dict)
    flows: Mapping[str, Flow] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value
