"""One traversal of a libcst module: scopes, bindings, where each binding and call is in the
control flow, and what local names hold; everything else is told to recorders.

libcst's own visitor rebuilds every node it passes and visits whitespace; on a 140k-line
corpus that costs 4.5 s. This walker follows only the fields that can hold code (about a third
of the nodes) and dispatches on the node's type, which brings the traversal to well under a
second. Formatting fields (whitespace, commas, parentheses) are skipped by name.

The core owns what every fact needs (the scope model, the points that make name lookups
flow-sensitive, the alias flow, which branches can run at all) and tells the recorders it is
given about the code it passes (`recorder.Recorder`): each recorder owns one kind of fact.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Final, cast

import libcst as cst

from audit.analysis.constants import ConditionReader, Truth
from audit.analysis.flow import NO_FLOW, AliasFlow, Snapshot
from audit.analysis.model import (
    Binding,
    BindingKind,
    CallPlace,
    CallSite,
    ClassInfo,
    FunctionInfo,
    GuardKind,
    ImportRecord,
    ModuleModel,
    Parameter,
    Point,
    Scope,
    ScopeKind,
)
from audit.analysis.names import dotted_name
from audit.analysis.recorder import HOOKS, FlowRecorder, Recorder
from audit.catalogue import Catalogue, default_catalogue

_FORMATTING_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "newline",
        "trailing_whitespace",
        "equal",
        "colon",
        "dot",
        "indent",
        "asynchronous",
        "relative",
        "lbrace",
        "rbrace",
        "lbracket",
        "rbracket",
        "operator",
        "star",
        "default_indent",
        "default_newline",
        "encoding",
    }
)


@cache
def _code_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    """The fields of a node type that can contain code, in source order."""
    return tuple(
        f.name
        for f in dataclasses.fields(node_type)
        if f.name not in _FORMATTING_FIELDS
        and not f.name.startswith("whitespace")
        and f.type not in (str, "str")
    )


_NODE, _SEQUENCE, _OTHER = 1, 2, 0


def _kind(value_type: type) -> int:
    """Whether a field value of this type is a node, a sequence of nodes or neither (each
    walker memoises it: an `isinstance` against libcst's abstract base class costs an ABC
    check)."""
    if issubclass(value_type, cst.CSTNode):
        return _NODE
    if issubclass(value_type, (list, tuple)):
        return _SEQUENCE
    return _OTHER


_Handler = Callable[["ModuleWalker", cst.CSTNode], None]


class _Fresh:
    """The names now hold new objects: nothing the function was given."""

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        for name in names:
            flow.forget(name)


class _Kept:
    """The names keep what they held (`x += y` rebinds x to the same list)."""

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        return None


@dataclass(frozen=True)
class _Assigned:
    """The names hold what `value` holds (unpacked element by element)."""

    value: cst.BaseExpression

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        flow.assign(target, self.value)


@dataclass(frozen=True)
class _Iterated:
    """The names hold the items of `iterable` (a `for` or comprehension target)."""

    iterable: cst.BaseExpression

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        flow.bind_iteration(target, self.iterable)


_Holds = _Fresh | _Kept | _Assigned | _Iterated
FRESH, KEPT = _Fresh(), _Kept()

_CURRENT = ConditionReader((sys.version_info.major, sys.version_info.minor), sys.platform)
_FlowSnapshot = tuple[Snapshot, tuple[object, ...]] | None


class _Hooks:
    """The recorders' hooks, by name: only those a recorder overrides."""

    def __init__(self, recorders: Sequence[Recorder]) -> None:
        for name in HOOKS:
            hooks = [
                getattr(recorder, name)
                for recorder in recorders
                if getattr(type(recorder), name) is not getattr(Recorder, name)
            ]
            setattr(self, name, tuple(hooks))

    def __getattr__(self, name: str) -> tuple[Callable[..., None], ...]:
        raise AttributeError(name)  # every hook name is set in __init__


class ModuleWalker:
    """Builds a `ModuleModel` in a single pass over the tree, telling `recorders` about it."""

    def __init__(
        self,
        module_name: str,
        is_package: bool,
        conditions: ConditionReader = _CURRENT,
        recorders: Sequence[type[Recorder]] = (),
        catalogue: Catalogue | None = None,
    ) -> None:
        self.module_name = module_name
        self.is_package = is_package
        self.conditions = conditions
        self.catalogue = catalogue or default_catalogue()
        self.scope = Scope(ScopeKind.MODULE, module_name, "", None)
        self.model = ModuleModel(module_name, self.scope)
        self.flow: AliasFlow = NO_FLOW
        self.recorders = tuple(recorder(self) for recorder in recorders)
        self._flow_recorders = tuple(r for r in self.recorders if isinstance(r, FlowRecorder))
        hooks = _Hooks(self.recorders)
        self._call_hooks: tuple[Callable[[CallSite], None], ...] = hooks.call
        self._called_hooks: tuple[Callable[[cst.Call], None], ...] = hooks.called
        self._looked_into: tuple[Callable[[cst.Call], None], ...] = hooks.looked_into
        self._hooks = hooks
        self._statement: int | None = None  # index of the top-level simple statement
        self._place = CallPlace.BODY  # where calls being visited now are written
        self._typing_only = False  # in `if TYPE_CHECKING:`: names count, calls never run
        self._kinds: dict[type, int] = {}
        self._order = 0  # bindings and calls seen so far
        self._regions: tuple[int, ...] = ()  # branches, loops and handlers around here
        self._loops: frozenset[int] = frozenset()
        self._next_region = 0

    def run(self, module: cst.Module) -> ModuleModel:
        for index, statement in enumerate(module.body):
            simple = isinstance(statement, cst.SimpleStatementLine)
            self._statement = index if simple else None
            self.visit(statement)
        self._statement = None
        return self.model

    def recorded(self) -> dict[type[Recorder], Recorder]:
        return {type(recorder): recorder for recorder in self.recorders}

    # -- traversal -----------------------------------------------------------------------

    def visit(self, node: cst.CSTNode) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            self.visit_children(node)
        else:
            handler(self, node)

    def visit_children(self, node: cst.CSTNode) -> None:
        kinds = self._kinds
        for name in _code_fields(type(node)):
            value = getattr(node, name)
            kind = kinds.get(type(value))
            if kind is None:
                kind = kinds[type(value)] = _kind(type(value))
            if kind == _NODE:
                self.visit(value)
            elif kind == _SEQUENCE:
                for item in value:
                    item_kind = kinds.get(type(item))
                    if item_kind is None:
                        item_kind = kinds[type(item)] = _kind(type(item))
                    if item_kind == _NODE:
                        self.visit(item)

    def visit_optional(self, node: cst.CSTNode | None) -> None:
        if node is not None:
            self.visit(node)

    @contextmanager
    def guarded(self, kind: GuardKind, decided_by: cst.CSTNode | None) -> Iterator[None]:
        """Code visited inside runs only on a condition: a region of its own."""
        regions, loops = self._regions, self._loops
        self._next_region += 1
        self._regions = (*regions, self._next_region)
        if kind in (GuardKind.LOOP, GuardKind.WHILE):
            self._loops = loops | {self._next_region}
        for hook in self._hooks.region_entered:
            hook(kind, decided_by)
        try:
            yield
        finally:
            self._regions, self._loops = regions, loops
            for left in self._hooks.region_left:
                left()

    def _point(self) -> Point:
        self._order += 1
        return Point(self._order, self._regions, self._loops)

    def visit_guarded(
        self, node: cst.CSTNode | None, kind: GuardKind, decided_by: cst.CSTNode | None
    ) -> None:
        if node is not None:
            with self.guarded(kind, decided_by):
                self.visit(node)

    def _block(self, node: cst.IndentedBlock) -> None:
        hooks = self._hooks
        for entered in hooks.block_entered:
            entered()
        try:
            for statement in node.body:
                self.visit(statement)
                for walked in hooks.statement_walked:
                    walked(statement)
        finally:
            for left in hooks.block_left:
                left()

    def _iterates(self, expr: cst.BaseExpression) -> None:
        for hook in self._hooks.iterates:
            hook(expr)

    # -- the flow: the alias flow and the recorders whose state follows branches ----------

    def _snapshot(self) -> _FlowSnapshot:
        aliases = self.flow.snapshot()
        if aliases is None:
            return None
        return aliases, tuple(recorder.snapshot() for recorder in self._flow_recorders)

    def _restore(self, snapshot: _FlowSnapshot) -> None:
        self.flow.restore(snapshot[0] if snapshot is not None else None)
        for index, recorder in enumerate(self._flow_recorders):
            recorder.restore(snapshot[1][index] if snapshot is not None else None)

    def _merge(self, *snapshots: _FlowSnapshot) -> None:
        """Continue with what any of the given paths (and the current one) may hold."""
        live = [s for s in (*snapshots, self._snapshot()) if s is not None]
        if not live:
            self._restore(None)
            return
        self.flow.join([aliases for aliases, _ in live])
        for index, recorder in enumerate(self._flow_recorders):
            recorder.join([states[index] for _, states in live])

    # -- scopes --------------------------------------------------------------------------

    def _child_scope(self, kind: ScopeKind, name: str, *, is_async: bool = False) -> Scope:
        parent = self.scope
        return Scope(kind, name, parent.child_qualname(name), parent, is_async=is_async)

    def _binding_scope(self, name: str, *, walrus: bool) -> Scope:
        """The scope a store to `name` binds in: `global` declarations send it to the
        module, and an assignment expression in a comprehension binds in the scope that
        contains the comprehension."""
        scope = self.scope
        if walrus:
            while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
                scope = scope.parent
        if name in scope.declared_global:
            return self.model.module_scope
        return scope

    # -- bindings: the one place a name is bound -------------------------------------------

    def bind_name(self, name: str, kind: BindingKind, *, imported: str | None = None) -> None:
        """Bind a name to something new (an import, a `def`, a class)."""
        self._record(Binding(name, kind, self.scope, target=imported))
        self.flow.forget(name)

    def bind(
        self,
        target: cst.BaseExpression,
        kind: BindingKind,
        holds: _Holds,
        *,
        value: cst.BaseExpression | None = None,
        annotation: cst.BaseExpression | None = None,
        statement: cst.CSTNode | None = None,
        walrus: bool = False,
    ) -> None:
        """Bind an assignment target (names, unpacked, or attributes and items): the scope
        model records each binding and the alias flow learns what the names now hold,
        together. `statement` is the assignment that writes attribute and item targets (a
        write to an object the function may have been given)."""
        names = self._bind_structure(target, kind, value, annotation, walrus)
        if statement is not None:
            for stores in self._hooks.stores:
                stores(target, statement)
        holds.apply(self.flow, target, names)

    def _bind_structure(
        self,
        target: cst.BaseExpression,
        kind: BindingKind,
        value: cst.BaseExpression | None,
        annotation: cst.BaseExpression | None,
        walrus: bool,
    ) -> list[str]:
        """Record the binding of every name in `target` (unpacked names get no value);
        return the names bound."""
        if isinstance(target, cst.Name):
            binding = Binding(target.value, kind, self.scope, value=value, annotation=annotation)
            self._record(binding, walrus=walrus)
            return [target.value]
        if isinstance(target, (cst.Tuple, cst.List)):
            items = _paired(target, value) if kind is BindingKind.ASSIGN else None
            return [
                name
                for index, element in enumerate(target.elements)
                for name in self._bind_structure(
                    element.value,
                    BindingKind.ASSIGN if items is not None else BindingKind.OTHER,
                    items[index] if items is not None else None,
                    None,
                    walrus,
                )
            ]
        if isinstance(target, cst.StarredElement):
            return self._bind_structure(target.value, BindingKind.OTHER, None, None, walrus)
        self.visit(target)
        self._record_attribute_store(target, value, annotation)
        return []

    def _record(self, binding: Binding, *, walrus: bool = False, into: Scope | None = None) -> None:
        """The one place a binding enters the scope model: in `into`, or in the scope a
        store to its name binds in from here."""
        scope = into if into is not None else self._binding_scope(binding.name, walrus=walrus)
        scope.bind(replace(binding, point=self._point()))

    def _record_attribute_store(
        self,
        target: cst.BaseExpression,
        value: cst.BaseExpression | None,
        annotation: cst.BaseExpression | None,
    ) -> None:
        """Remember `self.x = value` so `self.x.method()` can be typed later."""
        if not isinstance(target, cst.Attribute) or not isinstance(target.value, cst.Name):
            return
        function = self.scope
        if function.kind is not ScopeKind.FUNCTION:
            return
        owner = function.parent
        if owner is None or owner.class_info is None:
            return
        receiver = function.bindings.get(target.value.value)
        if not receiver or not receiver[0].is_self:
            return
        owner.class_info.add_attribute(
            Binding(
                target.attr.value,
                BindingKind.ANNOTATED if annotation is not None else BindingKind.ASSIGN,
                function,
                value=value,
                annotation=annotation,
            )
        )

    # -- imports -------------------------------------------------------------------------

    def _import(self, node: cst.Import) -> None:
        bound_names = []
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            self.model.imported.add(full)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
                self.bind_name(bound, BindingKind.IMPORT, imported=full)
            else:
                bound = full.split(".", 1)[0]
                self.bind_name(bound, BindingKind.IMPORT, imported=bound)
            bound_names.append((bound, full if alias.asname is not None else bound))
        self._record_import(node, bound_names)

    def _import_from(self, node: cst.ImportFrom) -> None:
        base = dotted_name(node.module) if node.module is not None else ""
        if base is None:
            return
        level = len(node.relative)
        if level:
            package = self.module_name if self.is_package else self.module_name.rpartition(".")[0]
            for _ in range(level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base and package else (base or package)
        self.model.imported.add(base)
        if isinstance(node.names, cst.ImportStar):
            self.model.star_imports.append(base)
            self._record_import(node, [])
            return
        bound_names = []
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            full = f"{base}.{name}" if base else name
            self.model.imported.add(full)
            bound = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
            self.bind_name(bound, BindingKind.IMPORT, imported=full)
            bound_names.append((bound, full))
        self._record_import(node, bound_names)

    def _record_import(
        self, node: cst.Import | cst.ImportFrom, bound: list[tuple[str, str]]
    ) -> None:
        top_level = self.scope is self.model.module_scope and self._statement is not None
        record = ImportRecord(node, tuple(bound), self._statement if top_level else None)
        for imported in self._hooks.imported:
            imported(record)

    # -- definitions ---------------------------------------------------------------------

    def _function_def(self, node: cst.FunctionDef) -> None:
        outer_place, self._place = self._place, CallPlace.DEFINITION
        for decorator in node.decorators:
            self.model.decorators.append((decorator, self.scope))
            self.visit(decorator.decorator)
        self._visit_parameter_expressions(node.params)
        if node.returns is not None:
            self.model.annotations.append((node.returns.annotation, self.scope))
            self.visit(node.returns.annotation)
        self._place = outer_place
        self.bind_name(node.name.value, BindingKind.DEF)
        scope = self._child_scope(
            ScopeKind.FUNCTION, node.name.value, is_async=node.asynchronous is not None
        )
        receiver = _receiver_kind(node) if self.scope.class_info is not None else None
        self._enter_function(scope, node, receiver)

    def _lambda(self, node: cst.Lambda) -> None:
        outer_place, self._place = self._place, CallPlace.DEFINITION
        self._visit_parameter_expressions(node.params)
        self._place = outer_place
        self._enter_function(self._child_scope(ScopeKind.LAMBDA, "<lambda>"), node, None)

    def _enter_function(
        self, scope: Scope, node: cst.FunctionDef | cst.Lambda, receiver: str | None
    ) -> None:
        owner, outer_flow, outer_place = self.scope, self.flow, self._place
        parameters = self._bind_parameters(scope, owner, node.params, receiver)
        info = FunctionInfo(scope, node, parameters)
        self.model.functions.append(info)
        self.scope, self.flow = scope, AliasFlow.for_parameters(parameters)
        self._place = CallPlace.BODY
        for entered in self._hooks.function_entered:
            entered(info)
        try:
            self.visit(node.body)
        finally:
            for left in self._hooks.function_left:
                left(info)
            self.scope, self.flow, self._place = owner, outer_flow, outer_place

    def _visit_parameter_expressions(self, params: cst.Parameters) -> None:
        """Defaults and annotations are evaluated where the function is defined."""
        for param in _all_params(params):
            if param.default is not None:
                self.visit(param.default)
            if param.annotation is not None:
                self.model.annotations.append((param.annotation.annotation, self.scope))
                self.visit(param.annotation.annotation)

    def _bind_parameters(
        self, scope: Scope, owner: Scope, params: cst.Parameters, receiver: str | None
    ) -> dict[str, Parameter]:
        """Bind every parameter in the function's scope (its annotation is read where the
        function is defined); return those the mutation rules check, whose names the
        function's alias flow starts from."""
        positional = [*params.posonly_params, *params.params]
        first = positional[0] if positional else None
        variadic = {id(params.star_arg), id(params.star_kwarg)}
        # A plain function whose first parameter is `self` or `cls` is a method bound later
        # (`setattr(cls, name, classmethod(fn))`): its receiver is not checked either.
        unchecked_first = receiver is not None or (
            first is not None and first.name.value in ("self", "cls")
        )
        checked: dict[str, Parameter] = {}
        for param in _all_params(params):
            annotation = param.annotation.annotation if param.annotation is not None else None
            is_receiver = param is first and receiver is not None
            binding = Binding(
                param.name.value,
                BindingKind.PARAM,
                owner,
                annotation=annotation,
                is_self=is_receiver and receiver == "self",
                is_cls=is_receiver and receiver == "cls",
            )
            self._record(binding, into=scope)
            if not (param is first and unchecked_first) and id(param) not in variadic:
                checked[param.name.value] = Parameter(param.name.value, annotation, param.default)
        return checked

    def _class_def(self, node: cst.ClassDef) -> None:
        outer_place, self._place = self._place, CallPlace.DEFINITION
        for decorator in node.decorators:
            self.model.decorators.append((decorator, self.scope))
            self.visit(decorator.decorator)
        for arg in (*node.bases, *node.keywords):
            self.visit(arg.value)
        self._place = outer_place
        self.bind_name(node.name.value, BindingKind.CLASS)
        owner, outer_flow = self.scope, self.flow
        scope = self._child_scope(ScopeKind.CLASS, node.name.value)
        info = ClassInfo(scope.qualname, scope, node)
        scope.class_info = info
        self.model.classes[scope.qualname] = info
        self.scope, self.flow = scope, NO_FLOW
        for entered in self._hooks.class_entered:
            entered()
        try:
            self.visit(node.body)
        finally:
            for left in self._hooks.class_left:
                left()
            self.scope, self.flow = owner, outer_flow
        for bindings in scope.bindings.values():
            for binding in bindings:
                if binding.kind in (BindingKind.ASSIGN, BindingKind.ANNOTATED):
                    info.add_attribute(binding)

    def _comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> None:
        first: cst.CompFor = node.for_in
        self.visit(first.iter)
        self._iterates(first.iter)
        owner = self.scope
        saved = self.flow.snapshot()
        scope = self.scope = self._child_scope(ScopeKind.COMPREHENSION, "<comprehension>")
        try:
            with self.guarded(GuardKind.LOOP, first.iter):
                clause: cst.CompFor | None = first
                while clause is not None:
                    if clause is not first:
                        self.visit(clause.iter)
                        self._iterates(clause.iter)
                    self.bind(clause.target, BindingKind.OTHER, _Iterated(clause.iter))
                    for condition in clause.ifs:
                        self.visit(condition.test)
                    clause = clause.inner_for_in
                if isinstance(node, cst.DictComp):
                    self.visit(node.key)
                    self.visit(node.value)
                else:
                    self.visit(node.elt)
        finally:
            self.scope = owner
            # The comprehension's own variables end with it; an assignment expression in
            # it bound a name of the enclosing function, which keeps what it holds.
            self.flow.restore_names(saved, scope.bindings)

    # -- statements that bind ------------------------------------------------------------

    def _assign(self, node: cst.Assign) -> None:
        self.visit(node.value)
        if any(isinstance(t.target, (cst.Tuple, cst.List)) for t in node.targets):
            self._iterates(node.value)
        for target in node.targets:
            self.bind(
                target.target,
                BindingKind.ASSIGN,
                _Assigned(node.value),
                value=node.value,
                statement=node,
            )

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        annotation = node.annotation.annotation
        self.model.annotations.append((annotation, self.scope))
        self.visit(annotation)
        self.visit_optional(node.value)
        holds: _Holds = _Assigned(node.value) if node.value is not None else KEPT
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
            self.bind(node.target, BindingKind.OTHER, _Iterated(node.iter))
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
                self.bind(target, kind, _Assigned(item.item), value=item.item)
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
                _Assigned(node.value),
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

    # -- expressions ---------------------------------------------------------------------

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
        self.visit_guarded(node.right, GuardKind.OPERAND, node.left)

    def _if_exp(self, node: cst.IfExp) -> None:
        truth = self.conditions.truth(node.test)
        if truth is Truth.TRUE:
            self.visit(node.body)
        elif truth is Truth.FALSE:
            self.visit(node.orelse)
        else:
            self.visit(node.test)
            self.visit_guarded(node.body, GuardKind.BRANCH, node.test)
            self.visit_guarded(node.orelse, GuardKind.BRANCH, node.test)

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


def _paired(
    target: cst.Tuple | cst.List, value: cst.BaseExpression | None
) -> list[cst.BaseExpression] | None:
    """`a, b = x, y` binds `a` to `x` and `b` to `y` (no starred element on either side)."""
    if not isinstance(value, (cst.Tuple, cst.List)) or len(value.elements) != len(target.elements):
        return None
    elements = [*target.elements, *value.elements]
    if any(isinstance(element, cst.StarredElement) for element in elements):
        return None
    return [element.value for element in value.elements]


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def _receiver_kind(node: cst.FunctionDef) -> str | None:
    """How the first parameter of a method is bound: "self", "cls" or None (static)."""
    for decorator in node.decorators:
        name = dotted_name(decorator.decorator)
        if name is None:
            continue
        last = name.rpartition(".")[2]
        if last == "staticmethod":
            return None
        if last == "classmethod":
            return "cls"
    if node.name.value in ("__new__", "__init_subclass__", "__class_getitem__"):
        return "cls"
    return "self"


def _handlers() -> dict[type[cst.CSTNode], _Handler]:
    """The walker's dispatch table, by exact node type (so each handler only ever
    receives its own node type)."""
    table: dict[type[cst.CSTNode], Callable[[ModuleWalker, Any], None]] = {
        cst.Import: ModuleWalker._import,
        cst.ImportFrom: ModuleWalker._import_from,
        cst.FunctionDef: ModuleWalker._function_def,
        cst.Lambda: ModuleWalker._lambda,
        cst.ClassDef: ModuleWalker._class_def,
        cst.ListComp: ModuleWalker._comprehension,
        cst.SetComp: ModuleWalker._comprehension,
        cst.GeneratorExp: ModuleWalker._comprehension,
        cst.DictComp: ModuleWalker._comprehension,
        cst.Assign: ModuleWalker._assign,
        cst.AnnAssign: ModuleWalker._ann_assign,
        cst.AugAssign: ModuleWalker._aug_assign,
        cst.For: ModuleWalker._for,
        cst.With: ModuleWalker._with,
        cst.ExceptHandler: ModuleWalker._except_handler,
        cst.ExceptStarHandler: ModuleWalker._except_handler,
        cst.NamedExpr: ModuleWalker._named_expr,
        cst.Global: ModuleWalker._global,
        cst.Nonlocal: ModuleWalker._global,
        cst.Del: ModuleWalker._del,
        cst.While: ModuleWalker._while,
        cst.If: ModuleWalker._if,
        cst.Try: ModuleWalker._try,
        cst.TryStar: ModuleWalker._try,
        cst.Match: ModuleWalker._match,
        cst.Return: ModuleWalker._leave,
        cst.Raise: ModuleWalker._leave,
        cst.MatchAs: ModuleWalker._match_capture,
        cst.MatchStar: ModuleWalker._match_capture,
        cst.MatchMapping: ModuleWalker._match_mapping,
        cst.Call: ModuleWalker._call,
        cst.Attribute: ModuleWalker._attribute,
        cst.Subscript: ModuleWalker._subscript,
        cst.Await: ModuleWalker._await,
        cst.IndentedBlock: ModuleWalker._block,
        cst.BooleanOperation: ModuleWalker._boolean,
        cst.IfExp: ModuleWalker._if_exp,
        cst.Yield: ModuleWalker._yield,
        cst.StarredElement: ModuleWalker._starred,
    }
    return cast(dict[type[cst.CSTNode], _Handler], table)


# Built once, never changed (typed read-only); a plain dict's lookup is the fastest.
_HANDLERS: Final[Mapping[type[cst.CSTNode], _Handler]] = _handlers()
