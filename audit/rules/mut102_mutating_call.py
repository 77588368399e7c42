"""MUT102: a mutating method or function is called on a parameter."""

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


class ParameterMutatingCall(Rule):
    """
    ## What it does
    Flags calls that change a parameter in place: the mutating methods of lists, dicts, sets,
    deques and bytearrays (`append`, `extend`, `update`, `pop`, `sort`, `add`, `clear`, ...)
    and functions that modify their argument (`random.shuffle(p)`, `heapq.heappush(p, x)`,
    `bisect.insort(p, x)`). The method lists are data: `audit/catalogue/mutation.toml`.

    ## Why is this bad?
    `items.append(x)` on a list the caller passed grows the caller's list. A function that
    is called twice, or whose caller keeps using its argument, then sees surprising results.
    Copy first (`items = [*items, x]`) or return the new value.

    ## What is not reported
    A parameter annotated with a class that is not a container (`session: Session` calling
    `session.add(obj)` is calling a method, not mutating a container), parameters rebound to
    a copy first, `**kwargs`, and names matching `ignore-names-regex` (`seen.add(x)`).
    `p = p or []` does not copy: the caller's list is still changed when one is passed.
    """

    code = "MUT102"
    name = "parameter-mutating-call"
    summary = "Mutating method or function called on a parameter"
    needs = WRITES | FIXES
    FIX = COPY_ON_ENTRY

    @classmethod
    def reference(cls) -> str:
        return idioms_reference()

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for write in ctx.parameter_writes:
            if write.effect is Effect.MUTATING_CALL and not write.through_alias:
                yield parameter_finding(
                    ctx,
                    self.code,
                    write,
                    f"`{ctx.source(write.node)}` mutates parameter `{write.parameter.name}` "
                    f"in place; {ADVICE}",
                )

    INVALID = (
        """
        def add(items, item):
            items.append(item)  # error
        """,
        """
        def merge(settings: dict, extra):
            settings.update(extra)  # error
        """,
        """
        def order(items):
            items.sort()  # error
            return items.pop()  # error
        """,
        """
        import heapq, random, bisect

        def schedule(queue, cards, ranking, job):
            heapq.heappush(queue, job)  # error
            random.shuffle(cards)  # error
            bisect.insort(ranking, job)  # error
        """,
        """
        def add_default(items=None):
            if items is None:
                items = []
            items.append(1)  # error: the caller's list when one is passed
        """,
        """
        def add_or(items):
            items = items or []
            items.append(1)  # error
        """,
        """
        from typing import Sequence

        def extend(steps: Sequence[str]):
            steps.append("end")  # error: the annotation even promises not to
        """,
        """
        from heapq import heappush as push

        def schedule(queue, job):
            push(queue, job)  # error
        """,
    )

    VALID = (
        """
        def add(items, item):
            items = list(items)
            items.append(item)
            return items
        """,
        """
        def add(items, item):
            items = [*items, item]
            items.sort()
            ordered = sorted(items)
            ordered.reverse()
            return ordered
        """,
        """
        class Session:
            def add(self, obj): ...

        def save(session: Session, obj):
            session.add(obj)
        """,
        """
        def crawl(url, seen):
            seen.add(url)
        """,
        """
        def pick(**kwargs):
            return kwargs.pop("name")
        """,
        """
        import copy

        def deep(config):
            config = copy.deepcopy(config)
            config["plugins"].append("x")
            return config
        """,
        """
        class Queue:
            def push(self, item):
                self.items.append(item)
        """,
        """
        def local_only(names):
            result = []
            for name in names:
                result.append(name.upper())
            return result
        """,
    )

    FIXED = (
        FixExample(
            """
            def add(items: list[int], item): items.append(item)
            """,
            """
            def add(items: list[int], item): items = list(items); items.append(item)
            """,
            unsafe=True,
        ),
        FixExample(
            """
            def tag(tags: set[str] | None = None):
                tags.add("seen")
                return tags
            """,
            """
            def tag(tags: set[str] | None = None):
                tags = None if tags is None else set(tags)
                tags.add("seen")
                return tags
            """,
            unsafe=True,
        ),
    )
