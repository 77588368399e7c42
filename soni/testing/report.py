"""What `soni test` prints: each file, each test, and for a failure the turn, what the bot
said and each difference from what was expected."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from soni.testing.runner import CaseResult, FileResult

_INDENT = " " * 7


def report(results: Sequence[FileResult]) -> Iterator[str]:
    for result in results:
        yield str(result.path)
        for error in result.errors:
            yield f"  ERROR {error}"
        for case in result.cases:
            yield from _case(case)
    yield summary(results)


def _case(result: CaseResult) -> Iterator[str]:
    failure = result.failure
    if failure is None:
        yield f"  PASS {result.case.name}"
        return
    yield f"  FAIL {result.case.name} (line {result.case.line})"
    yield f"{_INDENT}turn {failure.turn + 1} (line {failure.line}): you> {failure.said}"
    lines = failure.reply.splitlines() or [""]
    yield f"{_INDENT}  bot said: {lines[0]}"
    yield from (f"{_INDENT}            {line}" for line in lines[1:])
    for mismatch in failure.mismatches:
        yield f"{_INDENT}  {mismatch.what}: expected {mismatch.expected}, got {mismatch.got}"


def summary(results: Sequence[FileResult]) -> str:
    cases = [case for result in results for case in result.cases]
    failed = sum(1 for case in cases if not case.passed)
    broken = sum(1 for result in results if result.errors)
    files = f"{len(results)} file" + ("" if len(results) == 1 else "s")
    text = f"{len(cases)} tests: {len(cases) - failed} passed, {failed} failed ({files}"
    return text + (f", {broken} with errors)" if broken else ")")


def exit_code(results: Sequence[FileResult]) -> int:
    """0: all passed; 1: a test failed; 2: a file or its domain could not be loaded."""
    if any(result.errors for result in results) or not results:
        return 2
    return 1 if any(not case.passed for r in results for case in r.cases) else 0
