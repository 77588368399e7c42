"""Branch tests read as data (`audit.core.conditions`): what a test says of a function's
parameters compared with constants (`verify is True`, `not cached`, `isinstance(p, str)`),
the rest opaque, known by a key."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import libcst as cst

from audit.core.conditions import Constant, Test

_COMPARISONS: dict[type[cst.BaseCompOp], str] = {
    cst.Is: "is",
    cst.IsNot: "is not",
    cst.Equal: "==",
    cst.NotEqual: "!=",
}
_TYPES = frozenset({"str", "bytes", "int", "float", "bool"})


def read_test(
    node: cst.CSTNode, parameters: frozenset[str], opaque: Callable[[cst.CSTNode], int]
) -> Test:
    """A branch test as data: what it says of the parameters, the rest opaque."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        return Test("not", (read_test(node.expression, parameters, opaque),))
    if isinstance(node, cst.BooleanOperation):
        op = "and" if isinstance(node.operator, cst.And) else "or"
        parts = (
            read_test(node.left, parameters, opaque),
            read_test(node.right, parameters, opaque),
        )
        return Test(op, parts)
    if isinstance(node, cst.Name) and node.value in parameters:
        return Test("truthy", param=node.value)
    compared = _comparison(node, parameters) or _isinstance(node, parameters)
    return compared if compared is not None else Test("opaque", key=opaque(node))


def _comparison(node: cst.CSTNode, parameters: frozenset[str]) -> Test | None:
    """`p is None`, `p == "auto"`, `None is not p`: a parameter and a constant."""
    if not isinstance(node, cst.Comparison) or len(node.comparisons) != 1:
        return None
    target = node.comparisons[0]
    op = _COMPARISONS.get(type(target.operator))
    if op is None:
        return None
    for name, other in ((node.left, target.comparator), (target.comparator, node.left)):
        if isinstance(name, cst.Name) and name.value in parameters:
            for value in _constant(other):
                return Test(op, param=name.value, value=value)
    return None


def _isinstance(node: cst.CSTNode, parameters: frozenset[str]) -> Test | None:
    """`isinstance(p, str)` for a builtin type."""
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Name):
        return None
    if node.func.value != "isinstance" or len(node.args) != 2:
        return None
    value, kind = node.args[0].value, node.args[1].value
    if not isinstance(value, cst.Name) or value.value not in parameters:
        return None
    if not isinstance(kind, cst.Name) or kind.value not in _TYPES:
        return None
    return Test("isinstance", param=value.value, value=kind.value)


def constant(node: cst.CSTNode) -> tuple[bool, Constant]:
    """(True, value) for a literal constant (None, a bool, a number, a string)."""
    for value in _constant(node):
        return True, value
    return False, None


def _constant(node: cst.CSTNode) -> Iterator[Constant]:
    if isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        yield {"None": None, "True": True, "False": False}[node.value]
    elif isinstance(node, (cst.Integer, cst.Float)):
        yield node.evaluated_value
    elif isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        if isinstance(value, str):
            yield value
    elif (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, (cst.Integer, cst.Float))
    ):
        yield -node.expression.evaluated_value
