"""The abstract values name resolution answers with, and how a type was learnt.

Plain data, free of libcst, so that rules can inspect them without loading the parser.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ref:
    """An object known by name: a module, function, class or constant. `spelled` when the
    name's root is bound nowhere in the file (a snippet that omits its imports): it is
    matched by its spelling alone."""

    qualified: str
    local: bool = False
    spelled: bool = False


class Evidence(enum.Enum):
    """How the type of a value was learnt."""

    RECEIVER = "receiver"  # `self` in a method of the class
    ANNOTATION = "annotation"  # a parameter's or variable's annotation
    CALL = "call"  # the value a call returns: a constructor, a catalogue function or method
    RETURN_ANNOTATION = "return annotation"  # a project function's return annotation
    WITH = "with"  # bound by `with manager as name`
    ATTRIBUTE = "attribute"  # an attribute set in a method or declared in the class body
    ITEM = "item"  # `obj[key]` of an object whose items have a known type
    UNION = "union"  # one of the values a name may hold (`a or b`, a branch's assignment)


@dataclass(frozen=True)
class TypeOrigin:
    """Where a type came from: `name` is what was read there (the annotation as written,
    the callee, the function, the attribute, the receiver's name; "" when there is nothing
    to show) and `via` the origin of the value it was read from (`with` and attributes)."""

    evidence: Evidence
    name: str = ""
    via: TypeOrigin | None = None


@dataclass(frozen=True)
class Instance:
    """A value of a known type; `origin` says how the type was learnt."""

    type: str
    origin: TypeOrigin | None = field(compare=False, default=None)
    local: bool = False


@dataclass(frozen=True)
class BoundMethod:
    instance: Instance
    name: str


Value = Ref | Instance | BoundMethod


@dataclass(frozen=True)
class FunctionTarget:
    qualified: str
    local: bool
    spelled: bool = False


@dataclass(frozen=True)
class MethodTarget:
    instance: Instance
    method: str

    @property
    def qualified(self) -> str:
        return f"{self.instance.type}.{self.method}"


CallTarget = FunctionTarget | MethodTarget
