"""TIG104: type checking switched off for a whole file or function."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.ignores import IgnoreKind
from audit.rules.base import RawFinding, Rule
from audit.rules.tig100_blanket_ignore import ignore_finding

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class FileLevelEscape(Rule):
    """
    ## What it does
    Flags what switches type checking off wholesale: `# mypy: ignore-errors` and
    `# mypy: disable-error-code=...`, a `# type: ignore` on its own line before the first
    statement (mypy then ignores the whole module), `# pyright: basic` and
    `# pyright: reportX=false`, and functions or classes decorated with
    `@typing.no_type_check`.

    ## Why is this bad?
    One comment hides every error in hundreds of lines, including the ones written after
    it. The module stops being type checked at all while still looking typed to readers.
    """

    code = "TIG104"
    name = "file-level-type-escape"
    summary = "Type checking switched off for a whole file or function"

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for ignore in ctx.ignores:
            if ignore.kind is IgnoreKind.FILE_LEVEL:
                scope = "function" if ignore.tool == "decorator" else "whole file"
                yield ignore_finding(
                    self.code,
                    ignore,
                    f"`{ignore.text}` switches {ignore.tool} checking off for the {scope}",
                )
        for decorator in ctx.no_type_check:
            shown = ctx.source(decorator.decorator)
            yield RawFinding(
                self.code,
                decorator,
                f"`@{shown}` switches type checking off for the decorated definition",
            )

    INVALID = (
        """
        # type: ignore  # error
        import os
        """,
        """
        # mypy: ignore-errors  # error
        import os
        """,
        """
        # mypy: disable-error-code="attr-defined"  # error
        import os
        """,
        """
        # pyright: basic  # error
        import os
        """,
        """
        from typing import no_type_check
        import typing

        @no_type_check  # error
        def loose(x):
            return x.anything

        @typing.no_type_check  # error
        class Loose:
            pass
        """,
    )

    VALID = (
        '''
        """Module docstring."""
        # type: ignore
        import os
        ''',
        """
        # pyright: strict
        # mypy: warn-unreachable
        import os
        """,
    )
