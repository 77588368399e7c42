"""MUT103: `+=`/`|=` extends a mutable parameter in place."""

from __future__ import annotations

from collections.abc import Iterator

from audit.analysis.context import FileContext, RawFinding
from audit.rules.base import Rule


class ParameterAugmentedAssignment(Rule):
    """
    ## What it does
    Flags `p += ...`, `p |= ...` (and `*=`, `-=`, `&=`, `^=`) on a parameter that is a
    mutable container: annotated as one (`list`, `dict`, `set`, `List[...]`,
    `MutableMapping`, ...), with a mutable default (`items=[]`), or extended with a list, set
    or dict literal.

    ## Why is this bad?
    For a list, `items += [x]` is `items.extend([x])`: it changes the caller's list, unlike
    `items = items + [x]`, which builds a new one. The two look alike; only one is a side
    effect.

    ## What is not reported
    Immutable values (`int`, `str`, `tuple`: `+=` rebinds the name), parameters of unknown
    type extended with something that is not a literal, and parameters rebound to a copy
    first.
    """

    code = "MUT103"
    name = "parameter-augmented-assignment"
    summary = "Mutable parameter extended in place with an augmented assignment"

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        yield from ctx.mutation_findings(self.code)

    INVALID = (
        """
        def extend(items: list[int], more):
            items += more  # error
        """,
        """
        def extend(items):
            items += [1, 2]  # error
        """,
        """
        def tag(tags: set[str], more: set[str]):
            tags |= more  # error
        """,
        """
        def accumulate(values=[], more=()):
            values += more  # error
        """,
        """
        from typing import List, Optional

        def repeat(items: Optional[List[int]]):
            items *= 2  # error
        """,
    )

    VALID = (
        """
        def count(n: int, text: str, values: tuple):
            n += 1
            text += "!"
            values += (1,)
        """,
        """
        def total(total, delta):
            total += delta  # unknown type, not a literal: not guessed
        """,
        """
        def extend(items, more):
            items = list(items)
            items += [*more]
            return items
        """,
        """
        def concat(items: list[int], more):
            items = items + more
            return items
        """,
    )
