"""Conversation tests in YAML: what the user says, turn by turn, and what must follow.

    domain: ../domain.yaml              # relative to this file (`soni test --config` overrides)
    today: 2026-11-25                   # the day "today" means (default: the real one)
    env: {SONI_BANKING_DB: "{tmp}/bank.db"}   # set while the file runs; {tmp}: a scratch dir
    tests:
      - name: a correction at the confirmation pays the right person
        turns:
          - user: send 50 to Alice
            bot: Send 50.00 to Alice            # a fragment of the reply, or a list of them
          - user: sorry, I meant Carol
            bot: [changed the beneficiary to Carol, Send 50.00 to Carol]
            slots: {beneficiary: Carol}         # these slots have these values (null: unset)
            flow: transfer_funds                # the active flow after the turn (null: none)

`user` and `bot` are text whatever YAML makes of them (`yes` stays "yes").
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from soni.config.base import Model
from soni.config.loader import read_document, validation_problems
from soni.config.yaml_source import LocatedDocument
from soni.core.slots import SlotValue
from soni.errors import ConfigError, ConfigErrors

_TEXT_FIELDS = ("user", "bot")


class TurnSpec(Model):
    user: str = Field(min_length=1)
    bot: tuple[str, ...] = ()
    slots: Mapping[str, SlotValue] = Field(default_factory=dict)
    flow: str | None = None

    @field_validator("bot", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("slots", mode="before")
    @classmethod
    def _dates_as_text(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            key: item.isoformat() if isinstance(item, datetime.date) else item
            for key, item in value.items()
        }

    @property
    def checks_flow(self) -> bool:
        """`flow: null` (no flow) is checked; a turn without `flow` is not."""
        return "flow" in self.model_fields_set


class CaseSpec(Model):
    name: str
    turns: tuple[TurnSpec, ...] = Field(min_length=1)


class TestFileSpec(Model):
    domain: str | None = None
    today: datetime.date | None = None
    env: Mapping[str, str] = Field(default_factory=dict)
    tests: tuple[CaseSpec, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Turn:
    spec: TurnSpec
    line: int


@dataclass(frozen=True)
class Case:
    name: str
    line: int
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class TestFile:
    path: Path
    domain: Path | None
    today: datetime.date | None
    env: Mapping[str, str]
    cases: tuple[Case, ...]


def load_test_file(path: Path) -> TestFile:
    """Read and check a test file; every problem names its line (`ConfigErrors`)."""
    document = read_document(path)
    data = _texts_as_written(document)
    try:
        spec = TestFileSpec.model_validate(data)
    except ValidationError as error:
        raise ConfigErrors(validation_problems(error, document.locate)) from None
    domain = (path.parent / spec.domain).resolve() if spec.domain else None
    cases = tuple(
        Case(
            case.name,
            document.line_of(("tests", index)),
            tuple(
                Turn(turn, document.line_of(("tests", index, "turns", step)))
                for step, turn in enumerate(case.turns)
            ),
        )
        for index, case in enumerate(spec.tests)
    )
    return TestFile(path, domain, spec.today, dict(spec.env), cases)


def _texts_as_written(document: LocatedDocument) -> Any:
    """The document with `user` and `bot` scalars as their source text."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        if data is not None and not isinstance(data, dict):
            raise ConfigErrors(
                [ConfigError("the top level must be a mapping", file=document.file, line=1)]
            )
        return data
    tests = []
    for index, case in enumerate(data["tests"]):
        if isinstance(case, dict) and isinstance(case.get("turns"), list):
            turns = [
                _turn_as_written(document, ("tests", index, "turns", step), turn)
                for step, turn in enumerate(case["turns"])
            ]
            case = {**case, "turns": turns}
        tests.append(case)
    return {**data, "tests": tests}


def _turn_as_written(document: LocatedDocument, path: tuple[str | int, ...], turn: Any) -> Any:
    if not isinstance(turn, dict):
        return turn
    fixed = dict(turn)
    for key in _TEXT_FIELDS:
        value = fixed.get(key)
        if value is not None and not isinstance(value, str | list):
            fixed[key] = document.raw.get((*path, key), str(value))
        elif isinstance(value, list):
            fixed[key] = [
                item if isinstance(item, str) else document.raw.get((*path, key, n), str(item))
                for n, item in enumerate(value)
            ]
    return fixed
