"""The condition language of `branch` and `while`: parsed once, evaluated safely.

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand (("=="|"!="|"<"|"<="|">"|">=") operand)?
    operand    := number | "quoted string" | true | false | null | slot_name | "(" expression ")"

`and` binds tighter than `or`, so `a or b and c` is `a or (b and c)`. A slot without a
value is null; ordering comparisons with null are false rather than errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from soni.errors import ConditionError

Value = str | int | float | bool | None

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<operator>==|!=|<=|>=|<|>)
      | (?P<paren>[()])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "none"}


@dataclass(frozen=True)
class Literal:
    value: Value

    def evaluate(self, slots: Mapping[str, Value]) -> Value:
        return self.value


@dataclass(frozen=True)
class SlotRef:
    name: str

    def evaluate(self, slots: Mapping[str, Value]) -> Value:
        return slots.get(self.name)


@dataclass(frozen=True)
class Not:
    operand: Node

    def evaluate(self, slots: Mapping[str, Value]) -> Value:
        return not _truthy(self.operand.evaluate(slots))


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    left: Node
    right: Node

    def evaluate(self, slots: Mapping[str, Value]) -> Value:
        left = _truthy(self.left.evaluate(slots))
        if self.op == "and":
            return left and _truthy(self.right.evaluate(slots))
        return left or _truthy(self.right.evaluate(slots))


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node

    def evaluate(self, slots: Mapping[str, Value]) -> Value:
        left = _normalise(self.left.evaluate(slots))
        right = _normalise(self.right.evaluate(slots))
        if self.op == "==":
            return _equal(left, right)
        if self.op == "!=":
            return not _equal(left, right)
        if isinstance(left, bool) or isinstance(right, bool):
            return False
        if isinstance(left, float) and isinstance(right, float):
            return _order(self.op, left, right)
        if isinstance(left, str) and isinstance(right, str):
            return _order(self.op, left, right)
        return False  # null, or a number against a string: not ordered


Node = Literal | SlotRef | Not | BoolOp | Compare


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its source text, tree and the slots it reads."""

    source: str
    tree: Node
    slots: frozenset[str]

    def evaluate(self, slots: Mapping[str, Value]) -> bool:
        return _truthy(self.tree.evaluate(slots))


def parse_condition(source: str) -> Condition:
    parser = _Parser(source)
    tree = parser.parse()
    return Condition(source, tree, frozenset(parser.names))


_Ordered = TypeVar("_Ordered", float, str)


def _order(op: str, left: _Ordered, right: _Ordered) -> bool:
    """`left op right` for two numbers or two strings."""
    pairs = {"<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (1, 0)}
    sign = (left > right) - (left < right)
    return sign in pairs[op]


def _equal(left: Value, right: Value) -> bool:
    """Equality where a boolean is never equal to a number (`true == 1` is false)."""
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return left == right


def _truthy(value: Value) -> bool:
    return bool(value)


def _normalise(value: Value) -> Value:
    """Numbers compare as numbers whatever their type; `true`/`"true"` are not merged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = self._tokenize(source)
        self.index = 0
        self.names: set[str] = set()

    def _tokenize(self, source: str) -> list[tuple[str, str, int]]:
        tokens = []
        position = 0
        while position < len(source):
            if source[position:].strip() == "":
                break
            match = _TOKEN.match(source, position)
            if match is None or match.lastgroup is None:
                column = len(source) - len(source[position:].lstrip())
                raise ConditionError(source, column, "unexpected character")
            start = match.start(match.lastgroup)
            tokens.append((match.lastgroup, match.group(match.lastgroup), start))
            position = match.end()
        return tokens

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self) -> tuple[str, str, int]:
        token = self._peek()
        if token is None:
            raise ConditionError(self.source, len(self.source), "unexpected end")
        self.index += 1
        return token

    def _is_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token[0] == "name" and token[1].lower() == word

    def parse(self) -> Node:
        if not self.tokens:
            raise ConditionError(self.source, 0, "empty condition")
        tree = self._or()
        extra = self._peek()
        if extra is not None:
            raise ConditionError(self.source, extra[2], f"unexpected {extra[1]!r}")
        return tree

    def _or(self) -> Node:
        node = self._and()
        while self._is_word("or"):
            self._take()
            node = BoolOp("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._is_word("and"):
            self._take()
            node = BoolOp("and", node, self._not())
        return node

    def _not(self) -> Node:
        if self._is_word("not"):
            self._take()
            return Not(self._not())
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._operand()
        token = self._peek()
        if token is not None and token[0] == "operator":
            self._take()
            return Compare(token[1], left, self._operand())
        return left

    def _operand(self) -> Node:
        kind, text, position = self._take()
        if kind == "number":
            return Literal(float(text) if "." in text else int(text))
        if kind == "string":
            return Literal(re.sub(r"\\(.)", r"\1", text[1:-1]))
        if kind == "paren" and text == "(":
            node = self._or()
            closing = self._take()
            if closing[1] != ")":
                raise ConditionError(self.source, closing[2], "expected ')'")
            return node
        if kind == "name":
            word = text.lower()
            if word in ("true", "false"):
                return Literal(word == "true")
            if word in ("null", "none"):
                return Literal(None)
            if word in _KEYWORDS:
                raise ConditionError(self.source, position, f"unexpected {text!r}")
            self.names.add(text)
            return SlotRef(text)
        raise ConditionError(self.source, position, f"unexpected {text!r}")
