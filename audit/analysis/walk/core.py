"""The core of the walk: traversal, scopes, bindings, points, the alias flow, and the hooks
that tell recorders what the walk passes.

libcst's own visitor rebuilds every node it passes and visits whitespace; on a 140k-line
corpus that costs 4.5 s. This walker follows only the fields that can hold code (about a third
of the nodes) and dispatches on the node's type, which brings the traversal to well under a
second. Formatting fields (whitespace, commas, parentheses) are skipped by name.

The core owns what every fact needs (the scope model, the points that make name lookups
flow-sensitive, the alias flow, which branches can run at all) and tells the recorders it is
given about the code it passes (`recorder.Recorder`): each recorder owns one kind of fact.
The handlers of each kind of node live beside it (`definitions`, `statements`,
`expressions`); `walker.ModuleWalker` puts them together.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, ClassVar

import libcst as cst

from audit.analysis.constants import ConditionReader
from audit.analysis.flow import NO_FLOW, AliasFlow, Snapshot
from audit.analysis.model import (
    Binding,
    BindingKind,
    CallPlace,
    CallSite,
    GuardKind,
    ModuleModel,
    Point,
    Scope,
    ScopeKind,
)
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


def descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node and every node of code inside it, without libcst's visitor machinery (a
    generic visit rebuilds each node's children: several times slower)."""
    kinds: dict[type, int] = {}
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        for name in _code_fields(type(current)):
            value = getattr(current, name)
            kind = kinds.get(type(value))
            if kind is None:
                kind = kinds[type(value)] = _kind(type(value))
            if kind == _NODE:
                pending.append(value)
            elif kind == _SEQUENCE:
                pending.extend(item for item in value if isinstance(item, cst.CSTNode))


Handler = Callable[[Any, Any], None]  # (walker, node of the type it is registered for)


class Fresh:
    """The names now hold new objects: nothing the function was given."""

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        for name in names:
            flow.forget(name)


class Kept:
    """The names keep what they held (`x += y` rebinds x to the same list)."""

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        return None


@dataclass(frozen=True)
class Assigned:
    """The names hold what `value` holds (unpacked element by element)."""

    value: cst.BaseExpression

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        flow.assign(target, self.value)


@dataclass(frozen=True)
class Iterated:
    """The names hold the items of `iterable` (a `for` or comprehension target)."""

    iterable: cst.BaseExpression

    def apply(self, flow: AliasFlow, target: cst.BaseExpression, names: list[str]) -> None:
        flow.bind_iteration(target, self.iterable)


Holds = Fresh | Kept | Assigned | Iterated
FRESH, KEPT = Fresh(), Kept()

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


class WalkCore:
    """Builds a `ModuleModel` in a single pass over the tree, telling `recorders` about it.
    Subclasses bring the handlers (`HANDLERS`: node type -> handler)."""

    HANDLERS: ClassVar[Mapping[type[cst.CSTNode], Handler]] = {}

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
        handler = self.HANDLERS.get(type(node))
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
        holds: Holds,
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
        scope.bind(replace(binding, point=self._point(), typing_only=self._typing_only))

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
