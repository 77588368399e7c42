"""What a call passes and what a function takes, read as data for judging a call with its
arguments (`audit.interprocedural.contexts`).

An argument is a constant, a parameter of the caller passed on unchanged, a class or
function by name, an object the caller made, or unknown. A mapping unpacked into a call
(`**options`) is the caller's own `**kwargs` passed on, or a local dict whose possible keys
are all written in the function (`{"timeout": t}` and `options["headers"] = h`); a mapping
used in any other way (handed to another call, `update()`d) may hold any keyword.
"""

from __future__ import annotations

import libcst as cst

from audit.analysis.branch_tests import constant
from audit.analysis.context import FileContext
from audit.analysis.model import BindingKind, CallSite, FunctionInfo, Scope, ScopeKind
from audit.analysis.values import Ref
from audit.analysis.walk.core import descendants
from audit.core.conditions import UNKNOWN, Argument, Arguments, Parameter

_PARAMETER_KINDS = (
    ("posonly_params", "positional_only"),
    ("params", "positional"),
    ("kwonly_params", "keyword_only"),
)
# Methods of a dict that write one constant key (its value then unknown) or only read.
_WRITES_KEY = frozenset({"setdefault", "pop"})
_READS = frozenset({"get", "keys", "items", "values", "copy", "__contains__"})
_DEFINITIONS = frozenset({BindingKind.IMPORT, BindingKind.DEF, BindingKind.CLASS})


def parameters(node: cst.CSTNode) -> tuple[Parameter, ...]:
    """A function's parameters with their constant defaults."""
    if not isinstance(node, cst.FunctionDef):
        return ()
    params = node.params
    found = []
    for field, kind in _PARAMETER_KINDS:
        for param in getattr(params, field):
            default = None
            if param.default is not None:
                known, value = constant(param.default)
                default = Argument("const", value) if known else UNKNOWN
            found.append(Parameter(param.name.value, kind, default))
    if isinstance(params.star_arg, cst.Param):
        found.insert(
            len(params.posonly_params) + len(params.params),
            Parameter(params.star_arg.name.value, "star"),
        )
    if params.star_kwarg is not None:
        found.append(Parameter(params.star_kwarg.name.value, "double_star"))
    return tuple(found)


class Caller:
    """Reads the calls one function makes."""

    def __init__(self, ctx: FileContext, info: FunctionInfo) -> None:
        self.ctx = ctx
        self.info = info
        self.parameters = _stable_parameters(info.scope)
        """The parameters never rebound: wherever read, they hold the argument."""
        node = info.node
        kwarg = node.params.star_kwarg if isinstance(node, cst.FunctionDef) else None
        self._kwargs = kwarg.name.value if kwarg is not None else None
        self._mappings: dict[str, tuple[bool, tuple[str, ...] | None]] = {}

    def arguments(self, site: CallSite) -> Arguments:
        """What the call passes, as far as it is known without running anything."""
        positional: list[Argument] = []
        keywords: list[tuple[str, Argument]] = []
        star, double_star, keys = False, None, None
        for arg in site.node.args:
            if arg.star == "*":
                star = True
            elif arg.star == "**":
                double_star, keys = self._unpacked(arg.value)
            elif arg.keyword is not None:
                keywords.append((arg.keyword.value, self._argument(arg.value, site.scope)))
            else:
                positional.append(self._argument(arg.value, site.scope))
        return Arguments(tuple(positional), tuple(keywords), star, double_star, keys)

    def _unpacked(self, node: cst.BaseExpression) -> tuple[str, tuple[str, ...] | None]:
        """(the caller's `**kwargs` passed on, or ""; the keys the function may write)."""
        if not isinstance(node, cst.Name) or not isinstance(self.info.node, cst.FunctionDef):
            return "", None
        name = node.value
        if name not in self._mappings:
            uses = _MappingUses(name, self.info.node.body)
            self._mappings[name] = (uses.literals == 1, uses.keys_written())
        literal, keys = self._mappings[name]
        if name == self._kwargs and name in self.parameters and keys is not None:
            return name, keys
        return "", keys if literal else None

    def _argument(self, node: cst.BaseExpression, scope: Scope) -> Argument:
        known, value = constant(node)
        if known:
            return Argument("const", value)
        if isinstance(node, cst.Name) and node.value in self.parameters:
            return Argument("param", node.value)
        this_class = self._this_class(node, scope)
        if this_class is not None:
            return Argument("ref", this_class)
        if isinstance(node, (cst.List, cst.Tuple, cst.Dict, cst.Set, cst.Lambda)):
            return Argument("instance")
        if self._names_definition(node, scope):
            resolved = self.ctx.resolver.value(node, scope)
            if isinstance(resolved, Ref) and not resolved.spelled:
                return Argument("ref", resolved.qualified)
        made = self._made_by(node, scope)
        return Argument("made", made) if made is not None else UNKNOWN

    def _names_definition(self, node: cst.BaseExpression, scope: Scope) -> bool:
        """Whether the argument may name a class or function (`Client`, `models.Client`):
        a name bound only by imports, `def` and `class`, or an attribute of one. A
        variable is not resolved (what an annotation says of it may hide `| None`)."""
        while isinstance(node, cst.Attribute):
            node = node.value
        if not isinstance(node, cst.Name):
            return False
        bindings = self.ctx.resolver.lookup(node.value, scope)
        return bool(bindings) and all(b.kind in _DEFINITIONS for b in bindings or ())

    def _made_by(self, node: cst.BaseExpression, scope: Scope) -> str | None:
        """The callable whose result the argument is (`Config(...)`, or a name bound once
        to that): an object, if the project pass finds the callable is a class."""
        resolver = self.ctx.resolver
        if isinstance(node, cst.Name):
            bindings = resolver.lookup(node.value, scope)
            if not bindings or len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
                return None
            value, scope = bindings[0].value, bindings[0].scope
            if value is None:
                return None
            node = value
        if not isinstance(node, cst.Call):
            return None
        func = resolver.value(node.func, scope)
        return func.qualified if isinstance(func, Ref) and not func.spelled else None

    def _this_class(self, node: cst.BaseExpression, scope: Scope) -> str | None:
        """The class a method is defined in, for `super().__thisclass__` (also written
        `cast(Any, super()).__thisclass__`, as generated SDK clients do)."""
        if not isinstance(node, cst.Attribute) or node.attr.value != "__thisclass__":
            return None
        inner = node.value
        if isinstance(inner, cst.Call) and len(inner.args) == 2:
            cast = self.ctx.resolver.value(inner.func, scope)
            names = ("typing.cast", "typing_extensions.cast")
            if isinstance(cast, Ref) and cast.qualified in names:
                inner = inner.args[1].value
        if not isinstance(inner, cst.Call) or inner.args:
            return None
        if not isinstance(inner.func, cst.Name) or inner.func.value != "super":
            return None
        cls = self.info.scope.parent
        if cls is None or cls.kind is not ScopeKind.CLASS or cls.class_info is None:
            return None
        return self.ctx.resolver.local_name(cls.qualname)


def _stable_parameters(scope: Scope) -> frozenset[str]:
    return frozenset(
        name
        for name, bindings in scope.bindings.items()
        if all(binding.kind is BindingKind.PARAM for binding in bindings)
    )


class _MappingUses:
    """How a function uses one mapping name: bound to dict literals with constant keys,
    written or deleted at constant keys, read, unpacked into calls; any other use (handed
    to another call, `update()`d, rebound to something else) leaves its keys unknown."""

    def __init__(self, name: str, body: cst.CSTNode) -> None:
        self.name = name
        self.seen = 0  # every occurrence of the name
        self.understood = 0  # occurrences in one of the uses above
        self.literals = 0
        self.keys: set[str] = set()
        self.any_key = False  # written at a key that is not a constant
        for node in descendants(body):
            if isinstance(node, cst.Name):
                self.seen += node.value == name
            elif isinstance(node, cst.Assign):
                for assigned in node.targets:
                    self._target(assigned.target, node.value)
            elif isinstance(node, cst.AnnAssign):
                self._target(node.target, node.value)
            elif isinstance(node, cst.Call):
                self._call(node)
            elif isinstance(node, cst.Subscript) and self._is_name(node.value):
                self.understood += 1  # read or written (a write's key is taken below)
            elif isinstance(node, cst.Del) and isinstance(node.target, cst.Subscript):
                if self._is_name(node.target.value):  # the keyword may now be missing
                    self._written(node.target)
            elif isinstance(node, cst.Comparison):  # `"verify" in options`: a read
                for compared in node.comparisons:
                    membership = isinstance(compared.operator, (cst.In, cst.NotIn))
                    self.understood += membership and self._is_name(compared.comparator)

    def keys_written(self) -> tuple[str, ...] | None:
        if self.seen != self.understood or self.any_key:
            return None
        return tuple(sorted(self.keys))

    def _target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if self._is_name(target):
            keys = _literal_keys(value)
            if keys is not None:
                self.literals += 1
                self.keys |= keys
                self.understood += 1
        elif isinstance(target, cst.Subscript) and self._is_name(target.value):
            self._written(target)

    def _written(self, target: cst.Subscript) -> None:
        key = _constant_key(target)
        if key is None:
            self.any_key = True
        else:
            self.keys.add(key)

    def _call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and self._is_name(func.value):
            method = func.attr.value
            first = node.args[0].value if node.args else None
            known, key = constant(first) if first is not None else (False, None)
            if method in _WRITES_KEY and known and isinstance(key, str):
                self.keys.add(key)
                self.understood += 1
            elif method in _READS:
                self.understood += 1
        for arg in node.args:
            if arg.star == "**" and self._is_name(arg.value):
                self.understood += 1

    def _is_name(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name


def _literal_keys(value: cst.BaseExpression | None) -> set[str] | None:
    """The keys of a dict literal, when all are constant strings (`{}` has none)."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
        if value.func.value == "dict" and all(a.keyword is not None for a in value.args):
            return {a.keyword.value for a in value.args if a.keyword is not None}
        return None
    if not isinstance(value, cst.Dict):
        return None
    keys = set()
    for element in value.elements:
        if not isinstance(element, cst.DictElement):
            return None
        known, key = constant(element.key)
        if not known or not isinstance(key, str):
            return None
        keys.add(key)
    return keys


def _constant_key(target: cst.Subscript) -> str | None:
    if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        return None
    known, key = constant(target.slice[0].slice.value)
    return key if known and isinstance(key, str) else None
