"""TIG103: `# pyright: ignore` and `# ty: ignore`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.ignores import IgnoreKind
from audit.rules.base import RawFinding, Rule
from audit.rules.tig100_blanket_ignore import ignore_finding

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class OtherCheckerIgnore(Rule):
    """
    ## What it does
    Flags the suppression comments of other type checkers: `# pyright: ignore`,
    `# pyright: ignore[reportGeneralTypeIssues]`, `# ty: ignore[...]`.

    ## Why is this bad?
    They escape type checking just like `# type: ignore`, but mypy does not see them and
    mypy's `warn_unused_ignores` cannot tell when they have become useless. Counting them
    with the rest keeps the inventory honest.
    """

    code = "TIG103"
    name = "other-checker-ignore"
    summary = "`# pyright: ignore` or `# ty: ignore`"

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for ignore in ctx.ignores:
            if ignore.kind is IgnoreKind.OTHER_CHECKER:
                yield ignore_finding(
                    self.code, ignore, f"`{ignore.text}` silences {ignore.tool} on this line"
                )

    INVALID = (
        """
        value: int = "text"  # pyright: ignore  # error
        other: int = "text"  # pyright: ignore[reportAssignmentType]  # error
        third: int = "text"  # ty: ignore[invalid-assignment]  # error
        """,
    )

    VALID = (
        """
        value: int = 1  # pyright comments are fine when they do not ignore anything
        flag = "# pyright: ignore"
        """,
    )
