"""Every branch test a call runs under, read as data (`audit.core.conditions`).

`Guards` keeps the outermost condition, which is what a report names; this keeps them all,
with the outcome each needs (the `else` of `if t` needs `t` false, and so does the code after
`if t: return`), so the project pass can judge a callee's branches with the arguments of one
call: `create_ssl_context()` with `verify` left at `True` takes the branch that loads the CA
bundle whatever else holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import libcst as cst

from audit.analysis.facts import Fact
from audit.analysis.model import CallSite, FunctionInfo, GuardKind
from audit.analysis.recorder import Recorder, Walk
from audit.analysis.recorders.guards import returns_early
from audit.core.conditions import Constant, Path, Test

# Regions decided by a test: the outcome of the test each one needs.
_OUTCOMES = {
    GuardKind.IF: True,
    GuardKind.ELSE: False,
    GuardKind.AFTER_RETURN: False,
    GuardKind.OPERAND: True,
    GuardKind.ALTERNATIVE: False,
    GuardKind.BRANCH: True,
    GuardKind.BRANCH_ELSE: False,
}
_COMPARISONS: dict[type[cst.BaseCompOp], str] = {
    cst.Is: "is",
    cst.IsNot: "is not",
    cst.Equal: "==",
    cst.NotEqual: "!=",
}
_TYPES = frozenset({"str", "bytes", "int", "float", "bool"})

# One region around a call: its kind, the node deciding it, its ordinal in the module.
Region = tuple[GuardKind, cst.CSTNode | None, int]


class Paths(Recorder):
    fact = Fact.PATHS

    def __init__(self, walk: Walk) -> None:
        super().__init__(walk)
        self._regions: tuple[Region, ...] = ()
        self._outer: list[tuple[Region, ...]] = []
        self._at: dict[int, tuple[Region, ...]] = {}
        self._serial = itertools.count()
        self._keys: dict[int, int] = {}  # an opaque test's key, by identity, module-wide
        self._paths: dict[int, Path] = {}

    # -- facts ---------------------------------------------------------------------------

    def path(self, site: CallSite, parameters: frozenset[str]) -> Path:
        """The tests the call runs under, innermost last; `parameters`: the names that
        hold the function's arguments wherever they are read (never rebound)."""
        regions = self._at.get(id(site.node), ())
        if not regions:
            return ()
        known = self._paths.get(id(regions))  # calls in one region share its tuple
        if known is not None:
            return known
        keys = self._keys

        def opaque(identity: int) -> int:
            return keys.setdefault(identity, len(keys) + 1)

        path = []
        for kind, node, serial in regions:
            outcome = _OUTCOMES.get(kind)
            if outcome is None or node is None:  # a loop, a handler, a `case`: opaque
                path.append((Test("opaque", key=opaque(-1 - serial)), True))
            else:
                path.append((read_test(node, parameters, lambda n: opaque(id(n))), outcome))
        self._paths[id(regions)] = found = tuple(path)
        return found

    # -- hooks ---------------------------------------------------------------------------

    def call(self, site: CallSite) -> None:
        if self._regions:
            self._at[id(site.node)] = self._regions

    def function_entered(self, info: FunctionInfo) -> None:
        self._outer.append(self._regions)
        self._regions = ()

    def function_left(self, info: FunctionInfo) -> None:
        self._regions = self._outer.pop()

    def region_entered(self, kind: GuardKind, decided_by: cst.CSTNode | None) -> None:
        self._outer.append(self._regions)
        self._regions = (*self._regions, (kind, decided_by, next(self._serial)))

    def region_left(self) -> None:
        self._regions = self._outer.pop()

    def block_entered(self) -> None:
        self._outer.append(self._regions)

    def statement_walked(self, statement: cst.BaseStatement) -> None:
        if returns_early(statement, self.walk.conditions):
            assert isinstance(statement, cst.If)
            region = (GuardKind.AFTER_RETURN, statement.test, next(self._serial))
            self._regions = (*self._regions, region)

    def block_left(self) -> None:
        self._regions = self._outer.pop()


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
