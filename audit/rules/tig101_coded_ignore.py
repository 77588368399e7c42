"""TIG101: a `# type: ignore[code]`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.ignores import IgnoreKind
from audit.rules.base import RawFinding, Rule
from audit.rules.tig100_blanket_ignore import ignore_finding

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class CodedTypeIgnore(Rule):
    """
    ## What it does
    Flags `# type: ignore[code, ...]` comments: each is a type error the project decided to
    live with.

    ## Why is this bad?
    Coded ignores are the honest form of an escape, but each one is still an unchecked spot.
    The audit lists them (the report counts them per module and code) so they can be paid
    down; `--budget` stops their number from growing. With `--mypy`, TIG102 says which ones
    no longer silence anything.
    """

    code = "TIG101"
    name = "coded-type-ignore"
    summary = "`# type: ignore[code]`: a silenced type error"
    yields_to = frozenset({"TIG102"})  # one that silences nothing is reported as unused

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for ignore in ctx.ignores:
            if ignore.kind is IgnoreKind.CODED:
                codes = ", ".join(ignore.codes)
                yield ignore_finding(
                    self.code, ignore, f"`{ignore.text}` silences a type error [{codes}] here"
                )

    INVALID = (
        """
        value: int = "text"  # type: ignore[assignment]  # error
        other = value.upper()  # type: ignore[attr-defined, unused-ignore]  # error
        """,
    )

    VALID = (
        """
        value: int = 1
        text = "# type: ignore[assignment]"
        """,
    )
