"""MUT103: `+=`/`|=` extends a mutable parameter in place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import FIXES, WRITES
from audit.analysis.writes import Effect, Shape
from audit.rules.base import FixExample, RawFinding, Rule
from audit.rules.mutation_family import (
    ADVICE,
    COPY_ON_ENTRY,
    idioms_reference,
    parameter_finding,
)

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


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
    needs = WRITES | FIXES
    FIX = COPY_ON_ENTRY

    @classmethod
    def reference(cls) -> str:
        return idioms_reference()

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for write in ctx.parameter_writes:
            if write.effect is Effect.IN_PLACE and not write.through_alias:
                container = (
                    "annotated as mutable"
                    if write.shape.kind is Shape.MUTABLE
                    else "a mutable container"
                )
                yield parameter_finding(
                    ctx,
                    self.code,
                    write,
                    f"`{ctx.source(write.node)}` changes parameter `{write.parameter.name}` "
                    f"in place ({container}); {ADVICE}",
                )

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
        """
        from typing import Optional as Opt, Union

        def extend(items: Opt[list[int]], tags: "Union[set[str], None]", more):
            items += more  # error: `Opt` is `Optional` under another name
            tags |= more  # error: a string annotation reads the same
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

    FIXED = (
        FixExample(
            """
            def extend(items: list[int], more):
                items += more
                return items
            """,
            """
            def extend(items: list[int], more):
                items = list(items)
                items += more
                return items
            """,
            unsafe=True,
        ),
    )
