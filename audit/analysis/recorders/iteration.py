"""Where an iterator is iterated: a lazy callable (`os.walk(d)`) does its I/O there, not
where it is called.

Iterating is syntax (`for`, unpacking, `*it`, `yield from`, a sync `with`), a method
(`"".join(it)`), or a builtin that consumes or wraps its argument (`list(it)`,
`enumerate(it)`), spotted by name and confirmed once names are resolved. A name iterated
stands for the calls assigned to it in the same scope so far (`it = os.walk(d); for x in
it`).
"""

from __future__ import annotations

import libcst as cst

from audit.analysis.assumptions import NOTHING, Assumption, Assumptions, Requirements
from audit.analysis.facts import Fact
from audit.analysis.model import CallSite
from audit.analysis.recorder import Recorder, Walk


class Iteration(Recorder):
    fact = Fact.ITERATION

    def __init__(self, walk: Walk) -> None:
        super().__init__(walk)
        # Per call: the sets of assumptions under which it is iterated (any one suffices).
        self._iterated: dict[int, set[Requirements]] = {}

    def is_iterated(self, site: CallSite, assumptions: Assumptions) -> bool:
        ways = self._iterated.get(id(site.node))
        return ways is not None and any(assumptions.hold(way) for way in ways)

    # -- hooks ---------------------------------------------------------------------------

    def iterates(self, expr: cst.BaseExpression) -> None:
        self._mark(expr, NOTHING, set())

    def called(self, node: cst.Call) -> None:
        """Arguments the call iterates: `g(*f())`, `"".join(f())`, `list(f())`."""
        for arg in node.args:
            if arg.star == "*":
                self._mark(arg.value, NOTHING, set())
        if not node.args or node.args[0].keyword is not None:
            return
        func = node.func
        if type(func) is cst.Attribute and func.attr.value == "join":
            self._mark(node.args[0].value, NOTHING, set())
            return
        spelled = _spelled(func)
        consumers = self.walk.catalogue.consumers
        if spelled is not None and consumers.spots(spelled):
            positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
            position = consumers.position(spelled)
            if position < len(positional):
                requires = frozenset({Assumption(id(node), consumers)})
                self._mark(positional[position], requires, set())

    def _mark(self, expr: cst.BaseExpression, requires: Requirements, seen: set[int]) -> None:
        """`expr` is iterated (under `requires`): a call, through the lazy wrappers around
        it, or a name, and then every call assigned to it in this scope so far (each
        expression is followed once: `it = iter(it)` refers to itself)."""
        if id(expr) in seen:
            return
        seen.add(id(expr))
        if isinstance(expr, cst.Name):
            for binding in self.walk.scope.bindings.get(expr.value, ()):
                if isinstance(binding.value, cst.Call):
                    self._mark(binding.value, requires, seen)
            return
        if not isinstance(expr, cst.Call):
            return
        if id(expr) in self.walk.model.sites:
            self._iterated.setdefault(id(expr), set()).add(requires)
        wrappers = self.walk.catalogue.wrappers
        spelled = _spelled(expr.func)
        if spelled is not None and wrappers.spots(spelled):
            wrapped = requires | {Assumption(id(expr), wrappers)}
            for arg in expr.args:
                self._mark(arg.value, wrapped, seen)


def _spelled(func: cst.BaseExpression) -> str | None:
    """The last part of a callee's spelling (`islice` in `itertools.islice`)."""
    if type(func) is cst.Name:
        return func.value
    if type(func) is cst.Attribute:
        return func.attr.value
    return None
