"""Is this call a blocking one? Shared by BLK100/BLK101/BLK104 (calls on the event loop)
and by the interprocedural pass (blocking calls inside sync helpers)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from audit.analysis.names import string_value
from audit.analysis.resolve import CallTarget, FunctionTarget, Instance, MethodTarget
from audit.analysis.settings import AnalysisSettings
from audit.catalogue import Catalogue, Heuristic


@dataclass(frozen=True)
class BlockingMatch:
    """Why a call blocks: `code` is the rule that reports it on the event loop."""

    code: str
    target: str
    reason: str
    alternative: str
    receiver: Instance | None = None
    heuristic: Heuristic | None = None


CONFIGURED_REASON = "is configured as blocking in [tool.soni-audit]"


def classify(
    call: cst.Call,
    target: CallTarget | None,
    awaited: bool,
    *,
    catalogue: Catalogue,
    settings: AnalysisSettings,
    imports: frozenset[str],
) -> BlockingMatch | None:
    """The blocking callable this call reaches directly, if any.

    An awaited method call is never blocking: whatever its annotation says, the object is
    async. `imports` are the packages the module imports (for catalogue heuristics).
    """
    if isinstance(target, FunctionTarget):
        if target.local:
            return None
        family = catalogue.function_family(target.qualified)
        if family is not None:
            return BlockingMatch("BLK100", target.qualified, family.reason, family.alternative)
        return _configured(target.qualified, settings)
    if awaited:
        return None
    if isinstance(target, MethodTarget):
        if target.instance.local:
            return None
        family = catalogue.method_family(target.instance.type, target.method)
        if family is not None:
            if _asks_not_to_block(call, catalogue, target):
                return None
            return BlockingMatch(
                "BLK101", target.qualified, family.reason, family.alternative, target.instance
            )
        return _configured(target.qualified, settings)
    return _heuristic(call, catalogue, imports)


def _configured(qualified: str, settings: AnalysisSettings) -> BlockingMatch | None:
    alternative = settings.blocking.get(qualified)
    if alternative is None:
        return None
    return BlockingMatch("BLK104", qualified, CONFIGURED_REASON, alternative)


def _asks_not_to_block(call: cst.Call, catalogue: Catalogue, target: MethodTarget) -> bool:
    """`queue.get(block=False)`, `lock.acquire(False)`: the caller opted out of waiting."""
    blocking_type = catalogue.type_named(target.instance.type)
    keyword = blocking_type.nonblocking.get(target.method) if blocking_type else None
    if keyword is None:
        return False
    for position, arg in enumerate(call.args):
        named = arg.keyword.value if arg.keyword is not None else None
        if (named == keyword or (named is None and position == 0 and not arg.star)) and (
            isinstance(arg.value, cst.Name) and arg.value.value == "False"
        ):
            return True
    return False


def _heuristic(
    call: cst.Call, catalogue: Catalogue, imports: frozenset[str]
) -> BlockingMatch | None:
    func = call.func
    if not isinstance(func, cst.Attribute) or not call.args:
        return None
    for heuristic in catalogue.heuristics:
        if func.attr.value != heuristic.method:
            continue
        first = string_value(call.args[0].value)
        if first is None or first.lower() not in heuristic.first_argument:
            continue
        if heuristic.when_module_imports in imports:
            family = heuristic.family
            return BlockingMatch(
                "BLK101", heuristic.method, family.reason, family.alternative, heuristic=heuristic
            )
    return None
