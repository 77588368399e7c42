"""TIG100: a blanket `# type: ignore`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from audit.analysis.ignores import Ignore, IgnoreKind
from audit.core.findings import Applicability, Edit, Finding, Fix
from audit.core.span import Span
from audit.rules.base import FixExample, RawFinding, Rule

if TYPE_CHECKING:
    from audit.analysis.context import FileContext
    from audit.analysis.mypy_unused import MypyReport

MISPLACED = " (mypy does not read it here: a type comment must start its comment)"


def ignore_finding(code: str, ignore: Ignore, message: str) -> RawFinding:
    span = Span(ignore.line, ignore.column, ignore.line, ignore.end_column)
    return RawFinding(code, None, message + (MISPLACED if ignore.misplaced else ""), span=span)


class BlanketTypeIgnore(Rule):
    """
    ## What it does
    Flags `# type: ignore` without an error code, wherever it sits in a comment
    (`#type:ignore`, `# noqa: E501  # type: ignore`). Found like the tokenizer finds comments:
    text in strings and docstrings never counts, and type comments such as
    `# type: list[int]` are not ignores.

    ## Why is this bad?
    A blanket ignore silences every error on its line, today's and tomorrow's: a later
    change that introduces a real bug on that line goes unnoticed. Naming the code
    (`# type: ignore[attr-defined]`) keeps the escape as narrow as the problem.

    A `# type: ignore` before the first statement silences the whole file and is TIG104.

    ## Fix
    With `--mypy`, safe: the ignore gets the codes mypy reports on its line
    (`# type: ignore` -> `# type: ignore[assignment]`).
    """

    code = "TIG100"
    name = "blanket-type-ignore"
    summary = "`# type: ignore` without an error code"
    yields_to = frozenset({"TIG102"})  # an unused ignore is removed, not narrowed

    def with_mypy(self, finding: Finding, report: MypyReport) -> Finding:
        codes = report.suggestions.get((finding.path, finding.line))
        if finding.code != self.code or not codes:
            return finding
        joined = ", ".join(codes)
        end = finding.end_column
        edit = Edit(finding.line, end, finding.line, end, f"[{joined}]")
        fix = Fix(Applicability.SAFE, f"name the codes mypy reports here: [{joined}]", (edit,))
        return replace(finding, fix=fix)

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for ignore in ctx.ignores:
            if ignore.kind is IgnoreKind.BLANKET:
                yield ignore_finding(
                    self.code,
                    ignore,
                    f"blanket `{ignore.text}` silences every type error on this line; "
                    "name the error code (`# type: ignore[code]`) or fix the types",
                )

    INVALID = (
        """
        import os

        value: int = os.environ["X"]  # type: ignore  # error
        other: int = "text"  #type:ignore  # error
        third = value  # noqa: E501  # type: ignore  # error
        """,
    )

    VALID = (
        """
        value: int = int("1")
        other: int = "text"  # type: ignore[assignment]
        items = []  # type: list[int]
        """,
        '''
        def describe():
            """Use `# type: ignore` sparingly."""
            return "# type: ignore"
        ''',
    )

    FIXED = (
        FixExample(
            """
            value: int = "text"  # type: ignore
            """,
            """
            value: int = "text"  # type: ignore[assignment]
            """,
            mypy=True,
        ),
    )
