"""MUT101: an item of a parameter is stored or deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import FIXES, WRITES
from audit.analysis.writes import Effect
from audit.rules.base import FixExample, RawFinding, Rule
from audit.rules.mutation_family import (
    ADVICE,
    COPY_ON_ENTRY,
    idioms_reference,
    parameter_finding,
)

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class ParameterItemStore(Rule):
    """
    ## What it does
    Flags item stores into a parameter: `p[k] = v`, `p[k] += v`, `del p[k]` and slice
    assignment `p[:] = ...`.

    ## Why is this bad?
    A dict or list passed in belongs to the caller; writing into it changes the caller's data
    behind its back (the classic is a shared default config that every request edits). Build
    a new one (`{**p, k: v}`, `dict(p)`, `[*p]`) or return the change.

    ## What is not reported
    Parameters rebound to a copy first (`p = dict(p)`, `p = {**p}`, `p = p.copy()`),
    `**kwargs`, names matching `ignore-names-regex` (`cache`, `memo`, `seen`, ...).
    Intentional writes, such as an ASGI middleware filling `scope[...]`, take a
    `# noqa: MUT101` on the line or on the `def` line.
    """

    code = "MUT101"
    name = "parameter-item-store"
    summary = "Item of a parameter stored or deleted"
    needs = WRITES | FIXES
    FIX = COPY_ON_ENTRY

    @classmethod
    def reference(cls) -> str:
        return idioms_reference()

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for write in ctx.parameter_writes:
            if write.effect is Effect.STORE_ITEM and not write.through_alias:
                yield parameter_finding(
                    ctx,
                    self.code,
                    write,
                    f"`{ctx.source(write.node)}` stores into parameter "
                    f"`{write.parameter.name}`, which the caller owns; {ADVICE}",
                )

    INVALID = (
        """
        def fill(settings, key):
            settings[key] = True  # error
        """,
        """
        def drop(headers, name):
            del headers[name]  # error
        """,
        """
        def count(counts, word):
            counts[word] += 1  # error
        """,
        """
        def reset(items):
            items[:] = []  # error
        """,
        """
        def swap(pair):
            pair[0], pair[1] = pair[1], pair[0]  # error
        """,
        """
        def defaults(options=None):
            options = options or {}
            options["timeout"] = 5  # error: the caller's dict when one is passed
        """,
    )

    VALID = (
        """
        def fill(settings, key):
            settings = dict(settings)
            settings[key] = True
            return settings
        """,
        """
        def fill(settings, key):
            settings = {**settings}
            settings[key] = True
            other = settings.copy()
            other[key] = False
            return settings, other
        """,
        """
        def local():
            table = {}
            table["k"] = 1
            return table
        """,
        """
        def remember(cache, key, value):
            cache[key] = value
        """,
        """
        def fresh(settings):
            settings = dict(settings) if settings else {}
            settings["x"] = 1
            return settings
        """,
        """
        def reads(settings, key):
            return settings[key]
        """,
    )

    FIXED = (
        FixExample(
            """
            def enable(settings: dict[str, bool], key):
                \"\"\"Turn one setting on.\"\"\"
                settings[key] = True
                return settings
            """,
            """
            def enable(settings: dict[str, bool], key):
                \"\"\"Turn one setting on.\"\"\"
                settings = dict(settings)
                settings[key] = True
                return settings
            """,
            unsafe=True,
        ),
    )
