"""Deciding which recorded writes to parameters are reported, and as which MUT code.

The walker records every write to an object reachable from a parameter (see `flow`). Here
each one is checked against what the parameter is: an immutable annotation exempts it, a
name matching `ignore-names-regex` exempts it, a method call on a parameter annotated with a
non-container class is just a method call, an augmented assignment only mutates when the
value is a mutable container.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import libcst as cst

from audit.analysis.flow import Mutation, MutationKind
from audit.analysis.model import FunctionInfo, Parameter, Scope
from audit.analysis.names import dotted_name, string_value
from audit.analysis.resolve import Ref, Resolver
from audit.catalogue import load_data_file

DIRECT_CODES = {
    MutationKind.ATTRIBUTE: "MUT100",
    MutationKind.ITEM: "MUT101",
    MutationKind.METHOD: "MUT102",
    MutationKind.FUNCTION: "MUT102",
    MutationKind.AUGMENTED: "MUT103",
}
ALIAS_CODE = "MUT104"


class Shape(enum.Enum):
    """What an annotation says about a parameter's mutability."""

    IMMUTABLE = "immutable"
    MUTABLE = "mutable container"
    READ_ONLY = "read-only container"
    OTHER = "other type"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class _Data:
    functions: dict[str, str]
    attribute_functions: dict[str, str]
    immutable: frozenset[str]
    mutable: frozenset[str]
    read_only: frozenset[str]
    exempt_attributes: frozenset[str]


@cache
def _data() -> _Data:
    data = load_data_file("mutation.toml")
    types = data["types"]
    return _Data(
        functions=dict(data["functions"]),
        attribute_functions=dict(data["attribute-functions"]),
        immutable=frozenset(types["immutable"]),
        mutable=frozenset(types["mutable"]),
        read_only=frozenset(types["read-only"]),
        exempt_attributes=frozenset(data["exempt"]["function-attributes"]),
    )


_IN_PLACE = {"list": {"+=", "*="}, "set": {"|=", "&=", "-=", "^="}, "dict": {"|="}}
_UNION_WRAPPERS = {"Optional", "Union", "Annotated", "Final", "ReadOnly", "Required", "NotRequired"}


@dataclass(frozen=True)
class ReportedMutation:
    code: str
    node: cst.CSTNode
    message: str
    function: FunctionInfo


class MutationChecker:
    def __init__(self, resolver: Resolver, ignore_names: str) -> None:
        self.resolver = resolver
        self.ignore_names = re.compile(ignore_names)
        self._shapes: dict[tuple[int, str], Shape] = {}

    def reported(
        self, functions: list[FunctionInfo], source: Callable[[cst.CSTNode], str]
    ) -> list[ReportedMutation]:
        found = []
        for function in functions:
            for mutation in function.mutations:
                parameter = function.parameters.get(mutation.origin.param)
                if parameter is None or self.ignore_names.search(parameter.name):
                    continue
                shape = self._shape(function, parameter)
                code = self._code(mutation, shape, parameter, function.scope)
                if code is not None:
                    message = _message(code, mutation, parameter, shape, source)
                    found.append(ReportedMutation(code, mutation.node, message, function))
        return found

    def _code(
        self, mutation: Mutation, shape: Shape, parameter: Parameter, scope: Scope
    ) -> str | None:
        if shape is Shape.IMMUTABLE:
            return None
        kind: MutationKind | None = mutation.kind
        via_alias = bool(mutation.origin.aliases)
        direct = not via_alias and not mutation.origin.inner
        data = _data()
        if kind is MutationKind.ATTRIBUTE and mutation.detail in data.exempt_attributes:
            return None
        if kind is MutationKind.METHOD and direct and shape is Shape.OTHER:
            return None  # a method of a non-container class, not a container mutator
        if kind is MutationKind.FUNCTION:
            kind = self._function_kind(mutation, scope)
        if kind is None:
            return None
        if kind is MutationKind.AUGMENTED and not _extends_in_place(
            mutation, shape if direct else Shape.UNKNOWN, parameter
        ):
            return None
        return ALIAS_CODE if via_alias else DIRECT_CODES[kind]

    def _function_kind(self, mutation: Mutation, scope: Scope) -> MutationKind | None:
        assert mutation.callee is not None
        callee = self.resolver.value(mutation.callee, scope)
        if not isinstance(callee, Ref):
            return None
        data = _data()
        if callee.qualified in data.functions:
            return MutationKind.METHOD
        if callee.qualified in data.attribute_functions:
            call = mutation.node
            if isinstance(call, cst.Call) and len(call.args) > 1:
                attribute = string_value(call.args[1].value)
                if attribute in data.exempt_attributes:
                    return None
            return MutationKind.ATTRIBUTE
        return None

    def _shape(self, function: FunctionInfo, parameter: Parameter) -> Shape:
        key = (id(function), parameter.name)
        if key not in self._shapes:
            binding_scope = function.scope.parent or function.scope
            annotation = parameter.annotation
            self._shapes[key] = (
                self.annotation_shape(annotation, binding_scope)
                if annotation is not None
                else Shape.UNKNOWN
            )
        return self._shapes[key]

    def annotation_shape(self, expr: cst.BaseExpression, scope: Scope) -> Shape:
        if isinstance(expr, cst.SimpleString):
            text = expr.evaluated_value
            if not isinstance(text, str):
                return Shape.UNKNOWN
            try:
                expr = cst.parse_expression(text)
            except cst.ParserSyntaxError:
                return Shape.UNKNOWN
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            return _union([self.annotation_shape(e, scope) for e in (expr.left, expr.right)])
        if isinstance(expr, cst.Name) and expr.value == "None":
            return Shape.IMMUTABLE
        if isinstance(expr, cst.Subscript):
            wrapper = dotted_name(expr.value)
            if wrapper is not None and wrapper.rpartition(".")[2] in _UNION_WRAPPERS:
                members = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
                if wrapper.endswith("Annotated"):
                    members = members[:1]
                return _union([self.annotation_shape(m, scope) for m in members])
            expr = expr.value
        value = self.resolver.value(expr, scope)
        if not isinstance(value, Ref):
            return Shape.UNKNOWN
        if value.local:
            return self._local_class_shape(value.qualified)
        data = _data()
        name = value.qualified
        if name in data.immutable:
            return Shape.IMMUTABLE
        if name in data.mutable:
            return Shape.MUTABLE
        if name in data.read_only:
            return Shape.READ_ONLY
        if name in ("typing.Any", "builtins.object", "typing_extensions.Any"):
            return Shape.UNKNOWN
        return Shape.OTHER

    def _local_class_shape(self, qualified: str) -> Shape:
        info = self.resolver.local_class(qualified)
        if info is None:
            return Shape.UNKNOWN
        for decorator in info.node.decorators:
            call = decorator.decorator
            if isinstance(call, cst.Call) and (dotted_name(call.func) or "").endswith("dataclass"):
                for arg in call.args:
                    if (
                        arg.keyword is not None
                        and arg.keyword.value == "frozen"
                        and isinstance(arg.value, cst.Name)
                        and arg.value.value == "True"
                    ):
                        return Shape.IMMUTABLE
        for base in info.node.bases:
            name = dotted_name(base.value) or ""
            if name.rpartition(".")[2] in ("NamedTuple", "Enum", "IntEnum", "StrEnum"):
                return Shape.IMMUTABLE
        return Shape.OTHER


def _union(shapes: list[Shape]) -> Shape:
    """A union is mutable if any member is; otherwise what its mutable-or-not members agree on
    (`Foo | None` is Foo), immutable when every member is."""
    if Shape.MUTABLE in shapes:
        return Shape.MUTABLE
    remaining = {shape for shape in shapes if shape is not Shape.IMMUTABLE}
    if not remaining:
        return Shape.IMMUTABLE
    return remaining.pop() if len(remaining) == 1 else Shape.UNKNOWN


def _extends_in_place(mutation: Mutation, shape: Shape, parameter: Parameter) -> bool:
    """`x += y` changes x itself only when x is a mutable container."""
    if shape is Shape.MUTABLE:
        return True
    if shape is not Shape.UNKNOWN:
        return False
    literal = mutation.literal
    if literal and mutation.detail in _IN_PLACE[literal]:
        return True
    default = parameter.default
    if default is not None and not mutation.origin.aliases:
        kind = (
            "list"
            if isinstance(default, (cst.List, cst.ListComp))
            else "set"
            if isinstance(default, cst.Set)
            else "dict"
            if isinstance(default, cst.Dict)
            else ""
        )
        return bool(kind) and mutation.detail in _IN_PLACE[kind]
    return False


_ADVICE = "copy it first or return a new value"


def _message(
    code: str,
    mutation: Mutation,
    parameter: Parameter,
    shape: Shape,
    source: Callable[[cst.CSTNode], str],
) -> str:
    shown = source(mutation.node)
    name = parameter.name
    kind, detail = mutation.kind, mutation.detail
    if code == ALIAS_CODE:
        suffix = {
            MutationKind.ATTRIBUTE: f" .{detail}",
            MutationKind.ITEM: " [...]",
            MutationKind.METHOD: f" .{detail}()",
            MutationKind.FUNCTION: f" passed to {detail}()",
            MutationKind.AUGMENTED: f" {detail}",
        }[kind]
        return (
            f"`{shown}` mutates parameter `{name}` through an alias: "
            f"{mutation.origin.describe()}{suffix}; {_ADVICE}"
        )
    if code == "MUT100":
        what = f"attribute `{detail}`" if kind is MutationKind.ATTRIBUTE else "an attribute"
        return f"`{shown}` changes {what} of parameter `{name}`, which the caller owns; {_ADVICE}"
    if code == "MUT101":
        return f"`{shown}` stores into parameter `{name}`, which the caller owns; {_ADVICE}"
    if code == "MUT102":
        return f"`{shown}` mutates parameter `{name}` in place; {_ADVICE}"
    container = "a mutable container" if shape is not Shape.MUTABLE else "annotated as mutable"
    return f"`{shown}` changes parameter `{name}` in place ({container}); {_ADVICE}"
