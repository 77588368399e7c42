"""The walk of expressions that matter to facts: calls (each a `CallSite` at its point),
`await`, attribute and item reads of a call's value, unpacking, `yield`, and the operators
that evaluate an operand only on a condition."""

from __future__ import annotations

import libcst as cst

from audit.analysis.constants import Truth
from audit.analysis.model import (
    CallSite,
    GuardKind,
    Scope,
    ScopeKind,
)
from audit.analysis.walk.core import WalkCore


class Expressions(WalkCore):
    def _call(self, node: cst.Call) -> None:
        func = node.func
        if not self._typing_only:
            site = CallSite(node, self.scope, self._place, self._point())
            self.model.calls.append(site)
            self.model.sites[id(node)] = site
            for hook in self._call_hooks:
                hook(site)
        if type(func) is cst.Call:
            for looked_into in self._looked_into:
                looked_into(func)
        self.visit(func)
        for arg in node.args:
            self.visit(arg.value)
        for called in self._called_hooks:
            called(node)

    def _boolean(self, node: cst.BooleanOperation) -> None:
        self.visit(node.left)
        kind = GuardKind.OPERAND if isinstance(node.operator, cst.And) else GuardKind.ALTERNATIVE
        self.visit_guarded(node.right, kind, node.left)

    def _if_exp(self, node: cst.IfExp) -> None:
        truth = self.conditions.truth(node.test)
        if truth is Truth.TRUE:
            self.visit(node.body)
        elif truth is Truth.FALSE:
            self.visit(node.orelse)
        else:
            self.visit(node.test)
            self.visit_guarded(node.body, GuardKind.BRANCH, node.test)
            self.visit_guarded(node.orelse, GuardKind.BRANCH_ELSE, node.test)

    def _starred(self, node: cst.StarredElement) -> None:
        """`[*f()]`, `(*f(), x)`: unpacking iterates."""
        self.visit(node.value)
        self._iterates(node.value)

    def _yield(self, node: cst.Yield) -> None:
        scope: Scope | None = self.scope
        while scope is not None and scope.kind is ScopeKind.COMPREHENSION:
            scope = scope.parent
        if scope is not None and scope.kind in (ScopeKind.FUNCTION, ScopeKind.LAMBDA):
            scope.is_generator = True
        value = node.value
        if isinstance(value, cst.From):
            self.visit(value.item)
            self._iterates(value.item)
        else:
            self.visit_optional(value)

    def _attribute(self, node: cst.Attribute) -> None:
        value = node.value
        if type(value) is cst.Call:
            for looked_into in self._looked_into:
                looked_into(value)
        self.visit(value)  # the attribute's name holds no code

    def _subscript(self, node: cst.Subscript) -> None:
        if type(node.value) is cst.Call:
            for looked_into in self._looked_into:
                looked_into(node.value)
        self.visit_children(node)

    def _await(self, node: cst.Await) -> None:
        for awaiting in self._hooks.awaiting:
            awaiting(node)
        self.visit(node.expression)
        for awaited in self._hooks.awaited:
            awaited(node)
