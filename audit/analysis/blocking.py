"""Which calls block: the blocking callable a call reaches, as a fact the BLK rules claim.

Shared by the calls made on the event loop (BLK100, BLK101 and BLK104 each claim the facts
they report) and by the interprocedural pass (blocking calls inside sync helpers are the
leaves of BLK103 chains). Nothing here knows a rule code.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from audit.analysis.names import string_value
from audit.analysis.values import CallTarget, FunctionTarget, Instance, MethodTarget
from audit.catalogue import Catalogue, Family, Heuristic
from audit.core.settings import AnalysisSettings


@dataclass(frozen=True)
class BlockingCall:
    """A call that blocks.

    `callee` is the callable reached (`time.sleep`, `sqlite3.Connection.execute`);
    `family` the catalogue's category for it (reason, alternative, replacements);
    `configured` the alternative the project configured for it (`""`: none given);
    `receiver` the object a blocking method is called on, whose `origin` says how its type
    was found; `heuristic` the catalogue's guess when that type is unknown; `spelled` when
    the callable was matched by its spelling alone (its root is bound nowhere in the file).
    """

    callee: str
    family: Family | None = None
    configured: str | None = None
    receiver: Instance | None = None
    heuristic: Heuristic | None = None
    spelled: bool = False  # matched by spelling: the name's root is bound nowhere in the file

    @property
    def is_method(self) -> bool:
        """Called on an object (`conn.execute()`), not as a function (`time.sleep()`)."""
        return self.receiver is not None or self.heuristic is not None


def classify(
    call: cst.Call,
    target: CallTarget | None,
    awaited: bool,
    *,
    catalogue: Catalogue,
    settings: AnalysisSettings,
    imports: frozenset[str],
) -> BlockingCall | None:
    """The blocking callable this call reaches directly, if any.

    An awaited method call is never blocking: whatever its annotation says, the object is
    async. `imports` are the packages the module imports (for catalogue heuristics).
    """
    if isinstance(target, FunctionTarget):
        if target.local:
            return None
        family = catalogue.function_family(target.qualified)
        configured = settings.blocking.get(target.qualified)
        if family is None and configured is None:
            return None
        return BlockingCall(target.qualified, family, configured, spelled=target.spelled)
    if awaited:
        return None
    if isinstance(target, MethodTarget):
        if target.instance.local:
            return None
        family = catalogue.method_family(target.instance.type, target.method)
        if family is not None and _asks_not_to_block(call, catalogue, target):
            return None
        configured = settings.blocking.get(target.qualified)
        if family is None and configured is None:
            return None
        return BlockingCall(target.qualified, family, configured, target.instance)
    return _heuristic(call, catalogue, imports)


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
) -> BlockingCall | None:
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
            return BlockingCall(heuristic.method, heuristic.family, heuristic=heuristic)
    return None
