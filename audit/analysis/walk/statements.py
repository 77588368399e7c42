"""The walk of statements: assignments, deletions, loops, branches (only those that can run
on the target interpreter), `try`, `with`, `match`, and `return`/`raise` (nothing flows on)."""

from __future__ import annotations

import libcst as cst

from audit.analysis.constants import Truth
from audit.analysis.model import (
    BindingKind,
    CallPlace,
    GuardKind,
)
from audit.analysis.walk.core import FRESH, KEPT, Assigned, Holds, Iterated, WalkCore


class Statements(WalkCore):
    def _assign(self, node: cst.Assign) -> None:
        self.visit(node.value)
        if any(isinstance(t.target, (cst.Tuple, cst.List)) for t in node.targets):
            self._iterates(node.value)
        for target in node.targets:
            self.bind(
                target.target,
                BindingKind.ASSIGN,
                Assigned(node.value),
                value=node.value,
                statement=node,
            )

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        annotation = node.annotation.annotation
        self.model.annotations.append((annotation, self.scope))
        self.visit(annotation)
        self.visit_optional(node.value)
        holds: Holds = Assigned(node.value) if node.value is not None else KEPT
        self.bind(
            node.target,
            BindingKind.ANNOTATED,
            holds,
            value=node.value,
            annotation=annotation,
            statement=node if node.value is not None else None,
        )

    def _aug_assign(self, node: cst.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(node.target, BindingKind.OTHER, KEPT)
        else:
            self.visit(node.target)
        for augments in self._hooks.augments:
            augments(node)

    def _del(self, node: cst.Del) -> None:
        self.visit(node.target)
        targets = node.target.elements if isinstance(node.target, cst.Tuple) else [node.target]
        for target in targets:
            expression = target.value if isinstance(target, cst.BaseElement) else target
            if isinstance(expression, cst.Name):
                self.flow.forget(expression.value)
            else:
                for stores in self._hooks.stores:
                    stores(expression, node)

    def _for(self, node: cst.For) -> None:
        self.visit(node.iter)
        self._iterates(node.iter)
        before = self._snapshot()
        with self.guarded(GuardKind.LOOP, node.iter):
            self.bind(node.target, BindingKind.OTHER, Iterated(node.iter))
            self.visit(node.body)
            self._merge(before)
            self.visit_optional(node.orelse)

    def _while(self, node: cst.While) -> None:
        self.visit(node.test)
        truth = self.conditions.truth(node.test)
        if truth is Truth.FALSE:
            self.visit_optional(node.orelse)
            return
        before = self._snapshot()
        if truth is Truth.TRUE:
            self.visit(node.body)
        else:
            self.visit_guarded(node.body, GuardKind.WHILE, node.test)
        self._merge(before)
        self.visit_guarded(node.orelse, GuardKind.WHILE, node.test)
        for assumes in self._hooks.assumes:  # the loop ended: its test is false
            assumes(node.test, False)

    def _if(self, node: cst.If) -> None:
        truth = self.conditions.truth(node.test)
        if truth is Truth.TRUE:
            self.visit(node.body)  # the `else` cannot run on the target interpreter
            return
        if truth is Truth.FALSE:
            self.visit_optional(node.orelse)
            return
        if truth is Truth.TYPE_CHECKING:
            self._typing_block(node.body)
            self.visit_optional(node.orelse)
            return
        self.visit(node.test)
        before = self._snapshot()
        for assumes in self._hooks.assumes:
            assumes(node.test, True)
        self.visit_guarded(node.body, GuardKind.IF, node.test)
        after_body = self._snapshot()
        self._restore(before)
        for assumes in self._hooks.assumes:
            assumes(node.test, False)
        self.visit_guarded(node.orelse, GuardKind.ELSE, node.test)
        self._merge(after_body)

    def _typing_block(self, body: cst.BaseSuite) -> None:
        """`if TYPE_CHECKING:`: its imports and definitions name things for annotations,
        its calls never run."""
        before, outer = self._snapshot(), self._typing_only
        self._typing_only = True
        try:
            self.visit(body)
        finally:
            self._typing_only = outer
            self._restore(before)

    def _try(self, node: cst.Try | cst.TryStar) -> None:
        before = self._snapshot()
        for trying in self._hooks.trying:
            trying(node.handlers)
        try:
            self.visit(node.body)
        finally:
            for tried in self._hooks.tried:
                tried()
        after_body = self._snapshot()
        self._merge(before)  # a handler may start anywhere in the body
        may_raise = self._snapshot()
        self._restore(after_body)
        self.visit_optional(node.orelse)
        outcomes = [self._snapshot()]
        for handler in node.handlers:
            self._restore(may_raise)
            self.visit_guarded(handler, GuardKind.EXCEPT, handler.type)
            outcomes.append(self._snapshot())
        self._restore(None)
        self._merge(*outcomes)
        if node.finalbody is not None:
            self.visit(node.finalbody)

    def _match(self, node: cst.Match) -> None:
        self.visit(node.subject)
        before = self._snapshot()
        outcomes = [before]
        for case in node.cases:
            self._restore(before)
            self.visit_guarded(case, GuardKind.CASE, node.subject)
            outcomes.append(self._snapshot())
        self._restore(None)
        self._merge(*outcomes)

    def _with(self, node: cst.With) -> None:
        is_async = node.asynchronous is not None
        for item in node.items:
            outer_place, self._place = self._place, CallPlace.WITH_ITEM
            self.visit(item.item)
            self._place = outer_place
            if not is_async:  # entering a `@contextmanager` runs its generator to `yield`
                self._iterates(item.item)
            if item.asname is not None:
                target = item.asname.name
                kind = BindingKind.OTHER
                if isinstance(target, cst.Name):
                    kind = BindingKind.ASYNC_WITH if is_async else BindingKind.WITH
                self.bind(target, kind, Assigned(item.item), value=item.item)
        self.visit(node.body)

    def _except_handler(self, node: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
        self.visit_optional(node.type)
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.bind(node.name.name, BindingKind.OTHER, FRESH)
        self.visit(node.body)

    def _named_expr(self, node: cst.NamedExpr) -> None:
        self.visit(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(
                node.target,
                BindingKind.ASSIGN,
                Assigned(node.value),
                value=node.value,
                walrus=True,
            )

    def _global(self, node: cst.Global | cst.Nonlocal) -> None:
        for item in node.names:
            if isinstance(node, cst.Global):
                self.scope.declared_global.add(item.name.value)
            self.flow.forget(item.name.value)

    def _match_capture(self, node: cst.MatchAs | cst.MatchStar) -> None:
        if node.name is not None:
            self.bind(node.name, BindingKind.OTHER, FRESH)
        self.visit_children(node)

    def _match_mapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.bind(node.rest, BindingKind.OTHER, FRESH)
        self.visit_children(node)

    def _leave(self, node: cst.Return | cst.Raise) -> None:
        self.visit_children(node)
        for leaving in self._hooks.leaving:
            leaving(node)
        self.flow.stop()
