"""What the per-file pass records for the project pass; plain values, cached as JSON.

Calls are identified by their ordinal in the module's call list (the walker visits them in
a fixed order), not by position: positions cost a code generation pass, and only the few
calls that end up in a finding are located, afterwards (see `locate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.core.conditions import (
    NO_ARGUMENTS,
    Arguments,
    Parameter,
    Path,
    path_from_json,
    path_to_json,
)
from audit.core.span import Span

# `pkg.mod.Cls.<super>.name`: `super().name` called in a method of `Cls` (the first class
# after `Cls` in its method resolution order that defines `name`).
SUPER = "<super>"
# `<arg:p>.<super>.name`: `super(p, self).name` with the class in parameter `p`, known only
# from the argument a call passes for `p`.
ARGUMENT_PREFIX = "<arg:"


@dataclass(frozen=True)
class Edge:
    """A call from one function to a callable known by qualified name; `guard` says why
    the call is off the function's ordinary path (None: it is on it), `iterated` whether
    the result is iterated there (calling a generator runs none of its body) and `escapes`
    whether it is returned or handed to another call (and may be iterated elsewhere)."""

    callee: str
    call: int
    awaited: bool = False
    guard: str | None = None
    iterated: bool = False
    escapes: bool = False
    path: Path = ()
    """Every test the call runs under (`guard` names the outermost)."""
    arguments: Arguments = NO_ARGUMENTS

    def to_json(self) -> list[Any]:
        return [
            self.callee,
            self.call,
            self.awaited,
            self.guard,
            self.iterated,
            self.escapes,
            path_to_json(self.path),
            self.arguments.to_json(),
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Edge:
        callee, call, awaited, guard, iterated, escapes, path, arguments = data
        return cls(
            callee,
            call,
            awaited,
            guard,
            iterated,
            escapes,
            path_from_json(path),
            Arguments.from_json(arguments),
        )


@dataclass(frozen=True)
class Leaf:
    """A blocking call made directly in a sync function: the callable it reaches, the
    catalogue family that says why it blocks, or the alternative the project configured
    for it (`""`: none given) when the project named it blocking."""

    target: str
    call: int
    family: str | None = None
    configured: str | None = None
    guard: str | None = None
    path: Path = ()

    def to_json(self) -> list[Any]:
        return [
            self.target,
            self.call,
            self.family,
            self.configured,
            self.guard,
            path_to_json(self.path),
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Leaf:
        target, call, family, configured, guard, path = data
        return cls(target, call, family, configured, guard, path_from_json(path))


@dataclass(frozen=True)
class Offload:
    """A callable handed to a thread bridge (`asyncio.to_thread(f, ...)`)."""

    bridge: str
    call: int
    callable: str
    resolved: str | None = None


@dataclass(frozen=True)
class FunctionFacts:
    qualname: str
    is_async: bool
    edges: tuple[Edge, ...] = ()
    leaves: tuple[Leaf, ...] = ()
    offloads: tuple[Offload, ...] = ()
    is_generator: bool = False
    returns: str | None = None
    """The type its return annotation declares (qualified), for callers in other modules."""
    parameters: tuple[Parameter, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "qualname": self.qualname,
            "is_async": self.is_async,
            "is_generator": self.is_generator,
            "returns": self.returns,
            "edges": [edge.to_json() for edge in self.edges],
            "leaves": [leaf.to_json() for leaf in self.leaves],
            "offloads": [[o.bridge, o.call, o.callable, o.resolved] for o in self.offloads],
            "parameters": [parameter.to_json() for parameter in self.parameters],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FunctionFacts:
        return cls(
            data["qualname"],
            data["is_async"],
            tuple(Edge.from_json(item) for item in data["edges"]),
            tuple(Leaf.from_json(item) for item in data["leaves"]),
            tuple(Offload(*item) for item in data["offloads"]),
            data["is_generator"],
            data["returns"],
            tuple(Parameter.from_json(item) for item in data["parameters"]),
        )


@dataclass(frozen=True)
class ClassFacts:
    """A class: its bases, its methods, and the types of its attributes and properties
    where one type is certain (`self.fs = FS()`, `client: Redis`, a property's return
    annotation); a type may be another call to resolve in the project (`app.fs.make()`)."""

    qualname: str
    bases: tuple[str, ...] = ()
    methods: Mapping[str, bool] = field(default_factory=dict)  # name -> is async
    attributes: Mapping[str, str] = field(default_factory=dict)  # name -> type

    def to_json(self) -> dict[str, Any]:
        return {
            "qualname": self.qualname,
            "bases": list(self.bases),
            "methods": dict(self.methods),
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClassFacts:
        return cls(
            data["qualname"],
            tuple(data["bases"]),
            dict(data["methods"]),
            dict(data["attributes"]),
        )


@dataclass(frozen=True)
class ModuleFacts:
    """A module's functions and classes, its module-level aliases
    (`from .config import load` makes `pkg.load` another name for `pkg.config.load`), and
    the types of its module-level instances (`store = Store()`), which other modules import."""

    functions: tuple[FunctionFacts, ...] = ()
    classes: tuple[ClassFacts, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "functions": [f.to_json() for f in self.functions],
            "classes": [c.to_json() for c in self.classes],
            "aliases": dict(self.aliases),
            "types": dict(self.types),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModuleFacts:
        return cls(
            tuple(FunctionFacts.from_json(f) for f in data["functions"]),
            tuple(ClassFacts.from_json(c) for c in data["classes"]),
            dict(data["aliases"]),
            dict(data["types"]),
        )


@dataclass(frozen=True)
class CallLocation:
    """Where a call is, and its callee as written (`self.store.load`)."""

    span: Span
    text: str

    def to_json(self) -> list[object]:
        span = self.span
        return [span.line, span.column, span.end_line, span.end_column, self.text]

    @classmethod
    def from_json(cls, data: list[Any]) -> CallLocation:
        line, column, end_line, end_column, text = data
        return cls(Span(int(line), int(column), int(end_line), int(end_column)), str(text))
