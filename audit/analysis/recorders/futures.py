"""Futures known to be done where their result is read: `fut.result()` returns at once after
`await fut`, `await asyncio.wrap_future(fut)`, a `fut.done()` check, or an `await` that
follows `fut.add_done_callback(...)`.

Which futures are done depends on the path taken through the function, so the state
follows branches (done on every path stays done). A future settled by a waiter spotted by
name (`wrap_future`) is done only if that name is confirmed after the walk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from audit.analysis.assumptions import NOTHING, Assumption, Assumptions, Requirements
from audit.analysis.facts import Fact
from audit.analysis.model import CallSite, FunctionInfo
from audit.analysis.names import dotted_name
from audit.analysis.recorder import FlowRecorder, Walk


@dataclass
class _State:
    """Futures (as written: `self._fut`) done on every path here, each with what its being
    done rests on; and those with a done-callback registered and not awaited since."""

    done: dict[str, Requirements] = field(default_factory=dict)
    pending: frozenset[str] = frozenset()
    tracked: bool = True  # false in module and class bodies: nothing flows there


class Futures(FlowRecorder):
    fact = Fact.FUTURES

    def __init__(self, walk: Walk) -> None:
        super().__init__(walk)
        self._state = _State(tracked=False)
        self._outer: list[_State] = []
        self._settled: dict[int, Requirements] = {}

    def is_settled(self, site: CallSite, assumptions: Assumptions) -> bool:
        """`fut.result()` (or `.exception()`) on a future known to be done."""
        requires = self._settled.get(id(site.node))
        return requires is not None and assumptions.hold(requires)

    # -- branches ------------------------------------------------------------------------

    def snapshot(self) -> object:
        return _State(dict(self._state.done), self._state.pending, self._state.tracked)

    def restore(self, snapshot: object | None) -> None:
        if isinstance(snapshot, _State):
            self._state = _State(dict(snapshot.done), snapshot.pending, snapshot.tracked)
        else:  # a path that cannot be reached
            self._state = _State(tracked=self._state.tracked)

    def join(self, live: Sequence[object]) -> None:
        states = [state for state in live if isinstance(state, _State)]
        names = set.intersection(*(set(state.done) for state in states))
        done = {name: frozenset().union(*(state.done[name] for state in states)) for name in names}
        # Subscribed to on every path (and perhaps done on some) is still waited for at
        # the next await.
        subscribed = frozenset.intersection(*(s.pending | set(s.done) for s in states))
        self._state = _State(done, subscribed - set(done), self._state.tracked)

    def function_entered(self, info: FunctionInfo) -> None:
        self._outer.append(self._state)
        self._state = _State()

    def function_left(self, info: FunctionInfo) -> None:
        self._state = self._outer.pop()

    def class_entered(self) -> None:
        self._outer.append(self._state)
        self._state = _State(tracked=False)

    def class_left(self) -> None:
        self._state = self._outer.pop()

    # -- hooks ---------------------------------------------------------------------------

    def call(self, site: CallSite) -> None:
        """`fut.result()` once `fut` is done; `fut.add_done_callback(...)` subscribes."""
        func = site.node.func
        if type(func) is not cst.Attribute or not self._state.tracked:
            return
        method = func.attr.value
        if method not in ("result", "exception", "add_done_callback"):
            return
        receiver = dotted_name(func.value)
        if receiver is None:
            return
        if method == "add_done_callback":
            self._state.pending = self._state.pending | {receiver}
        elif receiver in self._state.done:
            self._settled[id(site.node)] = self._state.done[receiver]

    def awaited(self, node: cst.Await) -> None:
        if not self._state.tracked:
            return
        state = self._state
        if state.pending:  # the coroutine waited: the futures it subscribed to are done
            for name in state.pending:
                state.done[name] = NOTHING
            state.pending = frozenset()
        future = self._awaited_future(node.expression)
        if future is not None:
            self._settle(*future)

    def assumes(self, test: cst.BaseExpression, value: bool) -> None:
        """`if fut.done():` and `else` of `if not fut.done():`, and after `while not
        fut.done(): ...`: the future is done from here."""
        if not self._state.tracked:
            return
        negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
        if negated == value:
            return
        if negated:
            assert isinstance(test, cst.UnaryOperation)
            test = test.expression
        if (
            isinstance(test, cst.Call)
            and not test.args
            and isinstance(test.func, cst.Attribute)
            and test.func.attr.value == "done"
        ):
            future = dotted_name(test.func.value)
            if future is not None:
                self._settle(future, NOTHING)

    def _settle(self, future: str, requires: Requirements) -> None:
        state = self._state
        known = state.done.get(future)
        if known is None or len(requires) < len(known):
            state.done[future] = requires
        state.pending = state.pending - {future}

    def _awaited_future(self, expression: cst.BaseExpression) -> tuple[str, Requirements] | None:
        """The future an `await` leaves done: `await fut`, `await asyncio.wrap_future(fut)`,
        `await asyncio.shield(asyncio.wrap_future(fut))`."""
        waiters = self.walk.catalogue.future_waiters
        requires: Requirements = NOTHING
        while isinstance(expression, cst.Call):
            name = dotted_name(expression.func)
            if name is None or not waiters.spots(name):
                return None
            if not expression.args or expression.args[0].keyword is not None:
                return None
            requires = requires | {Assumption(id(expression), waiters)}
            expression = expression.args[0].value
        future = dotted_name(expression)
        return (future, requires) if future is not None else None
