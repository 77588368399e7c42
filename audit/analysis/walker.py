"""One traversal of a libcst module that records scopes, bindings, classes and call sites.

libcst's own visitor rebuilds every node it passes and visits whitespace; on a 140k-line
corpus that costs 4.5 s. This walker follows only the fields that can hold code (about a third
of the nodes) and dispatches on the node's type, which brings the traversal to well under a
second. Formatting fields (whitespace, commas, parentheses) are skipped by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from typing import TypeVar, cast

import libcst as cst

from audit.analysis.flow import NO_FLOW, FunctionFlow
from audit.analysis.model import (
    Binding,
    BindingKind,
    CallSite,
    ClassInfo,
    FunctionInfo,
    ModuleModel,
    Parameter,
    Scope,
    ScopeKind,
)
from audit.analysis.names import dotted_name

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
_KINDS: dict[type, int] = {}


def _kind(value_type: type) -> int:
    """Whether a field value is a node, a sequence of nodes or neither (cached: an
    `isinstance` against libcst's abstract base class costs an ABC check every time)."""
    kind = _KINDS.get(value_type)
    if kind is None:
        if issubclass(value_type, cst.CSTNode):
            kind = _NODE
        elif issubclass(value_type, (list, tuple)):
            kind = _SEQUENCE
        else:
            kind = _OTHER
        _KINDS[value_type] = kind
    return kind


_Handler = Callable[["ModuleWalker", cst.CSTNode], None]


class ModuleWalker:
    """Builds a `ModuleModel` in a single pass over the tree."""

    def __init__(self, module_name: str, is_package: bool) -> None:
        self.module_name = module_name
        self.is_package = is_package
        self.scope = Scope(ScopeKind.MODULE, module_name, "", None)
        self.model = ModuleModel(module_name, self.scope)
        self.flow: FunctionFlow = NO_FLOW

    def run(self, module: cst.Module) -> ModuleModel:
        for statement in module.body:
            self.visit(statement)
        return self.model

    # -- traversal -----------------------------------------------------------------------

    def visit(self, node: cst.CSTNode) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            self.visit_children(node)
        else:
            handler(self, node)

    def visit_children(self, node: cst.CSTNode) -> None:
        for name in _code_fields(type(node)):
            value = getattr(node, name)
            kind = _kind(type(value))
            if kind == _NODE:
                self.visit(value)
            elif kind == _SEQUENCE:
                for item in value:
                    if _kind(type(item)) == _NODE:
                        self.visit(item)

    def visit_optional(self, node: cst.CSTNode | None) -> None:
        if node is not None:
            self.visit(node)

    # -- scopes --------------------------------------------------------------------------

    def _child_scope(self, kind: ScopeKind, name: str, *, is_async: bool = False) -> Scope:
        parent = self.scope
        return Scope(kind, name, parent.child_qualname(name), parent, is_async=is_async)

    def _binding_scope(self, name: str) -> Scope:
        """The scope a store to `name` binds in, honouring `global` declarations."""
        if name in self.scope.declared_global:
            return self.model.module_scope
        return self.scope

    def bind(
        self,
        name: str,
        kind: BindingKind,
        *,
        target: str | None = None,
        value: cst.BaseExpression | None = None,
        annotation: cst.BaseExpression | None = None,
    ) -> None:
        scope = self._binding_scope(name)
        scope.bind(
            Binding(
                name,
                kind,
                self.scope,
                target=target,
                value=value,
                annotation=annotation,
            )
        )

    def bind_target(
        self, target: cst.BaseExpression, kind: BindingKind, value: cst.BaseExpression | None
    ) -> None:
        """Bind every name in an assignment target; unpacked names get no value."""
        if isinstance(target, cst.Name):
            self.bind(target.value, kind, value=value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind_target(element.value, BindingKind.OTHER, None)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, BindingKind.OTHER, None)
        else:
            self.visit(target)
            self._record_attribute_store(target, value, None)

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
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            self.model.imported.add(full)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
                self.bind(bound, BindingKind.IMPORT, target=full)
            else:
                bound = full.split(".", 1)[0]
                self.bind(bound, BindingKind.IMPORT, target=bound)
            self.flow.forget(bound)

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
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            full = f"{base}.{name}" if base else name
            self.model.imported.add(full)
            bound = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
            self.bind(bound, BindingKind.IMPORT, target=full)
            self.flow.forget(bound)

    # -- definitions ---------------------------------------------------------------------

    def _function_def(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            self.model.decorators.append((decorator, self.scope))
            self.visit(decorator.decorator)
        self._visit_parameter_expressions(node.params)
        if node.returns is not None:
            self.model.annotations.append((node.returns.annotation, self.scope))
            self.visit(node.returns.annotation)
        self.bind(node.name.value, BindingKind.DEF)
        self.flow.forget(node.name.value)
        scope = self._child_scope(
            ScopeKind.FUNCTION, node.name.value, is_async=node.asynchronous is not None
        )
        receiver = _receiver_kind(node) if self.scope.class_info is not None else None
        self._enter_function(scope, node, receiver)

    def _lambda(self, node: cst.Lambda) -> None:
        self._visit_parameter_expressions(node.params)
        self._enter_function(self._child_scope(ScopeKind.LAMBDA, "<lambda>"), node, None)

    def _enter_function(
        self, scope: Scope, node: cst.FunctionDef | cst.Lambda, receiver: str | None
    ) -> None:
        owner, outer_flow = self.scope, self.flow
        parameters = self._bind_parameters(scope, owner, node.params, receiver)
        info = FunctionInfo(scope, node, parameters)
        self.model.functions.append(info)
        self.scope, self.flow = scope, FunctionFlow.for_parameters(parameters)
        try:
            self.visit(node.body)
        finally:
            info.mutations = self.flow.mutations
            self.scope, self.flow = owner, outer_flow

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
        """Bind every parameter; return those the mutation rules check."""
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
            scope.bind(
                Binding(
                    param.name.value,
                    BindingKind.PARAM,
                    owner,
                    annotation=annotation,
                    is_self=is_receiver and receiver == "self",
                    is_cls=is_receiver and receiver == "cls",
                )
            )
            if not (param is first and unchecked_first) and id(param) not in variadic:
                checked[param.name.value] = Parameter(param.name.value, annotation, param.default)
        return checked

    def _class_def(self, node: cst.ClassDef) -> None:
        for decorator in node.decorators:
            self.model.decorators.append((decorator, self.scope))
            self.visit(decorator.decorator)
        for arg in (*node.bases, *node.keywords):
            self.visit(arg.value)
        self.bind(node.name.value, BindingKind.CLASS)
        self.flow.forget(node.name.value)
        owner, outer_flow = self.scope, self.flow
        scope = self._child_scope(ScopeKind.CLASS, node.name.value)
        info = ClassInfo(scope.qualname, scope, node)
        scope.class_info = info
        self.model.classes[scope.qualname] = info
        self.scope, self.flow = scope, NO_FLOW
        try:
            self.visit(node.body)
        finally:
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
        owner = self.scope
        saved = self.flow.snapshot()
        self.scope = self._child_scope(ScopeKind.COMPREHENSION, "<comprehension>")
        try:
            clause: cst.CompFor | None = first
            while clause is not None:
                if clause is not first:
                    self.visit(clause.iter)
                self.bind_target(clause.target, BindingKind.OTHER, None)
                self.flow.bind_iteration(clause.target, clause.iter)
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
            self.flow.restore(saved)

    # -- statements that bind ------------------------------------------------------------

    def _assign(self, node: cst.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.bind_target(target.target, BindingKind.ASSIGN, node.value)
            self.flow.store(target.target, node)
            self.flow.assign(target.target, node.value)

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        annotation = node.annotation.annotation
        self.model.annotations.append((annotation, self.scope))
        self.visit(annotation)
        self.visit_optional(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(
                node.target.value, BindingKind.ANNOTATED, value=node.value, annotation=annotation
            )
        else:
            self.visit(node.target)
            self._record_attribute_store(node.target, node.value, annotation)
        if node.value is not None:
            self.flow.store(node.target, node)
            self.flow.assign(node.target, node.value)

    def _aug_assign(self, node: cst.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, BindingKind.OTHER)
        else:
            self.visit(node.target)
        self.flow.augmented(node)

    def _del(self, node: cst.Del) -> None:
        self.visit(node.target)
        targets = node.target.elements if isinstance(node.target, cst.Tuple) else [node.target]
        for target in targets:
            expression = target.value if isinstance(target, cst.BaseElement) else target
            if isinstance(expression, cst.Name):
                self.flow.forget(expression.value)
            else:
                self.flow.store(expression, node)

    def _for(self, node: cst.For) -> None:
        self.visit(node.iter)
        self.bind_target(node.target, BindingKind.OTHER, None)
        before = self.flow.snapshot()
        self.flow.bind_iteration(node.target, node.iter)
        self.visit(node.body)
        self.flow.merge(before)
        self.visit_optional(node.orelse)

    def _while(self, node: cst.While) -> None:
        self.visit(node.test)
        before = self.flow.snapshot()
        self.visit(node.body)
        self.flow.merge(before)
        self.visit_optional(node.orelse)

    def _if(self, node: cst.If) -> None:
        self.visit(node.test)
        before = self.flow.snapshot()
        self.visit(node.body)
        after_body = self.flow.snapshot()
        self.flow.restore(before)
        self.visit_optional(node.orelse)
        self.flow.merge(after_body)

    def _try(self, node: cst.Try | cst.TryStar) -> None:
        before = self.flow.snapshot()
        self.visit(node.body)
        after_body = self.flow.snapshot()
        self.flow.merge(before)  # a handler may start anywhere in the body
        may_raise = self.flow.snapshot()
        self.flow.restore(after_body)
        self.visit_optional(node.orelse)
        outcomes = [self.flow.snapshot()]
        for handler in node.handlers:
            self.flow.restore(may_raise)
            self.visit(handler)
            outcomes.append(self.flow.snapshot())
        self.flow.restore(None)
        self.flow.merge(*outcomes)
        if node.finalbody is not None:
            self.visit(node.finalbody)

    def _match(self, node: cst.Match) -> None:
        self.visit(node.subject)
        before = self.flow.snapshot()
        outcomes = [before]
        for case in node.cases:
            self.flow.restore(before)
            self.visit(case)
            outcomes.append(self.flow.snapshot())
        self.flow.restore(None)
        self.flow.merge(*outcomes)

    def _with(self, node: cst.With) -> None:
        is_async = node.asynchronous is not None
        for item in node.items:
            self.visit(item.item)
            if item.asname is not None:
                if isinstance(item.asname.name, cst.Name):
                    kind = BindingKind.ASYNC_WITH if is_async else BindingKind.WITH
                    self.bind(item.asname.name.value, kind, value=item.item)
                else:
                    self.bind_target(item.asname.name, BindingKind.OTHER, None)
                self.flow.assign(item.asname.name, item.item)
        self.visit(node.body)

    def _except_handler(self, node: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
        self.visit_optional(node.type)
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.bind(node.name.name.value, BindingKind.OTHER)
            self.flow.forget(node.name.name.value)
        self.visit(node.body)

    def _named_expr(self, node: cst.NamedExpr) -> None:
        self.visit(node.value)
        if isinstance(node.target, cst.Name):
            scope = self.scope
            while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
                scope = scope.parent
            scope.bind(Binding(node.target.value, BindingKind.ASSIGN, self.scope, value=node.value))
            self.flow.assign(node.target, node.value)

    def _global(self, node: cst.Global | cst.Nonlocal) -> None:
        for item in node.names:
            if isinstance(node, cst.Global):
                self.scope.declared_global.add(item.name.value)
            self.flow.forget(item.name.value)

    def _match_capture(self, node: cst.MatchAs | cst.MatchStar) -> None:
        if node.name is not None:
            self.bind(node.name.value, BindingKind.OTHER)
            self.flow.forget(node.name.value)
        self.visit_children(node)

    def _match_mapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.bind(node.rest.value, BindingKind.OTHER)
            self.flow.forget(node.rest.value)
        self.visit_children(node)

    def _leave(self, node: cst.Return | cst.Raise) -> None:
        self.visit_children(node)
        self.flow.stop()

    # -- expressions ---------------------------------------------------------------------

    def _call(self, node: cst.Call) -> None:
        self.model.calls.append(CallSite(node, self.scope))
        self.flow.call(node)
        self.visit(node.func)
        for arg in node.args:
            self.visit(arg.value)

    def _await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.model.awaited.add(id(node.expression))
        self.visit(node.expression)


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


_HANDLERS: dict[type[cst.CSTNode], _Handler] = {}
_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)


def _register(node_type: type[_NodeT], method: Callable[[ModuleWalker, _NodeT], None]) -> None:
    # Dispatch is on the exact type, so each handler only ever receives its own node type.
    _HANDLERS[node_type] = cast(_Handler, method)


_register(cst.Import, ModuleWalker._import)
_register(cst.ImportFrom, ModuleWalker._import_from)
_register(cst.FunctionDef, ModuleWalker._function_def)
_register(cst.Lambda, ModuleWalker._lambda)
_register(cst.ClassDef, ModuleWalker._class_def)
_register(cst.ListComp, ModuleWalker._comprehension)
_register(cst.SetComp, ModuleWalker._comprehension)
_register(cst.GeneratorExp, ModuleWalker._comprehension)
_register(cst.DictComp, ModuleWalker._comprehension)
_register(cst.Assign, ModuleWalker._assign)
_register(cst.AnnAssign, ModuleWalker._ann_assign)
_register(cst.AugAssign, ModuleWalker._aug_assign)
_register(cst.For, ModuleWalker._for)
_register(cst.With, ModuleWalker._with)
_register(cst.ExceptHandler, ModuleWalker._except_handler)
_register(cst.ExceptStarHandler, ModuleWalker._except_handler)
_register(cst.NamedExpr, ModuleWalker._named_expr)
_register(cst.Global, ModuleWalker._global)
_register(cst.Nonlocal, ModuleWalker._global)
_register(cst.Del, ModuleWalker._del)
_register(cst.While, ModuleWalker._while)
_register(cst.If, ModuleWalker._if)
_register(cst.Try, ModuleWalker._try)
_register(cst.TryStar, ModuleWalker._try)
_register(cst.Match, ModuleWalker._match)
_register(cst.Return, ModuleWalker._leave)
_register(cst.Raise, ModuleWalker._leave)
_register(cst.MatchAs, ModuleWalker._match_capture)
_register(cst.MatchStar, ModuleWalker._match_capture)
_register(cst.MatchMapping, ModuleWalker._match_mapping)
_register(cst.Call, ModuleWalker._call)
_register(cst.Await, ModuleWalker._await)
