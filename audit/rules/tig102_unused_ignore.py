"""TIG102: a `type: ignore` that mypy says silences nothing (or the wrong error)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.core.findings import Applicability, Edit, Finding, Fix
from audit.rules.base import FixExample, Rule

if TYPE_CHECKING:
    from audit.analysis.mypy_unused import IgnoreVerdict, MypyReport


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

    ## Fix
    Safe: an unused ignore is removed, with the spaces before it; any other text in the
    comment (`# noqa: E501`) stays as the comment, and a comment that was only the ignore on
    its own line goes with its line. An ignore covering the wrong code gets the codes mypy
    reports there (`# type: ignore[attr-defined]` -> `# type: ignore[assignment]`).
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
                fix=_fix(verdict) if verdict.unused else None,
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

    FIXED = (
        FixExample(
            """
            value: int = 1  # type: ignore  # noqa: E501
            other: int = "text"  # type: ignore[attr-defined]
            # type: ignore
            last: int = 2  # type: ignore[assignment]
            """,
            """
            value: int = 1  # noqa: E501
            other: int = "text"  # type: ignore[assignment]
            last: int = 2
            """,
            mypy=True,
        ),
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


def _fix(verdict: IgnoreVerdict) -> Fix:
    ignore, line, number = verdict.ignore, verdict.line, verdict.ignore.line
    if verdict.errors:  # the ignore covers another code than the error's
        codes = ", ".join(sorted({error.code for error in verdict.errors}))
        text = ignore.text.partition("[")[0].rstrip()
        edit = Edit(number, ignore.column, number, ignore.end_column, f"{text}[{codes}]")
        return Fix(Applicability.SAFE, f"ignore [{codes}], the error mypy reports", (edit,))
    code = line[: ignore.column - 1]
    rest = line[ignore.end_column - 1 :].strip()
    if rest:  # other text in the comment stays the comment
        kept = rest if rest.startswith("#") else f"# {rest}"
        edit = Edit(number, ignore.column, number, len(line) + 1, kept)
    elif code.strip():  # the comment goes, with the spaces before it
        end_of_code = len(code.rstrip()) + 1
        edit = Edit(number, end_of_code, number, len(line) + 1, "")
    else:  # a line that held only the comment goes
        edit = Edit(number, 1, number + 1, 1, "")
    return Fix(Applicability.SAFE, f"remove the unused `{ignore.text}`", (edit,))
