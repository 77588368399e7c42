"""Running conversation tests in-process: each file against its domain, with the memory
checkpointer, each test as a new user, each turn checked before the next is sent.

A test stops at its first failing turn (what follows depends on it); one file that cannot
be read, or whose domain does not load, is reported and the others still run.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from soni.config.loader import load_config
from soni.config.models import PersistenceSettings
from soni.core.slots import SlotValue
from soni.core.types import Clock
from soni.errors import ConfigError, ConfigErrors, SoniError
from soni.runtime.loop import RuntimeLoop, TurnResult
from soni.testing.cases import Case, TestFile, Turn, load_test_file

TEST_FILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FixedDay:
    day: datetime.date

    def today(self) -> datetime.date:
        return self.day


@dataclass(frozen=True)
class Mismatch:
    what: str
    """`bot`, `slots.NAME` or `flow`."""
    expected: str
    got: str


@dataclass(frozen=True)
class Failure:
    turn: int
    """0-based index of the failing turn."""
    line: int
    said: str
    reply: str
    mismatches: tuple[Mismatch, ...]


@dataclass(frozen=True)
class CaseResult:
    case: Case
    failure: Failure | None

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class FileResult:
    path: Path
    cases: tuple[CaseResult, ...] = ()
    errors: tuple[ConfigError, ...] = ()


def find_test_files(paths: Sequence[Path]) -> list[Path]:
    """The test files named, directories searched for `.yaml`/`.yml` files."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in TEST_FILE_SUFFIXES))
        else:
            found.append(path)
    return found


async def run_files(paths: Sequence[Path], *, domain: Path | None = None) -> list[FileResult]:
    return [await run_file(path, domain=domain) for path in find_test_files(paths)]


async def run_file(path: Path, *, domain: Path | None = None) -> FileResult:
    try:
        tests = await asyncio.to_thread(load_test_file, path)
    except ConfigErrors as error:
        return FileResult(path, errors=tuple(error.errors))
    source = domain or tests.domain
    if source is None:
        message = "no domain: give `domain:` in the file or `soni test --config DOMAIN`"
        return FileResult(path, errors=(ConfigError(message, file=str(path), line=1),))
    scratch = await asyncio.to_thread(tempfile.mkdtemp, prefix="soni-test-")
    try:
        with _environment(tests.env, scratch):
            return await _run_tests(path, source, tests)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _run_tests(path: Path, source: Path, tests: TestFile) -> FileResult:
    try:
        config = await asyncio.to_thread(load_config, source)
        clock: Clock | None = FixedDay(tests.today) if tests.today else None
        memory = PersistenceSettings(backend="memory")
        async with RuntimeLoop(config, persistence=memory, clock=clock) as runtime:
            results = [await _run_case(runtime, n, case) for n, case in enumerate(tests.cases)]
    except ConfigErrors as error:
        return FileResult(path, errors=tuple(error.errors))
    except SoniError as error:
        return FileResult(path, errors=(ConfigError(str(error), file=str(source)),))
    return FileResult(path, tuple(results))


async def _run_case(runtime: RuntimeLoop, number: int, case: Case) -> CaseResult:
    user = f"soni-test-{number}"
    for index, turn in enumerate(case.turns):
        result = await runtime.process_message(user, turn.spec.user)
        mismatches = tuple(_mismatches(turn, result))
        if mismatches:
            failure = Failure(index, turn.line, turn.spec.user, result.reply, mismatches)
            return CaseResult(case, failure)
    return CaseResult(case, None)


def _mismatches(turn: Turn, result: TurnResult) -> Iterator[Mismatch]:
    spec = turn.spec
    for fragment in spec.bot:
        if fragment not in result.reply:
            yield Mismatch("bot", f"{fragment!r} in the reply", "a reply without it")
    for slot, expected in spec.slots.items():
        got = result.slots.get(slot)
        if not _same(expected, got):
            yield Mismatch(f"slots.{slot}", _shown(expected), _shown(got))
    if spec.checks_flow and spec.flow != result.active_flow:
        yield Mismatch("flow", _shown(spec.flow), _shown(result.active_flow))


def _same(expected: SlotValue, got: SlotValue) -> bool:
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return not isinstance(expected, bool) and not isinstance(got, bool) and expected == got
    return expected == got and type(expected) is type(got)


def _shown(value: object) -> str:
    return "null" if value is None else repr(value)


@contextmanager
def _environment(env: Mapping[str, str], scratch: str) -> Iterator[None]:
    """Set `env` (with `{tmp}` replaced by `scratch`) while the file runs, then restore."""
    before = {name: os.environ.get(name) for name in env}
    os.environ.update({name: value.replace("{tmp}", scratch) for name, value in env.items()})
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
