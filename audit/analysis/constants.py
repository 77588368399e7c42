"""Conditions whose value is known before the code runs.

`if True:`, `if TYPE_CHECKING:` and checks of `sys.version_info` / `sys.platform` / `os.name`
decide which branch runs on the interpreter the code is audited for; the walker does not
analyse a branch that cannot run there, and reads an `if TYPE_CHECKING:` body for its names
only. Anything else (including names that merely look constant) is unknown.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import libcst as cst

from audit.analysis.names import dotted_name


class Truth(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    TYPE_CHECKING = "type-checking"  # true for type checkers, false at run time
    UNKNOWN = "unknown"


_COMPARISONS: dict[type[cst.BaseCompOp], Callable[[Any, Any], bool]] = {
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
}
# `platform.system()` on each `sys.platform`.
_SYSTEMS = {"linux": "Linux", "win32": "Windows", "darwin": "Darwin", "cygwin": "CYGWIN_NT"}
_FLIPPED: dict[Callable[[Any, Any], bool], Callable[[Any, Any], bool]] = {
    operator.lt: operator.gt,
    operator.le: operator.ge,
    operator.gt: operator.lt,
    operator.ge: operator.le,
}
_TYPE_CHECKING = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING", "t.TYPE_CHECKING"})
_UNKNOWN = object()


class _Version(tuple[int, ...]):
    """`sys.version_info` of the target: only major and minor are known."""

    @property
    def known(self) -> tuple[int, ...]:
        return tuple(self)


def _module_level(
    statements: Sequence[cst.BaseStatement],
) -> Iterator[cst.BaseSmallStatement]:
    """The simple statements that run in the module's own scope, in blocks too (an
    assignment under `try:` or `if` still binds a module name); not in functions or classes."""
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            continue
        elif isinstance(statement, cst.BaseCompoundStatement):
            for suite in _suites(statement):
                if isinstance(suite, cst.IndentedBlock):
                    yield from _module_level(suite.body)
                elif isinstance(suite, cst.SimpleStatementSuite):
                    yield from suite.body


def _suites(statement: cst.BaseCompoundStatement) -> list[cst.BaseSuite]:
    suites: list[cst.BaseSuite] = [statement.body]
    for name in ("orelse", "finalbody"):
        extra = getattr(statement, name, None)
        while extra is not None:
            suites.append(extra.body)
            extra = getattr(extra, "orelse", None) if isinstance(extra, cst.If) else None
    suites += [handler.body for handler in getattr(statement, "handlers", ())]
    suites += [case.body for case in getattr(statement, "cases", ())]
    return suites


def _assigned(statement: cst.BaseSmallStatement) -> list[tuple[str, bool | None]]:
    """`(name, value)` for each name a top-level statement binds; the value when it is the
    literal `True` or `False`, else None."""
    if isinstance(statement, cst.Assign):
        literal = _boolean_literal(statement.value)
        targets = [t.target for t in statement.targets]
        return [
            (t.value, literal if len(targets) == 1 else None)
            for t in targets
            if isinstance(t, cst.Name)
        ]
    if isinstance(statement, (cst.AnnAssign, cst.AugAssign)) and isinstance(
        statement.target, cst.Name
    ):
        value = statement.value if isinstance(statement, cst.AnnAssign) else None
        literal = _boolean_literal(value) if value is not None else None
        return [(statement.target.value, literal)]
    if isinstance(statement, (cst.Import, cst.ImportFrom)) and not isinstance(
        statement.names, cst.ImportStar
    ):
        return [
            (alias.evaluated_alias or alias.evaluated_name.split(".")[0], None)
            for alias in statement.names
        ]
    return []


def _boolean_literal(value: cst.BaseExpression) -> bool | None:
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None


def _kind(value: Any) -> type:
    return tuple if isinstance(value, tuple) else type(value)


def _versions(
    left: _Version, right: tuple[Any, ...], compare: Callable[[Any, Any], bool]
) -> bool | None:
    """`sys.version_info <op> right`, or None when the unknown micro version decides it."""
    if not all(isinstance(item, int) for item in right):
        return None
    if compare in (operator.eq, operator.ne):
        return None  # the real tuple is longer than any literal: people slice first
    head = right[:2]
    if left.known[: len(head)] != head:
        return bool(compare(left.known[: len(head)], head))
    if len(right) <= 2:
        # (3, 11, micro, ...) is greater than (3, 11) and than (3,)
        return compare in (operator.gt, operator.ge, operator.ne)
    return None


class ConditionReader:
    """Evaluates conditions for one target interpreter (`(3, 11)`, `"linux"`) and the flags
    of one module (`_IS_SYNC = False`, see `with_module_flags`)."""

    def __init__(
        self, version: tuple[int, int], platform: str, flags: Mapping[str, bool] | None = None
    ) -> None:
        self.version = version
        self.platform = platform
        self.os_name = "nt" if platform == "win32" else "posix"
        self.flags: Mapping[str, bool] = flags or {}

    def with_module_flags(self, module: cst.Module, text: str) -> ConditionReader:
        """This reader, also knowing the module's flags: names assigned `True` or `False`
        once at the top level of a module that never rebinds them with `global` (code
        generated for a sync and an async variant tests such a flag)."""
        if "global" in text or ("True" not in text and "False" not in text):
            return self
        values: dict[str, bool | None] = {}
        for small in _module_level(module.body):
            for name, value in _assigned(small):
                values[name] = value if name not in values else None
        flags = {name: value for name, value in values.items() if value is not None}
        if not flags:
            return self
        return ConditionReader(self.version, self.platform, flags)

    def truth(self, test: cst.BaseExpression) -> Truth:
        if isinstance(test, cst.Name) and test.value in ("True", "False"):
            return Truth.TRUE if test.value == "True" else Truth.FALSE
        if isinstance(test, cst.Name) and test.value in self.flags:
            return Truth.TRUE if self.flags[test.value] else Truth.FALSE
        if isinstance(test, cst.Integer):
            return Truth.TRUE if test.evaluated_value else Truth.FALSE
        name = dotted_name(test)
        if name is not None and (name in _TYPE_CHECKING or name.endswith(".TYPE_CHECKING")):
            return Truth.TYPE_CHECKING
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self.truth(test.expression)
            if inner is Truth.TRUE:
                return Truth.FALSE
            if inner is Truth.FALSE:
                return Truth.TRUE
            return Truth.UNKNOWN
        if isinstance(test, cst.BooleanOperation):
            return self._boolean(test)
        value = self._value(test)
        if isinstance(value, bool):
            return Truth.TRUE if value else Truth.FALSE
        return Truth.UNKNOWN

    def _boolean(self, test: cst.BooleanOperation) -> Truth:
        left, right = self.truth(test.left), self.truth(test.right)
        known = (Truth.TRUE, Truth.FALSE)
        if isinstance(test.operator, cst.And):
            if Truth.FALSE in (left, right):
                return Truth.FALSE
            return Truth.TRUE if left is right is Truth.TRUE else Truth.UNKNOWN
        if Truth.TRUE in (left, right):
            return Truth.TRUE
        return Truth.FALSE if left in known and right in known else Truth.UNKNOWN

    # -- values ----------------------------------------------------------------------------

    def _value(self, expr: cst.BaseExpression) -> Any:
        """The value of a version or platform expression, or `_UNKNOWN`."""
        if isinstance(expr, cst.Comparison):
            return self._comparison(expr)
        if isinstance(expr, cst.Integer):
            return expr.evaluated_value
        if isinstance(expr, cst.SimpleString):
            return expr.evaluated_value
        if isinstance(expr, cst.Tuple):
            items = [self._value(element.value) for element in expr.elements]
            return _UNKNOWN if any(item is _UNKNOWN for item in items) else tuple(items)
        name = dotted_name(expr)
        if name == "sys.version_info":
            return _Version(self.version)
        if name in ("sys.version_info.major", "sys.version_info.minor"):
            return self.version[0 if name.endswith("major") else 1]
        if name == "sys.platform":
            return self.platform
        if name == "os.name":
            return self.os_name
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr)
        if isinstance(expr, cst.Call):
            if name is None and dotted_name(expr.func) == "platform.system" and not expr.args:
                return _SYSTEMS.get(self.platform, _UNKNOWN)
            return self._startswith(expr)
        return _UNKNOWN

    def _comparison(self, expr: cst.Comparison) -> Any:
        left = self._value(expr.left)
        if left is _UNKNOWN:
            return _UNKNOWN
        for target in expr.comparisons:
            right = self._value(target.comparator)
            if isinstance(target.operator, (cst.In, cst.NotIn)):  # `platform.system() in (...)`
                if not isinstance(left, str) or not isinstance(right, tuple):
                    return _UNKNOWN
                if (left in right) is not isinstance(target.operator, cst.In):
                    return False
                left = right
                continue
            compare = _COMPARISONS.get(type(target.operator))
            if compare is None or right is _UNKNOWN or _kind(left) is not _kind(right):
                return _UNKNOWN
            if isinstance(left, _Version):
                result = _versions(left, right, compare)
            elif isinstance(right, _Version):
                result = _versions(right, left, _FLIPPED.get(compare, compare))
            else:
                result = compare(left, right)
            if result is None:
                return _UNKNOWN
            if not result:
                return False
            left = right
        return True

    def _subscript(self, expr: cst.Subscript) -> Any:
        base = self._value(expr.value)
        if not isinstance(base, _Version) or len(expr.slice) != 1:
            return _UNKNOWN
        element = expr.slice[0].slice
        if isinstance(element, cst.Index) and isinstance(element.value, cst.Integer):
            index = int(element.value.evaluated_value)
            return base.known[index] if index in (0, 1) else _UNKNOWN
        if isinstance(element, cst.Slice) and element.lower is None and element.step is None:
            upper = element.upper
            if isinstance(upper, cst.Integer) and 0 < int(upper.evaluated_value) <= 2:
                return base.known[: int(upper.evaluated_value)]
        return _UNKNOWN

    def _startswith(self, call: cst.Call) -> Any:
        """`sys.platform.startswith("linux")` (or a tuple of prefixes)."""
        func = call.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value == "startswith"
            and len(call.args) == 1
        ):
            return _UNKNOWN
        subject = self._value(func.value)
        prefix = self._value(call.args[0].value)
        if not isinstance(subject, str):
            return _UNKNOWN
        if isinstance(prefix, str):
            return subject.startswith(prefix)
        if isinstance(prefix, tuple) and all(isinstance(item, str) for item in prefix):
            return subject.startswith(prefix)
        return _UNKNOWN
