"""MUT100: an attribute of a parameter is set or deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import FIXES, WRITES
from audit.analysis.writes import Effect, MutationKind
from audit.rules.base import FixExample, RawFinding, Rule
from audit.rules.mutation_family import (
    ADVICE,
    COPY_ON_ENTRY,
    idioms_reference,
    parameter_finding,
)

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class ParameterAttributeStore(Rule):
    """
    ## What it does
    Flags a function that sets or deletes an attribute of an object it received as a
    parameter: `p.a = v`, `p.a += v`, `del p.a`, `setattr(p, ...)`, `delattr(p, ...)`,
    `object.__setattr__(p, ...)`, also deeper (`request.state.user = None`).

    ## Why is this bad?
    The object belongs to the caller. Changing it is a side effect the signature does not
    show: callers that reuse the object (a config, a cached value, a list of steps compiled
    twice) see it change under them, and concurrent callers race on it. Work on a copy
    (`copy.copy(p)`, `dataclasses.replace(p, ...)`, `p.model_copy(update=...)`) or return
    the new value.

    ## What is not reported
    The receiver of a method (`self`/`cls`), `*args`/`**kwargs`, a parameter rebound to a
    copy before the write, parameters with immutable annotations (`int`, `str`, `tuple`,
    frozen dataclasses), names matching `ignore-names-regex`
    (default `^(out|acc|memo|seen|cache)(_|$)`), and function metadata set by decorators
    (`fn.__doc__`, `fn.__wrapped__`, `setattr(fn, "__name__", ...)`). A `# noqa: MUT100` on
    the `def` line silences the whole function. Objects a framework hands a function to fill
    are not reported by any MUT rule: the ASGI scope of an ASGI callable, `request.state` and
    `app.state`, pytest fixtures and hooks, a logging record in a filter or formatter, the
    namespace of an argparse action, nodes in an `ast.NodeTransformer`, the instance of a
    Django `pre_save` receiver (the list is data: `audit/catalogue/mutation.toml`).

    ## Options
    ```toml
    [tool.soni-audit.mutation]
    ignore-names-regex = "^(out|acc|memo|seen|cache)(_|$)"
    ```
    """

    code = "MUT100"
    name = "parameter-attribute-store"
    summary = "Attribute of a parameter set or deleted"
    needs = WRITES | FIXES
    FIX = COPY_ON_ENTRY

    @classmethod
    def reference(cls) -> str:
        return idioms_reference()

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for write in ctx.parameter_writes:
            if write.effect is Effect.SET_ATTRIBUTE and not write.through_alias:
                mutation = write.mutation
                what = (
                    f"attribute `{mutation.detail}`"
                    if mutation.kind is MutationKind.ATTRIBUTE
                    else "an attribute"
                )
                yield parameter_finding(
                    ctx,
                    self.code,
                    write,
                    f"`{ctx.source(write.node)}` changes {what} of parameter "
                    f"`{write.parameter.name}`, which the caller owns; {ADVICE}",
                )

    INVALID = (
        """
        def install(model_cls):
            def cached_schema(cls):
                cls._schema_cache = {}  # a method bound below: `cls` is its receiver
                return cls._schema_cache

            model_cls.schema = classmethod(cached_schema)  # error
        """,
        """
        def rename(user):
            user.name = "anonymous"  # error
        """,
        """
        def forget(config):
            del config.cache  # error
        """,
        """
        def bump(counter):
            counter.value += 1  # error
        """,
        """
        def tag(obj, value):
            setattr(obj, "tag", value)  # error
            delattr(obj, "old_tag")  # error
        """,
        """
        def freeze(obj):
            object.__setattr__(obj, "frozen", True)  # error
        """,
        """
        def logout(account):
            account.session.user = None  # error
        """,
        """
        class Handler:
            def attach(self, other):
                other.owner = self  # error: only the receiver is exempt
        """,
        """
        import copy

        def maybe_copy(user, fresh):
            if fresh:
                user = copy.copy(user)
            user.name = "x"  # error: not a copy on every path
        """,
        """
        def closure_free(user):
            apply = lambda u: setattr(u, "seen", True)  # error
            return apply
        """,
    )

    VALID = (
        """
        from fastapi import Request

        async def login(request: Request):
            request.state.user = "alice"  # `request.state` is where a request keeps its data
        """,
        """
        class Model:
            def set(self, value):
                self.value = value

            @classmethod
            def configure(cls, value):
                cls.default = value
        """,
        """
        import functools

        def decorate(fn):
            fn.__doc__ = "wrapped"
            fn.__wrapped__ = fn
            setattr(fn, "__qualname__", "decorated")
            return fn
        """,
        """
        import copy, dataclasses

        def rename(user, config):
            user = copy.copy(user)
            user.name = "anonymous"
            config = dataclasses.replace(config)
            config.debug = True
            return user, config
        """,
        """
        def build():
            user = object.__new__(object)
            user.name = "local objects are fine"
        """,
        """
        def collect(out, acc_total, memo):
            out.value = 1
            acc_total.count = 2
            memo.hit = True
        """,
        """
        from dataclasses import dataclass

        @dataclass(frozen=True)
        class Point:
            x: int

        def move(point: Point, step: int):
            return Point(point.x + step)
        """,
        """
        def only_reads(user):
            return user.name.upper()
        """,
        """
        def args(*args, **kwargs):
            kwargs["extra"] = 1
            return args
        """,
    )

    FIXED = (
        FixExample(
            """
            from collections import Counter

            def annotate(counts: Counter[str], source):
                counts.source = source
            """,
            """
            import copy
            from collections import Counter

            def annotate(counts: Counter[str], source):
                counts = copy.copy(counts)
                counts.source = source
            """,
            unsafe=True,
        ),
    )
