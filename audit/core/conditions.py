"""Branch tests and call arguments as data, so a callee's conditions can be judged with the
arguments of one call (`create_ssl_context(verify=True)` takes the branch that loads the CA
bundle; `verify=False` does not).

A `Test` is a branch test as far as it can be read without running anything: a parameter of
the function compared with a constant (`verify is True`, `not transport`, `isinstance(verify,
str)`), `and`/`or`/`not` of such tests, or an opaque test (anything else, a loop that may not
run, an `except` handler) known only by a key, the same key for the same test in one function.
An `Argument` is what a call passes: a constant, a parameter of the caller passed on, a name
known by its qualified name (a class), or something unknown.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Constant = None | bool | int | float | str

_BUILTIN_TYPES: Mapping[str, type] = {
    "str": str,
    "bytes": bytes,
    "int": int,
    "float": float,
    "bool": bool,
    "NoneType": type(None),
}


class Truth(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Argument:
    """`kind` is "const" (`value` the constant), "param" (`value` the caller's parameter
    passed on unchanged), "ref" (`value` the qualified name of a class or function),
    "instance" (an object the caller made, of type `value` when known: never `None`),
    "made" (the result of calling `value`: an instance if that is a class) or "unknown"."""

    kind: str
    value: Constant = None

    def to_json(self) -> list[Any]:
        return [self.kind, self.value]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Argument:
        return cls(str(data[0]), data[1])


UNKNOWN = Argument("unknown")


@dataclass(frozen=True)
class Arguments:
    """What one call passes: positional and keyword arguments, and whether it unpacks
    `*args` (`star`) or a mapping (`double_star`: the caller's `**kwargs` passed on by
    name, "" for any other mapping, None for none). `keys`: the keywords the caller itself
    may put in the mapping (their values unknown), when that is known; for "" without
    `keys` the mapping may hold any keyword."""

    positional: tuple[Argument, ...] = ()
    keywords: tuple[tuple[str, Argument], ...] = ()
    star: bool = False
    double_star: str | None = None
    keys: tuple[str, ...] | None = None

    def to_json(self) -> list[Any]:
        return [
            [a.to_json() for a in self.positional],
            [[name, a.to_json()] for name, a in self.keywords],
            self.star,
            self.double_star,
            list(self.keys) if self.keys is not None else None,
        ]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Arguments:
        positional, keywords, star, double_star, keys = data
        return cls(
            tuple(Argument.from_json(a) for a in positional),
            tuple((str(name), Argument.from_json(a)) for name, a in keywords),
            bool(star),
            double_star,
            tuple(keys) if keys is not None else None,
        )


NO_ARGUMENTS = Arguments()


@dataclass(frozen=True)
class Parameter:
    """A parameter: its name, its kind ("positional_only", "positional", "star",
    "keyword_only", "double_star") and its default (None: it has none)."""

    name: str
    kind: str
    default: Argument | None = None

    def to_json(self) -> list[Any]:
        return [self.name, self.kind, self.default.to_json() if self.default else None]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Parameter:
        name, kind, default = data
        return cls(str(name), str(kind), Argument.from_json(default) if default else None)


@dataclass(frozen=True)
class Test:
    """A branch test: `op` is "and", "or" or "not" over `parts`; "opaque" (known by `key`);
    or a comparison of parameter `param` with `value`: "is", "is not", "==", "!=",
    "truthy", "isinstance" (`value` a builtin type's name)."""

    op: str
    parts: tuple[Test, ...] = ()
    param: str = ""
    value: Constant = None
    key: int = 0

    def to_json(self) -> list[Any]:
        if self.op in ("and", "or", "not"):
            return [self.op, [part.to_json() for part in self.parts]]
        if self.op == "opaque":
            return ["opaque", self.key]
        return [self.op, self.param, self.value]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Test:
        op = str(data[0])
        if op in ("and", "or", "not"):
            return cls(op, tuple(cls.from_json(part) for part in data[1]))
        if op == "opaque":
            return cls(op, key=int(data[1]))
        return cls(op, param=str(data[1]), value=data[2])


# The tests a call runs under, each with the outcome it needs (`(test, False)`: in the
# `else`, or after `if test: return`).
Path = tuple[tuple[Test, bool], ...]


def path_to_json(path: Path) -> list[Any]:
    return [[test.to_json(), outcome] for test, outcome in path]


def path_from_json(data: Sequence[Any]) -> Path:
    return tuple((Test.from_json(test), bool(outcome)) for test, outcome in data)


def compare(op: str, value: Argument, expected: Constant) -> Truth:
    """A comparison of a known argument with a constant."""
    if value.kind in ("unknown", "param", "made"):
        return Truth.UNKNOWN
    if value.kind in ("ref", "instance"):  # an object, never a constant
        if op == "truthy" and value.kind == "ref":  # a class or function is truthy
            return Truth.TRUE
        if expected is None and op in ("is", "is not"):
            return Truth.FALSE if op == "is" else Truth.TRUE
        return Truth.UNKNOWN
    actual = value.value
    if op == "truthy":
        result = bool(actual)
    elif op in ("is", "is not"):
        same = type(actual) is type(expected) and actual == expected
        result = same if op == "is" else not same
    elif op in ("==", "!="):
        equal = actual == expected
        result = equal if op == "==" else not equal
    elif op == "isinstance" and isinstance(expected, str) and expected in _BUILTIN_TYPES:
        result = isinstance(actual, _BUILTIN_TYPES[expected])
    else:
        return Truth.UNKNOWN
    return Truth.TRUE if result else Truth.FALSE
