"""MUT104: a parameter's object mutated through an alias."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import FIXES, WRITES
from audit.analysis.writes import MutationKind
from audit.rules.base import FixExample, RawFinding, Rule
from audit.rules.mutation_family import (
    ADVICE,
    COPY_ON_ENTRY,
    idioms_reference,
    parameter_finding,
)

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class ParameterAliasMutation(Rule):
    """
    ## What it does
    Flags any of the writes of MUT100-MUT103 made through another name that refers to the
    parameter or to an object inside it: `x = p`, `x = p.a`, `x = p[k]`, `x = p.get(k)`,
    tuple unpacking, `for x in p` (also `p.values()`, `p.items()`, `enumerate(p)`,
    `zip(p, ...)`), comprehension targets, `x = next(s for s in p if ...)`, `with p as x`,
    and items of a shallow copy (`list(p)[0].x = ...`). The message names the parameter and
    the path: `step (from all_steps) .jump_to`.

    ## Why is this bad?
    It is the same side effect as writing to the parameter, only harder to see. The classic
    case: a compiler that looks up a step with `next(...)` in the list of step configs it was
    given and sets `step.jump_to` on it, so compiling the same config twice gives different
    programs.

    ## What is not reported
    Aliases rebound to a fresh object before the write (`step = step.copy()`,
    `copy.deepcopy(p)`, `dataclasses.replace(step, ...)`), and the exemptions of the other
    MUT rules.
    """

    code = "MUT104"
    name = "parameter-alias-mutation"
    summary = "Parameter mutated through an alias"
    needs = WRITES | FIXES
    FIX = COPY_ON_ENTRY

    @classmethod
    def reference(cls) -> str:
        return idioms_reference()

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for write in ctx.parameter_writes:
            if not write.through_alias:
                continue
            mutation = write.mutation
            detail = mutation.detail
            suffix = {
                MutationKind.ATTRIBUTE: f" .{detail}",
                MutationKind.ITEM: " [...]",
                MutationKind.METHOD: f" .{detail}()",
                MutationKind.FUNCTION: f" passed to {detail}()",
                MutationKind.AUGMENTED: f" {detail}",
            }[mutation.kind]
            yield parameter_finding(
                ctx,
                self.code,
                write,
                f"`{ctx.source(write.node)}` mutates parameter `{write.parameter.name}` "
                f"through an alias: {mutation.origin.describe()}{suffix}; {ADVICE}",
            )

    INVALID = (
        """
        def link(steps):
            for step in steps:
                step.jump_to = None  # error
        """,
        """
        def compile_while(steps, loop):
            target = next(s for s in steps if s.id == loop.exit)
            target.jump_to = loop.id  # error
        """,
        """
        def alias(config):
            current = config
            current["debug"] = True  # error
        """,
        """
        def nested(config):
            database = config["database"]
            database["host"] = "localhost"  # error
            pool = config.get("pool")
            pool.update(size=5)  # error
        """,
        """
        def number(items, mapping):
            for index, item in enumerate(items):
                item.index = index  # error
            for value in mapping.values():
                value.clear()  # error
            for key, value in mapping.items():
                value.append(key)  # error
        """,
        """
        def rename_first(steps):
            copies = list(steps)
            copies[0].name = "first"  # error: a shallow copy shares its items
        """,
        """
        def clear_all(rows):
            [row.clear() for row in rows]  # error
        """,
        """
        def close(resource):
            with resource as handle:
                handle.closed = True  # error
        """,
        """
        def first(pair):
            head, tail = pair
            head.append(tail)  # error
        """,
        """
        def detach(tree):
            node = tree.root
            child = node.children[0]
            child.parent = None  # error
        """,
        """
        def grow(config):
            plugins = config.plugins
            plugins += ["extra"]  # error
        """,
        """
        class Pregel:
            def __init__(self, channels):
                self.channels = channels or {}
                self.channels["tasks"] = []  # error: the caller's dict when one is passed
        """,
        """
        def mark(items):
            if (head := items[0]) is not None:
                head.seen = True  # error
        """,
        """
        def first_open(doors):
            if any((found := door).closed is False for door in doors):
                found.closed = True  # error: the name outlives the comprehension
        """,
    )

    VALID = (
        """
        import copy

        def link(steps):
            for step in copy.deepcopy(steps):
                step.jump_to = None
        """,
        """
        import dataclasses

        def link(steps):
            linked = []
            for step in steps:
                step = dataclasses.replace(step, jump_to=None)
                step.checked = True
                linked.append(step)
            return linked
        """,
        """
        def reads(steps):
            for step in steps:
                print(step.jump_to)
        """,
        """
        def rebound(config):
            database = config["database"]
            database = {}
            database["host"] = "localhost"
        """,
        """
        def visit(graph, seen):
            for node in graph:
                seen.add(node)
        """,
        """
        def copies(steps):
            return [step.model_copy() for step in steps]
        """,
        """
        def to_dicts(generation):
            copied = generation.model_copy(deep=True)
            copied.message.extra["parsed"] = None  # a deep copy shares nothing
            return copied
        """,
        """
        def replace_secrets(root, secrets):
            result = root.copy()
            for path, secret in secrets.items():
                current = result
                for part in path.split("."):
                    current[part] = current[part].copy()  # each level copied on the way down
                    current = current[part]
                current["secret"] = secret
            return result
        """,
    )

    FIXED = (
        FixExample(
            """
            def grow(tags: set[str]):
                current = tags
                current.add("new")
                return current
            """,
            """
            def grow(tags: set[str]):
                tags = set(tags)
                current = tags
                current.add("new")
                return current
            """,
            unsafe=True,
        ),
    )
