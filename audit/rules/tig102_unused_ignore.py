"""TIG102: a `type: ignore` that mypy says silences nothing (or the wrong error)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.findings import Finding
from audit.rules.base import Rule

if TYPE_CHECKING:
    from audit.mypy_unused import IgnoreVerdict, MypyReport


class UnusedTypeIgnore(Rule):
    """
    ## What it does
    With `soni-audit check --mypy`, runs mypy with `warn_unused_ignores` (the project's mypy
    configuration, or `--strict` when it has none) and reports every `type: ignore` that mypy
    finds unused: either nothing on that line is an error any more, or the error there has
    another code than the one ignored (`# type: ignore[attr-defined]` on an `[assignment]`
    error), in which case the message names the real error.

    Without `--mypy` this rule reports nothing: whether an ignore is needed is mypy's
    judgement, never guessed.

    ## Why is this bad?
    An unused ignore is a hole kept open for nothing: the day an error appears on that line,
    it is silenced. A wrong code is worse: the real error is not silenced, and the ignore
    misleads the reader.
    """

    code = "TIG102"
    name = "unused-type-ignore"
    summary = "`type: ignore` that mypy reports as unused (with --mypy)"
    NEEDS_MYPY = True

    def check_mypy(self, report: MypyReport) -> Iterator[Finding]:
        for verdict in report.verdicts:
            ignore = verdict.ignore
            yield Finding(
                verdict.path,
                ignore.line,
                ignore.column,
                ignore.line,
                ignore.end_column,
                self.code,
                _unused(verdict) if verdict.unused else _not_read(verdict),
            )

    INVALID = (
        """
        value: int = 1  # type: ignore  # error
        other: int = "text"  # type: ignore[attr-defined]  # error: the error is [assignment]
        """,
    )

    VALID = (
        """
        value: int = "text"  # type: ignore[assignment]
        """,
    )


def _errors(verdict: IgnoreVerdict) -> str:
    return "; ".join(f"[{error.code}] {error.message}" for error in verdict.errors)


def _unused(verdict: IgnoreVerdict) -> str:
    text = verdict.ignore.text
    if verdict.errors:
        return f"`{text}` does not cover the error mypy reports here: {_errors(verdict)}"
    return f"unused `{text}`: mypy reports no error on this line"


def _not_read(verdict: IgnoreVerdict) -> str:
    return (
        f"`{verdict.ignore.text}` is not read by mypy (a type comment must start its comment), "
        f"so this error is not silenced: {_errors(verdict)}"
    )
