"""The walk of what binds names to new things: imports, functions and lambdas (their
parameters, and their bodies in a flow of their own), classes, and comprehensions (a scope of
their own inside the function)."""

from __future__ import annotations

import libcst as cst

from audit.analysis.flow import NO_FLOW, AliasFlow
from audit.analysis.model import (
    Binding,
    BindingKind,
    CallPlace,
    ClassInfo,
    FunctionInfo,
    GuardKind,
    ImportRecord,
    Parameter,
    Scope,
    ScopeKind,
)
from audit.analysis.names import dotted_name
from audit.analysis.walk.core import Iterated, WalkCore


class Definitions(WalkCore):
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
                    self.bind(clause.target, BindingKind.OTHER, Iterated(clause.iter))
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
