"""Objects a framework hands a function to fill: the ASGI scope in middleware, `request.state`,
pytest's fixtures and hooks, a logging record in a filter, an argparse namespace in an action,
a node in an `ast.NodeTransformer`, the instance in a Django `pre_save` receiver. Writing
them is the documented way, not a side effect. The idioms are data
(`catalogue/mutation.toml`, `[[handed]]`); this module matches a write against them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache
from typing import Any

import libcst as cst

from audit.analysis.model import FunctionInfo, Parameter
from audit.analysis.recorders.parameter_writes import Mutation
from audit.analysis.resolve import Resolver
from audit.analysis.values import Ref
from audit.catalogue import CatalogueError, load_data_file

_KEYS = {
    "id",
    "why",
    "parameters",
    "types",
    "signature",
    "functions",
    "classes",
    "decorators",
    "through",
    "files",
    "example",
}


@dataclass(frozen=True)
class Idiom:
    id: str
    why: str
    parameters: frozenset[str]
    types: frozenset[str]
    signature: tuple[str, ...]
    functions: tuple[str, ...]
    classes: frozenset[str]
    decorators: frozenset[str]
    through: frozenset[str]
    files: tuple[str, ...]
    example: str


@cache
def idioms() -> tuple[Idiom, ...]:
    found = []
    for index, table in enumerate(load_data_file("mutation.toml").get("handed", [])):
        where = f"mutation.toml handed[{index}]"
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise CatalogueError(f"{where}: unknown key(s) {', '.join(unknown)}")
        found.append(
            Idiom(
                id=str(table["id"]),
                why=str(table["why"]),
                parameters=frozenset(_strings(table, "parameters")),
                types=frozenset(_strings(table, "types")),
                signature=_strings(table, "signature"),
                functions=_strings(table, "functions"),
                classes=frozenset(_strings(table, "classes")),
                decorators=frozenset(_strings(table, "decorators")),
                through=frozenset(_strings(table, "through")),
                files=_strings(table, "files"),
                example=str(table.get("example", "")),
            )
        )
    return tuple(found)


def _strings(table: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(item) for item in table.get(key, []))


class Handed:
    """Whether a write is to an object a framework handed the function to fill."""

    def __init__(self, resolver: Resolver, path: str) -> None:
        self.resolver = resolver
        self.file = path.rpartition("/")[2]

    def exempt(self, function: FunctionInfo, parameter: Parameter, mutation: Mutation) -> bool:
        return any(self._matches(idiom, function, parameter, mutation) for idiom in idioms())

    def _matches(
        self, idiom: Idiom, function: FunctionInfo, parameter: Parameter, mutation: Mutation
    ) -> bool:
        if idiom.files and not any(fnmatch.fnmatch(self.file, p) for p in idiom.files):
            return False
        if idiom.functions and not any(
            fnmatch.fnmatch(function.scope.name, pattern) for pattern in idiom.functions
        ):
            return False
        if (idiom.parameters or idiom.types) and not (
            parameter.name in idiom.parameters or self._typed(idiom, function, parameter)
        ):
            return False
        node = function.node
        if idiom.signature and not set(idiom.signature) <= _parameter_names(node):
            return False
        if idiom.classes and not idiom.classes & self._bases(function):
            return False
        if idiom.decorators and not idiom.decorators & self._decorators(function):
            return False
        return not idiom.through or _through(mutation, parameter.name, idiom.through)

    def _typed(self, idiom: Idiom, function: FunctionInfo, parameter: Parameter) -> bool:
        if not idiom.types or parameter.annotation is None:
            return False
        scope = function.scope.parent or function.scope
        members = self.resolver.annotations.members(parameter.annotation, scope)
        return any(member.qualified in idiom.types for member in members)

    def _bases(self, function: FunctionInfo) -> frozenset[str]:
        owner = function.scope.parent
        info = owner.class_info if owner is not None else None
        if info is None or info.scope.parent is None:
            return frozenset()
        scope = info.scope.parent
        values = (self.resolver.value(arg.value, scope) for arg in info.node.bases)
        return frozenset(value.qualified for value in values if isinstance(value, Ref))

    def _decorators(self, function: FunctionInfo) -> frozenset[str]:
        node, scope = function.node, function.scope.parent
        if not isinstance(node, cst.FunctionDef) or scope is None:
            return frozenset()
        found = set()
        for decorator in node.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):
                called = self.resolver.value(expression.func, scope)
                first = expression.args[0].value if expression.args else None
                argument = self.resolver.value(first, scope) if first is not None else None
                if isinstance(called, Ref) and isinstance(argument, Ref):
                    found.add(f"{called.qualified}({argument.qualified})")
                if isinstance(called, Ref):
                    found.add(called.qualified)
            else:
                value = self.resolver.value(expression, scope)
                if isinstance(value, Ref):
                    found.add(value.qualified)
        return frozenset(found)


def _parameter_names(node: cst.FunctionDef | cst.Lambda) -> set[str]:
    params = node.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return {param.name.value for param in every}


def _through(mutation: Mutation, parameter: str, attributes: frozenset[str]) -> bool:
    """The write reaches the parameter's object through one of `attributes`
    (`request.state.user = ...` through `state`)."""
    for written in _written(mutation.node):
        path = _path(written, parameter)
        if path is not None and len(path) > 1 and path[0] in attributes:
            return True
    return False


def _written(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """The expressions a write statement or call changes."""
    if isinstance(node, cst.Assign):
        return [target.target for target in node.targets]
    if isinstance(node, (cst.AugAssign, cst.AnnAssign)):
        return [node.target]
    if isinstance(node, cst.Del):
        return [node.target]
    if isinstance(node, cst.Call):
        func = node.func
        written = [func.value] if isinstance(func, cst.Attribute) else []
        return [*written, *(arg.value for arg in node.args[:1])]
    return []


def _path(expression: cst.BaseExpression, parameter: str) -> list[str] | None:
    """`["state", "user"]` for `request.state.user` when `parameter` is `request`."""
    names: list[str] = []
    current = expression
    while isinstance(current, (cst.Attribute, cst.Subscript)):
        if isinstance(current, cst.Attribute):
            names.append(current.attr.value)
        else:
            names.append("[]")
        current = current.value
    if isinstance(current, cst.Name) and current.value == parameter:
        return list(reversed(names))
    return None
