"""The conditions each call depends on, and the exceptions handled around it.

A call under `if`, in a loop that may not run, in an `except` handler, after an early
`return` (or in any other region that runs only on a condition) is off its function's
ordinary path: BLK105 names the outermost such condition. All of them, read as data with
the outcome each needs (`path`), let the project pass judge a callee's branches with the
arguments of one call: `create_ssl_context()` with `verify` left at `True` takes the branch
that loads the CA bundle. The exceptions caught around a call say how the code expects it
to fail (`except BlockingIOError` around `sock.recv()`: the socket is non-blocking).
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from audit.analysis.branch_tests import read_test
from audit.analysis.constants import ConditionReader, Truth
from audit.analysis.facts import Fact
from audit.analysis.model import CallSite, FunctionInfo, Guard, GuardKind
from audit.analysis.names import dotted_name
from audit.analysis.recorder import Recorder, Walk
from audit.core.conditions import Path, Test

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


class Guards(Recorder):
    fact = Fact.GUARDS

    def __init__(self, walk: Walk) -> None:
        super().__init__(walk)
        self._guards: tuple[Guard, ...] = ()  # the conditions around here, outermost first
        self._handled: frozenset[str] = frozenset()  # exceptions caught around here
        self._outer: list[tuple[tuple[Guard, ...], frozenset[str]]] = []
        self._at: dict[int, tuple[Guard, ...]] = {}
        self._handled_at: dict[int, frozenset[str]] = {}
        self._keys: dict[int, int] = {}  # an opaque test's key, by identity, module-wide
        self._paths: dict[int, Path] = {}

    # -- facts ---------------------------------------------------------------------------

    def guard(self, site: CallSite) -> Guard | None:
        """The condition the call depends on (None: on its function's ordinary path)."""
        guards = self._at.get(id(site.node))
        return guards[0] if guards else None

    def path(self, site: CallSite, parameters: frozenset[str]) -> Path:
        """Every test the call runs under, innermost last, with the outcome it needs;
        `parameters`: the names that hold the function's arguments wherever they are read
        (never rebound). A loop, a handler or a `case` is an opaque test of its own."""
        guards = self._at.get(id(site.node), ())
        if not guards:
            return ()
        known = self._paths.get(id(guards))  # calls in one region share its tuple
        if known is not None:
            return known
        keys = self._keys

        def opaque(node: object) -> int:
            return keys.setdefault(id(node), len(keys) + 1)

        path = []
        for guard in guards:
            outcome = _OUTCOMES.get(guard.kind)
            if outcome is None or guard.decided_by is None:
                path.append((Test("opaque", key=opaque(guard)), True))
            else:
                path.append((read_test(guard.decided_by, parameters, opaque), outcome))
        self._paths[id(guards)] = found = tuple(path)
        return found

    def handled(self, site: CallSite) -> frozenset[str]:
        """The last part of each exception name caught around the call."""
        return self._handled_at.get(id(site.node), frozenset())

    # -- hooks ---------------------------------------------------------------------------

    def call(self, site: CallSite) -> None:
        if self._guards:
            self._at[id(site.node)] = self._guards
        if self._handled:
            self._handled_at[id(site.node)] = self._handled

    def function_entered(self, info: FunctionInfo) -> None:
        self._outer.append((self._guards, self._handled))
        self._guards, self._handled = (), frozenset()

    def function_left(self, info: FunctionInfo) -> None:
        self._guards, self._handled = self._outer.pop()

    def region_entered(self, kind: GuardKind, decided_by: cst.CSTNode | None) -> None:
        self._outer.append((self._guards, self._handled))
        self._guards = (*self._guards, Guard(kind, decided_by))

    def region_left(self) -> None:
        self._guards = self._outer.pop()[0]

    def trying(self, handlers: Sequence[cst.ExceptHandler | cst.ExceptStarHandler]) -> None:
        self._outer.append((self._guards, self._handled))
        self._handled = self._handled | _caught(handlers)

    def tried(self) -> None:
        self._handled = self._outer.pop()[1]

    def block_entered(self) -> None:
        self._outer.append((self._guards, self._handled))

    def statement_walked(self, statement: cst.BaseStatement) -> None:
        """After `if c: return`, the rest of the block runs only when `c` is false."""
        if returns_early(statement, self.walk.conditions):
            assert isinstance(statement, cst.If)
            self._guards = (*self._guards, Guard(GuardKind.AFTER_RETURN, statement.test))

    def block_left(self) -> None:
        self._guards = self._outer.pop()[0]


def returns_early(statement: cst.CSTNode, conditions: ConditionReader) -> bool:
    """`if c: ... return` with no `else`: what follows runs only when `c` is false."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    if conditions.truth(statement.test) is not Truth.UNKNOWN:
        return False
    body = statement.body
    last: cst.CSTNode | None = body.body[-1] if body.body else None
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else None
    return isinstance(last, cst.Return)


def _caught(handlers: Sequence[cst.ExceptHandler | cst.ExceptStarHandler]) -> frozenset[str]:
    """The last part of each exception name the handlers catch (`BlockingIOError`)."""
    names = set()
    for handler in handlers:
        caught = handler.type
        items = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        for item in items:
            name = dotted_name(item) if item is not None else None
            if name is not None:
                names.add(name.rpartition(".")[2])
    return frozenset(names)
