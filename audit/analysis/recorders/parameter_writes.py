"""Writes to objects a function's parameters reach: `p.a = v`, `p[k] = v`, `del p.a`,
`p.append(v)`, `f(p, ...)` (which function is resolved later), `p += v`, also through any
alias the alias flow knows (`x = p; x.a = v`).

Every candidate is recorded where it happens, with the alias path from the parameter; the
MUT rules judge them once names and annotations are resolved (`analysis.mutations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import libcst as cst

from audit.analysis.facts import Fact
from audit.analysis.flow import Origin, Value
from audit.analysis.model import CallSite, FunctionInfo
from audit.analysis.names import dotted_name
from audit.analysis.recorder import Recorder, Walk
from audit.analysis.writes import MutationKind
from audit.catalogue import load_data_file


@dataclass(frozen=True)
class Mutation:
    """A write to an object reachable from a parameter, recorded where it happens.

    `detail` is the attribute, method or operator; `callee` the function called (FUNCTION
    events are resolved later); `literal` what kind of literal the right-hand side of an
    augmented assignment is ("list", "set", "dict" or "")."""

    kind: MutationKind
    node: cst.CSTNode
    origin: Origin
    detail: str
    callee: cst.BaseExpression | None = None
    literal: str = ""


@cache
def _mutating_methods() -> frozenset[str]:
    data = load_data_file("mutation.toml")
    return frozenset(m for names in data["methods"].values() for m in names)


_IN_PLACE_OPERATORS = {
    cst.AddAssign: "+=",
    cst.BitOrAssign: "|=",
    cst.BitAndAssign: "&=",
    cst.SubtractAssign: "-=",
    cst.BitXorAssign: "^=",
    cst.MultiplyAssign: "*=",
}


class ParameterWrites(Recorder):
    fact = Fact.PARAMETER_WRITES

    def __init__(self, walk: Walk) -> None:
        super().__init__(walk)
        self._current: list[Mutation] = []
        self._outer: list[list[Mutation]] = []
        self._by_function: dict[int, list[Mutation]] = {}

    def mutations(self, function: FunctionInfo) -> list[Mutation]:
        """The candidate writes in a function's own body, in the order they happen (one
        write may be recorded once per way it reaches a parameter)."""
        return self._by_function.get(id(function), [])

    # -- hooks ---------------------------------------------------------------------------

    def function_entered(self, info: FunctionInfo) -> None:
        self._outer.append(self._current)
        self._current = []

    def function_left(self, info: FunctionInfo) -> None:
        self._by_function[id(info)] = self._current
        self._current = self._outer.pop()

    def call(self, site: CallSite) -> None:
        call = site.node
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _mutating_methods():
            self._record(MutationKind.METHOD, func.value, call, func.attr.value)
        # Which function this is (`heappush`, maybe imported under another name) is only
        # known once the module's imports are resolved: record every candidate.
        name = dotted_name(func)
        if name is not None and call.args:
            first = call.args[0]
            if first.keyword is None and not first.star:
                self._record(MutationKind.FUNCTION, first.value, call, name, callee=func)

    def stores(self, target: cst.BaseExpression, statement: cst.CSTNode) -> None:
        """`target = ...` or `del target` where target is an attribute or an item."""
        if isinstance(target, cst.Attribute):
            self._record(MutationKind.ATTRIBUTE, target.value, statement, target.attr.value)
        elif isinstance(target, cst.Subscript):
            self._record(MutationKind.ITEM, target.value, statement, "[]")
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.stores(element.value, statement)

    def augments(self, node: cst.AugAssign) -> None:
        operator = _IN_PLACE_OPERATORS.get(type(node.operator))
        target = node.target
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            self.stores(target, node)
        elif operator is not None and isinstance(target, cst.Name):
            literal = _literal_kind(node.value)
            self._record(MutationKind.AUGMENTED, target, node, operator, literal=literal)

    def _record(
        self,
        kind: MutationKind,
        base: cst.BaseExpression,
        node: cst.CSTNode,
        detail: str,
        *,
        callee: cst.BaseExpression | None = None,
        literal: str = "",
    ) -> None:
        flow = self.walk.flow
        if not flow.reachable:
            return
        for value in sorted(flow.value(base), key=_order):
            if isinstance(value, Origin):
                self._current.append(Mutation(kind, node, value, detail, callee, literal))


def _order(value: Value) -> tuple[str, tuple[str, ...], bool, int]:
    origin = value if isinstance(value, Origin) else value.source
    return origin.param, origin.aliases, origin.inner, len(origin.requires)


def _literal_kind(value: cst.BaseExpression) -> str:
    if isinstance(value, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(value, (cst.Set, cst.SetComp)):
        return "set"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict"
    return ""
