"""Which recorded writes to parameters change the caller's object: facts the MUT rules claim.

The walk records every write to an object reachable from a parameter (the parameter-writes
recorder, through the alias flow). Writes whose path rests on an assumption that did not
hold are dropped (`x = list(p)` where the module defines its own `list`). Each other one is
checked against what the parameter is: an immutable annotation exempts it, a name matching
`ignore-names-regex` exempts it, a method call on a parameter annotated with a
non-container class is just a method call, an augmented assignment only mutates when the
value is a mutable container, and an object a framework hands the function to fill is
exempt (`handed`). What is left is a `ParameterWrite` with its effect, the parameter's shape
and the alias path; which rule reports it, and how, is the rules' call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import libcst as cst

from audit.analysis.assumptions import Assumptions
from audit.analysis.handed import Handed
from audit.analysis.model import FunctionInfo, Parameter, Scope
from audit.analysis.names import dotted_name, string_value
from audit.analysis.recorders.parameter_writes import Mutation, ParameterWrites
from audit.analysis.resolve import Resolver
from audit.analysis.values import Ref
from audit.analysis.writes import Effect, MutationKind, Shape
from audit.catalogue import load_data_file


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


@dataclass(frozen=True)
class ParameterShape:
    """What a parameter's annotation says: its mutability, the one type it names apart from
    `None` (`builtins.dict`: what a copy on entry would copy with), and whether it admits
    `None` too."""

    kind: Shape
    type: str | None = None
    optional: bool = False


_EFFECTS = {
    MutationKind.ATTRIBUTE: Effect.SET_ATTRIBUTE,
    MutationKind.ITEM: Effect.STORE_ITEM,
    MutationKind.METHOD: Effect.MUTATING_CALL,
    MutationKind.AUGMENTED: Effect.IN_PLACE,
}


@dataclass(frozen=True)
class ParameterWrite:
    """A write that changes an object the caller passed in.

    `mutation` is the write as recorded (its kind, node, detail and the alias path from the
    parameter in `mutation.origin`); `effect` what it does once names are resolved
    (`heappush(p, x)` is a mutating call, `setattr(p, ...)` an attribute store).
    """

    effect: Effect
    mutation: Mutation
    parameter: Parameter
    shape: ParameterShape
    function: FunctionInfo

    @property
    def node(self) -> cst.CSTNode:
        return self.mutation.node

    @property
    def through_alias(self) -> bool:
        """Made through another name than the parameter's (`x = p; x.a = 1`)."""
        return bool(self.mutation.origin.aliases)


def parameter_writes(
    functions: Iterable[FunctionInfo],
    recorded: ParameterWrites,
    resolver: Resolver,
    assumptions: Assumptions,
    ignore_names: str,
    path: str,
) -> list[ParameterWrite]:
    judge = _Judge(resolver, ignore_names, path)
    return judge.writes(functions, recorded, assumptions)


class _Judge:
    def __init__(self, resolver: Resolver, ignore_names: str, path: str) -> None:
        self.resolver = resolver
        self.ignore_names = re.compile(ignore_names)
        self.handed = Handed(resolver, path)
        self._shapes: dict[tuple[int, str], ParameterShape] = {}

    def writes(
        self, functions: Iterable[FunctionInfo], recorded: ParameterWrites, assumptions: Assumptions
    ) -> list[ParameterWrite]:
        found = []
        for function in functions:
            for mutation in _standing(recorded.mutations(function), assumptions):
                parameter = function.parameters.get(mutation.origin.param)
                if parameter is None or self.ignore_names.search(parameter.name):
                    continue
                shape = self._shape(function, parameter)
                effect = self._effect(mutation, shape.kind, parameter, function.scope)
                if effect is not None and not self.handed.exempt(function, parameter, mutation):
                    found.append(ParameterWrite(effect, mutation, parameter, shape, function))
        return found

    def _effect(
        self, mutation: Mutation, shape: Shape, parameter: Parameter, scope: Scope
    ) -> Effect | None:
        if shape is Shape.IMMUTABLE:
            return None
        kind: MutationKind | None = mutation.kind
        direct = not mutation.origin.aliases and not mutation.origin.inner
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
        return _EFFECTS[kind]

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

    def _shape(self, function: FunctionInfo, parameter: Parameter) -> ParameterShape:
        key = (id(function), parameter.name)
        if key not in self._shapes:
            binding_scope = function.scope.parent or function.scope
            annotation = parameter.annotation
            self._shapes[key] = (
                self.annotation_shape(annotation, binding_scope)
                if annotation is not None
                else ParameterShape(Shape.UNKNOWN)
            )
        return self._shapes[key]

    def annotation_shape(self, annotation: cst.BaseExpression, scope: Scope) -> ParameterShape:
        members = self.resolver.annotations.members(annotation, scope)
        if not members:
            return ParameterShape(Shape.UNKNOWN)
        shapes = [self._member_shape(m.qualified, m.local, m.none) for m in members]
        named = [m.qualified for m in members if not m.none]
        optional = len(named) < len(members)
        return ParameterShape(_union(shapes), named[0] if len(named) == 1 else None, optional)

    def _member_shape(self, qualified: str | None, local: bool, none: bool) -> Shape:
        if none:
            return Shape.IMMUTABLE
        if qualified is None:
            return Shape.UNKNOWN
        if local:
            return self._local_class_shape(qualified)
        data = _data()
        if qualified in data.immutable:
            return Shape.IMMUTABLE
        if qualified in data.mutable:
            return Shape.MUTABLE
        if qualified in data.read_only:
            return Shape.READ_ONLY
        if qualified in ("typing.Any", "builtins.object", "typing_extensions.Any"):
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


def _standing(mutations: list[Mutation], assumptions: Assumptions) -> Iterator[Mutation]:
    """The writes whose path from the parameter holds, each write once per parameter (the
    first way it was recorded)."""
    seen: set[tuple[int, str]] = set()
    for mutation in mutations:
        origin = mutation.origin
        key = (id(mutation.node), origin.param)
        if key in seen or not assumptions.hold(origin.requires):
            continue
        seen.add(key)
        yield mutation


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
