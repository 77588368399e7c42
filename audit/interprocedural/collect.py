"""Extract a module's interprocedural facts from the per-file analysis."""

from __future__ import annotations

import libcst as cst

from audit.analysis import prefilter
from audit.analysis.context import FileContext
from audit.analysis.facts import CALL_GRAPH, Facts
from audit.analysis.model import Binding, BindingKind, CallSite, Scope, ScopeKind
from audit.analysis.names import is_property
from audit.analysis.recorders.calls import Calls
from audit.analysis.recorders.guards import Guards
from audit.analysis.recorders.iteration import Iteration
from audit.analysis.resolve import STANDARD_LIBRARY
from audit.analysis.values import BoundMethod, FunctionTarget, Instance, MethodTarget, Ref, Value
from audit.core.facts import (
    ARGUMENT_PREFIX,
    SUPER,
    ClassFacts,
    Edge,
    FunctionFacts,
    Leaf,
    ModuleFacts,
    Offload,
)
from audit.interprocedural.arguments import Caller, parameters

NEEDS: Facts = CALL_GRAPH


def collect(ctx: FileContext) -> ModuleFacts:
    if not prefilter.has_defs(ctx.text):
        return ModuleFacts(aliases=_aliases(ctx))
    model = ctx.model
    functions = {
        id(info.scope): info for info in model.functions if isinstance(info.node, cst.FunctionDef)
    }
    edges: dict[int, list[Edge]] = {key: [] for key in functions}
    leaves: dict[int, list[Leaf]] = {key: [] for key in functions}
    offloads: dict[int, list[Offload]] = {key: [] for key in functions}
    guards = _GuardText(ctx)
    calls, iteration, paths = ctx.recorded(Calls), ctx.recorded(Iteration), ctx.recorded(Guards)
    callers = {key: Caller(ctx, info) for key, info in functions.items()}
    bridges: set[int] = set()  # thread-bridge calls: what they are handed runs elsewhere
    for index, site in enumerate(model.calls):
        owner = _owner(site.scope)
        if owner is None or id(owner) not in functions:
            continue
        call = ctx.call(site)
        key = id(owner)
        offload = offloaded_callable(ctx, site.node, site.scope, call.target)
        if offload is not None:
            offloads[key].append(Offload(offload[0], index, offload[1], offload[2]))
            bridges.add(id(site.node))
            continue
        blocking = call.blocking
        # Only a sync function's own paths matter: a coroutine's call blocks the loop on
        # whichever path the coroutine takes it.
        guard = guards(site) if not owner.is_async else None
        path = paths.path(site, callers[key].parameters) if not owner.is_async else ()
        if blocking is not None and not owner.is_async:
            family = blocking.family.id if blocking.family is not None else None
            leaves[key].append(
                Leaf(blocking.callee, index, family, blocking.configured, guard, path)
            )
            continue
        # A coroutine's blocking call is reported where it is made; its edge is kept all
        # the same, so the rules that follow it do not depend on which rule reports it.
        target = call.target or ctx.deferred_resolver.call_target(site)
        callee = _callee(target) or _super_callee(ctx, site.node, owner, callers[key].parameters)
        if callee is not None:
            handed_to = calls.handed_to(site)
            handed = handed_to is not None and id(handed_to) not in bridges
            escapes = calls.returned(site) or handed
            iterated = iteration.is_iterated(site, ctx.assumptions)
            arguments = callers[key].arguments(site)
            edges[key].append(
                Edge(callee, index, call.awaited, guard, iterated, escapes, path, arguments)
            )
    resolver = ctx.resolver
    facts = tuple(
        FunctionFacts(
            resolver.local_name(info.scope.qualname),
            info.scope.is_async,
            tuple(edges[key]),
            tuple(leaves[key]),
            tuple(offloads[key]),
            info.scope.is_generator,
            _returns(ctx, info.node, info.scope),
            parameters(info.node) if not info.scope.is_async else (),
        )
        for key, info in functions.items()
    )
    return ModuleFacts(facts, _classes(ctx), _aliases(ctx), _module_types(ctx))


def _returns(ctx: FileContext, node: cst.CSTNode, scope: Scope) -> str | None:
    """The type a function's return annotation declares, qualified."""
    if not isinstance(node, cst.FunctionDef) or node.returns is None:
        return None
    typed = ctx.resolver.annotation_type(node.returns.annotation, scope.parent or scope)
    return typed.type if typed is not None else None


def _typed(value: Value | None) -> str | None:
    return value.type if isinstance(value, Instance) else None


def _module_types(ctx: FileContext) -> dict[str, str]:
    """Module-level names bound once to an instance (`store = Store()`)."""
    if "=" not in ctx.text:
        return {}
    types: dict[str, str] = {}
    resolver = ctx.deferred_resolver
    for name, bindings in ctx.model.module_scope.bindings.items():
        if len(bindings) == 1 and bindings[0].kind in (BindingKind.ASSIGN, BindingKind.ANNOTATED):
            typed = _typed(resolver.binding_value(bindings[0]))
            if typed is not None:
                types[name] = typed
    return types


class _GuardText:
    """The condition a call depends on, in words (each condition written once per file)."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.guards = ctx.recorded(Guards)
        self.known: dict[int, str] = {}

    def __call__(self, site: CallSite) -> str | None:
        guard = self.guards.guard(site)
        if guard is None:
            return None
        text = self.known.get(id(guard))
        if text is None:
            text = self.known[id(guard)] = guard.describe(self.ctx.source)
        return text


def _owner(scope: Scope) -> Scope | None:
    """The function a call runs in: class bodies and comprehensions run in their enclosing
    function; a lambda is its own function, and not one the call graph can name."""
    current: Scope | None = scope
    while current is not None:
        if current.kind is ScopeKind.FUNCTION:
            return current
        if current.kind in (ScopeKind.LAMBDA, ScopeKind.MODULE):
            return None
        current = current.parent
    return None


def _callee(target: FunctionTarget | MethodTarget | None) -> str | None:
    if isinstance(target, FunctionTarget):
        qualified, local = target.qualified, target.local
    elif isinstance(target, MethodTarget):
        qualified, local = target.qualified, target.instance.local
    else:
        return None
    if not local and qualified.partition(".")[0] in STANDARD_LIBRARY:
        return None
    return qualified


def _super_callee(
    ctx: FileContext, call: cst.Call, owner: Scope, parameters: frozenset[str]
) -> str | None:
    """`Cls.<super>.name` for `super().name(...)` (or `super(Cls, self).name(...)`) in a
    method of `Cls`; `<arg:p>.<super>.name` for `super(p, self).name(...)` with the class
    in parameter `p`, which a call's argument tells."""
    func = call.func
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Call):
        return None
    inner = func.value
    if not isinstance(inner.func, cst.Name) or inner.func.value != "super":
        return None
    if len(inner.args) == 2:
        first = inner.args[0].value
        if isinstance(first, cst.Name) and first.value in parameters:
            return f"{ARGUMENT_PREFIX}{first.value}>.{SUPER}.{func.attr.value}"
    cls = owner.parent
    if cls is None or cls.class_info is None:
        return None
    if inner.args:
        first = inner.args[0].value
        if len(inner.args) != 2 or not isinstance(first, cst.Name) or first.value != cls.name:
            return None
    return f"{ctx.resolver.local_name(cls.qualname)}.{SUPER}.{func.attr.value}"


def offloaded_callable(
    ctx: FileContext, call: cst.Call, scope: Scope, target: FunctionTarget | MethodTarget | None
) -> tuple[str, str, str | None] | None:
    """(bridge, callable as written, callable resolved) for a thread-bridge call."""
    catalogue = ctx.catalogue
    position: int | None = None
    bridge = ""
    if isinstance(target, FunctionTarget) and target.qualified in catalogue.bridges:
        bridge, position = target.qualified, catalogue.bridges[target.qualified]
    elif isinstance(call.func, cst.Attribute) and call.func.attr.value in catalogue.bridge_methods:
        bridge = call.func.attr.value
        position = catalogue.bridge_methods[bridge]
    if position is None:
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    if len(positional) <= position:
        return None
    offloaded = positional[position]
    if isinstance(offloaded, cst.Call) and offloaded.args:  # functools.partial(f, ...)
        offloaded = offloaded.args[0].value
    value = ctx.resolver.value(offloaded, scope)
    resolved = None
    if isinstance(value, Ref) and not value.spelled:  # a name bound nowhere is not followed
        resolved = value.qualified
    elif isinstance(value, BoundMethod):
        resolved = f"{value.instance.type}.{value.name}"
    return bridge, ctx.source(offloaded), resolved


def _classes(ctx: FileContext) -> tuple[ClassFacts, ...]:
    model, resolver = ctx.model, ctx.resolver
    methods: dict[int, dict[str, bool]] = {}
    properties: dict[int, list[str]] = {}
    for function in model.functions:
        owner = function.scope.parent
        if owner is not None and owner.class_info is not None:
            methods.setdefault(id(owner), {})[function.scope.name] = function.scope.is_async
            if is_property(function.node):
                properties.setdefault(id(owner), []).append(function.scope.name)
    facts = []
    for cls in model.classes.values():
        parent = cls.scope.parent
        bases = []
        for arg in cls.node.bases:
            value = _runtime_value(ctx, arg.value, parent) if parent is not None else None
            if isinstance(value, Ref) and not value.spelled:
                bases.append(value.qualified)
        qualname = resolver.local_name(cls.qualname)
        facts.append(
            ClassFacts(
                qualname,
                tuple(bases),
                methods.get(id(cls.scope), {}),
                _attributes(ctx, qualname, [*cls.attributes, *properties.get(id(cls.scope), [])]),
            )
        )
    return tuple(facts)


def _running(bindings: list[Binding]) -> list[Binding]:
    """The bindings that run: one under `if TYPE_CHECKING:` only names a type for the
    checker (`if TYPE_CHECKING: Client = httpx.AsyncClient else: Client = _Client`)."""
    running = [binding for binding in bindings if not binding.typing_only]
    return running or bindings


def _runtime_value(ctx: FileContext, node: cst.BaseExpression, scope: Scope) -> Value | None:
    """What a name holds when the code runs (a class's base)."""
    if isinstance(node, cst.Name):
        found = ctx.resolver.lookup(node.value, scope) or []
        running = _running(found)
        if len(running) == 1 < len(found):
            return ctx.resolver.binding_value(running[0])
    return ctx.resolver.value(node, scope)


def _attributes(ctx: FileContext, qualname: str, names: list[str]) -> dict[str, str]:
    """The attributes (and properties) of a class that hold one known type."""
    resolver = ctx.deferred_resolver
    types: dict[str, str] = {}
    for name in names:
        typed = _typed(resolver.member(qualname, name))
        if typed is not None:
            types[name] = typed
    return types


def _aliases(ctx: FileContext) -> dict[str, str]:
    """Module-level names bound to something known by qualified name (imports, `x = y`);
    the modules of `from m import *`, in order, under the keys `*0`, `*1`, ... (no name
    can be spelled so)."""
    if "import" not in ctx.text and "=" not in ctx.text:
        return {}
    aliases: dict[str, str] = {f"*{n}": module for n, module in enumerate(ctx.model.star_imports)}
    for name, all_bindings in ctx.model.module_scope.bindings.items():
        bindings = _running(all_bindings)
        if len(bindings) != 1 or bindings[0].kind not in (BindingKind.IMPORT, BindingKind.ASSIGN):
            continue
        value = ctx.resolver.binding_value(bindings[0])
        if isinstance(value, Ref) and not value.qualified.startswith("builtins."):
            aliases[name] = value.qualified
    return aliases
