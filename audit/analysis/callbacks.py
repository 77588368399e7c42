"""Functions handed to a caller that calls them per element (`sorted(paths,
key=os.path.getmtime)`): the handed function runs where the caller runs, once per element."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from audit.analysis.context import FileContext, LoopCall
from audit.analysis.values import FunctionTarget, Ref
from audit.catalogue import Family


@dataclass(frozen=True)
class BlockingKey:
    """A blocking function handed as `key=` to a call made on the loop."""

    call: LoopCall
    argument: cst.BaseExpression
    callee: str
    family: Family


def blocking_keys(ctx: FileContext) -> Iterator[BlockingKey]:
    catalogue = ctx.catalogue
    for call in ctx.loop_calls:
        key = next((arg.value for arg in call.node.args if _named(arg, "key")), None)
        if key is None or not _calls_key(ctx, call):
            continue
        handed = ctx.resolver.value(key, call.site.scope)
        if not isinstance(handed, Ref) or handed.local or handed.spelled:
            continue
        family = catalogue.function_family(handed.qualified)
        if family is not None:
            yield BlockingKey(call, key, handed.qualified, family)


def _named(arg: cst.Arg, name: str) -> bool:
    return arg.keyword is not None and arg.keyword.value == name


def _calls_key(ctx: FileContext, call: LoopCall) -> bool:
    target = call.target
    if isinstance(target, FunctionTarget) and not target.spelled:
        return target.qualified in ctx.catalogue.key_callers
    method = call.method
    return method is not None and method in ctx.catalogue.key_methods
