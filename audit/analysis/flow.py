"""Which local names hold objects the caller passed in, statement by statement.

A function's flow starts with each checked parameter bound to itself. Assignments propagate
that through aliases (`x = p`, `x = p.a`, `x = p[k]`, `for x in p`, `x = next(...)`), copies
cut it (`p = list(p)` holds a fresh container whose items are still the caller's), and
branches merge what each path may hold. Every write to an object the caller owns is recorded
as a `Mutation`; the MUT rules decide afterwards, with resolved names and annotations, which
ones to report. Loops are walked once, so aliasing created late in a loop body and used early
in the next iteration is not seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import libcst as cst

from audit.analysis.names import dotted_name
from audit.analysis.writes import MutationKind
from audit.catalogue import load_data_file


@dataclass(frozen=True)
class Origin:
    """An object reachable from parameter `param`; `aliases` are the local names it went
    through (oldest first); `inner` when it is something inside the parameter, not the
    parameter itself."""

    param: str
    aliases: tuple[str, ...] = ()
    inner: bool = False

    def via(self, name: str) -> Origin:
        current = self.aliases[-1] if self.aliases else self.param
        if name == current:
            return self
        return Origin(self.param, (*self.aliases, name), self.inner)

    def child(self) -> Origin:
        return Origin(self.param, self.aliases, True)

    def describe(self) -> str:
        """`step (from all_steps)`, `y (from x, from p)`; the parameter itself: `p`."""
        if not self.aliases:
            return self.param
        sources = (self.param, *self.aliases[:-1])
        return f"{self.aliases[-1]} (from {', from '.join(reversed(sources))})"


@dataclass(frozen=True)
class Copy:
    """A fresh container (a shallow copy or a view) whose items belong to `source`."""

    source: Origin

    def via(self, name: str) -> Copy:
        return Copy(self.source.via(name))

    def child(self) -> Origin:
        return self.source.child()


Value = Origin | Copy
Values = frozenset[Value]
EMPTY: Values = frozenset()


@dataclass(frozen=True)
class Mutation:
    """A write to an object reachable from a parameter, recorded where it happens.

    `detail` is the attribute, method or operator; `callee` the function called (FUNCTION
    events are resolved later); `literal` what kind of literal the right-hand side of an
    augmented assignment is ("list", "set", "dict" or "")."""

    kind: MutationKind
    node: cst.CSTNode
    origin: Origin
    detail: str
    callee: cst.BaseExpression | None = None
    literal: str = ""


@cache
def _mutating_methods() -> frozenset[str]:
    data = load_data_file("mutation.toml")
    return frozenset(m for names in data["methods"].values() for m in names)


_ACCESSORS = frozenset({"get", "setdefault", "pop", "popitem", "__getitem__"})
_VIEWS = frozenset({"values", "items", "__iter__"})
_COPY_METHODS = frozenset({"copy", "model_copy", "_replace", "__copy__"})
_COPY_FUNCTIONS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "sorted",
        "reversed",
        "iter",
        "copy",
        "copy.copy",
        "replace",
        "dataclasses.replace",
    }
)
_DEEP_COPIES = frozenset({"deepcopy", "copy.deepcopy"})
_IN_PLACE_OPERATORS = {
    cst.AddAssign: "+=",
    cst.BitOrAssign: "|=",
    cst.BitAndAssign: "&=",
    cst.SubtractAssign: "-=",
    cst.BitXorAssign: "^=",
    cst.MultiplyAssign: "*=",
}


Member = tuple[str, str]  # (local name, ".attr" or "[key]")


@dataclass(frozen=True)
class Snapshot:
    state: dict[str, Values]
    members: dict[Member, Values]
    done: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()


@dataclass
class FunctionFlow:
    """The alias state of one function while its body is walked in source order.

    `state` maps local names to what they may hold; `members` remembers what was stored
    into `name.attr` / `name[key]` since (`x[k] = x[k].copy()` makes `x[k]` fresh).
    `done` are the futures (names as written, `self._fut`) known to be done on every path
    here; `pending` those with a done-callback registered and not awaited since.
    """

    state: dict[str, Values] = field(default_factory=dict)
    members: dict[Member, Values] = field(default_factory=dict)
    mutations: list[Mutation] = field(default_factory=list)
    reachable: bool = True
    done: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()
    _seen: set[tuple[int, str]] = field(default_factory=set)

    @classmethod
    def for_parameters(cls, names: Iterable[str]) -> FunctionFlow:
        return cls({name: frozenset({Origin(name)}) for name in names})

    # -- control flow --------------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        if not self.reachable:
            return None
        return Snapshot(dict(self.state), dict(self.members), self.done, self.pending)

    def restore(self, snapshot: Snapshot | None) -> None:
        self.reachable = snapshot is not None
        self.state = dict(snapshot.state) if snapshot is not None else {}
        self.members = dict(snapshot.members) if snapshot is not None else {}
        self.done = snapshot.done if snapshot is not None else frozenset()
        self.pending = snapshot.pending if snapshot is not None else frozenset()

    def merge(self, *snapshots: Snapshot | None) -> None:
        """Continue with what any of the given paths (and the current one) may hold."""
        live = [s for s in (*snapshots, self.snapshot()) if s is not None]
        if not live:
            self.restore(None)
            return
        state: dict[str, Values] = {}
        for snapshot in live:
            for name, values in snapshot.state.items():
                state[name] = state.get(name, EMPTY) | values
        shared = set.intersection(*(set(snapshot.members) for snapshot in live))
        members = {
            key: frozenset().union(*(snapshot.members[key] for snapshot in live)) for key in shared
        }
        # Done on every path stays done; subscribed to on every path (and perhaps done on
        # some) is still waited for at the next await.
        done = frozenset.intersection(*(snapshot.done for snapshot in live))
        subscribed = frozenset.intersection(*(s.pending | s.done for s in live))
        self.restore(Snapshot(state, members, done, subscribed - done))

    def restore_names(self, snapshot: Snapshot | None, names: Iterable[str]) -> None:
        """Put back what `names` held at `snapshot` (the variables of a comprehension that
        has ended), keeping what every other name holds now."""
        if snapshot is None:
            return
        for name in names:
            self.forget(name)
            if name in snapshot.state:
                self.state[name] = snapshot.state[name]
            for key, values in snapshot.members.items():
                if key[0] == name:
                    self.members[key] = values

    def stop(self) -> None:
        """After `return` or `raise` nothing flows on from here."""
        self.reachable = False

    # -- futures -------------------------------------------------------------------------

    def settle(self, future: str) -> None:
        """`future` is done from here on (it was awaited, or checked with `done()`)."""
        self.done = self.done | {future}
        self.pending = self.pending - {future}

    def subscribe(self, future: str) -> None:
        """`future.add_done_callback(...)`: the coroutine waits for it at its next await."""
        self.pending = self.pending | {future}

    def awaited(self) -> None:
        """An `await`: futures the coroutine subscribed to are done when it resumes."""
        if self.pending:
            self.done = self.done | self.pending
            self.pending = frozenset()

    # -- values --------------------------------------------------------------------------

    def value(self, expr: cst.BaseExpression) -> Values:
        if isinstance(expr, cst.Name):
            return self.state.get(expr.value, EMPTY)
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            member = _member(expr)
            if member is not None and member in self.members:
                return self.members[member]
            return _children(self.value(expr.value))
        if isinstance(expr, cst.BooleanOperation):
            return self.value(expr.left) | self.value(expr.right)
        if isinstance(expr, cst.IfExp):
            return self.value(expr.body) | self.value(expr.orelse)
        if isinstance(expr, cst.NamedExpr):
            return self.value(expr.value)
        if isinstance(expr, cst.Call):
            return self._call_value(expr)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            return _copies(
                v
                for element in expr.elements
                if isinstance(element, cst.StarredElement)
                for v in self.value(element.value)
            )
        if isinstance(expr, cst.Dict):
            return _copies(
                v
                for element in expr.elements
                if isinstance(element, cst.StarredDictElement)
                for v in self.value(element.value)
            )
        return EMPTY

    def _call_value(self, call: cst.Call) -> Values:
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = self.value(func.value)
            if method in _ACCESSORS:
                return _children(receiver)
            if method in _COPY_METHODS and _is_deep(call):
                return EMPTY
            if method in _VIEWS or method in _COPY_METHODS:
                return _copies(receiver)
        name = dotted_name(func)
        first = call.args[0].value if call.args and not call.args[0].star else None
        if name is None or first is None:
            return EMPTY
        if name in _COPY_FUNCTIONS:
            return _copies(self.value(first))
        if name == "next":
            if isinstance(first, cst.GeneratorExp):
                return self._generator_element(first)
            return self.iterate(first)
        return EMPTY

    def _generator_element(self, generator: cst.GeneratorExp) -> Values:
        """The value `next(x for x in p if ...)` returns: an element of `p`."""
        saved = dict(self.state)
        clause: cst.CompFor | None = generator.for_in
        while clause is not None:
            # The generator's own variable is not worth naming in messages: `next(...)`
            # returns an element of the iterable directly.
            self.bind_iteration(clause.target, clause.iter, alias=False)
            clause = clause.inner_for_in
        result = self.value(generator.elt)
        self.state = saved
        return result

    def iterate(self, expr: cst.BaseExpression) -> Values:
        """What iterating over `expr` yields."""
        return _children(self.value(expr))

    # -- bindings ------------------------------------------------------------------------

    def bind(self, name: str, values: Values, *, alias: bool = True) -> None:
        self.forget(name)
        if values:
            self.state[name] = frozenset(v.via(name) for v in values) if alias else values

    def forget(self, name: str) -> None:
        self.state.pop(name, None)
        if self.members:
            self.members = {key: values for key, values in self.members.items() if name not in key}

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, self.value(value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = _plain_elements(value)
            if elements is not None and len(elements) == len(target.elements):
                for element, item in zip(target.elements, elements, strict=True):
                    self.assign(element.value, item)
            else:
                self.unpack(target, _children(self.value(value)))
        elif isinstance(target, cst.StarredElement):
            self.unpack(target.value, _copies(self.value(value)))
        else:
            member = _member(target)
            if member is not None:
                label = member[0] + (member[1] if member[1][0] in ".[" else f"[{member[1]}]")
                self.members[member] = frozenset(v.via(label) for v in self.value(value))

    def unpack(self, target: cst.BaseExpression, values: Values, *, alias: bool = True) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, values, alias=alias)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.unpack(element.value, _children(values), alias=alias)
        elif isinstance(target, cst.StarredElement):
            self.unpack(target.value, values, alias=alias)

    def bind_iteration(
        self, target: cst.BaseExpression, iterable: cst.BaseExpression, *, alias: bool = True
    ) -> None:
        """Bind a `for` or comprehension target, seeing through enumerate/zip/items()."""
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(iterable, cst.Call):
            per_position = self._positional_iteration(iterable, len(target.elements))
            if per_position is not None:
                for element, values in zip(target.elements, per_position, strict=True):
                    self.unpack(element.value, values, alias=alias)
                return
        self.unpack(target, self.iterate(iterable), alias=alias)

    def _positional_iteration(self, call: cst.Call, width: int) -> list[Values] | None:
        name = dotted_name(call.func)
        args = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        if name == "enumerate" and args and width == 2:
            return [EMPTY, self.iterate(args[0])]
        if name == "zip" and len(args) == width:
            return [self.iterate(arg) for arg in args]
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "items" and width == 2:
            return [EMPTY, _children(self.value(func.value))]
        return None

    # -- writes --------------------------------------------------------------------------

    def record(
        self,
        kind: MutationKind,
        base: cst.BaseExpression,
        node: cst.CSTNode,
        detail: str,
        *,
        callee: cst.BaseExpression | None = None,
        literal: str = "",
    ) -> None:
        if not self.reachable:
            return
        for value in sorted(self.value(base), key=_order):
            if isinstance(value, Origin) and (id(node), value.param) not in self._seen:
                self._seen.add((id(node), value.param))
                self.mutations.append(Mutation(kind, node, value, detail, callee, literal))

    def store(self, target: cst.BaseExpression, statement: cst.CSTNode) -> None:
        """`target = ...` or `del target` where target is an attribute or an item."""
        if isinstance(target, cst.Attribute):
            self.record(MutationKind.ATTRIBUTE, target.value, statement, target.attr.value)
        elif isinstance(target, cst.Subscript):
            self.record(MutationKind.ITEM, target.value, statement, "[]")
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.store(element.value, statement)

    def augmented(self, node: cst.AugAssign) -> None:
        operator = _IN_PLACE_OPERATORS.get(type(node.operator))
        target = node.target
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            self.store(target, node)
        elif operator is not None and isinstance(target, cst.Name):
            self.record(
                MutationKind.AUGMENTED, target, node, operator, literal=_literal_kind(node.value)
            )

    def call(self, call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _mutating_methods():
            self.record(MutationKind.METHOD, func.value, call, func.attr.value)
        # Which function this is (`heappush`, maybe imported under another name) is only
        # known once the module's imports are resolved: record every candidate.
        name = dotted_name(func)
        if name is not None and call.args:
            first = call.args[0]
            if first.keyword is None and not first.star:
                self.record(MutationKind.FUNCTION, first.value, call, name, callee=func)


def _member(expr: cst.BaseExpression) -> Member | None:
    """`("x", ".a")` for `x.a`, `("x", "[k]")` for `x[k]` with a name or literal key."""
    if not isinstance(expr, (cst.Attribute, cst.Subscript)) or not isinstance(expr.value, cst.Name):
        return None
    if isinstance(expr, cst.Attribute):
        return expr.value.value, "." + expr.attr.value
    if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
        return None
    key = expr.slice[0].slice.value
    if isinstance(key, cst.Name):
        return expr.value.value, key.value
    if isinstance(key, (cst.SimpleString, cst.Integer)):
        return expr.value.value, "[" + key.value + "]"
    return None


def _is_deep(call: cst.Call) -> bool:
    """`model_copy(deep=True)` / pydantic v1 `copy(deep=True)` share nothing."""
    return any(
        arg.keyword is not None
        and arg.keyword.value == "deep"
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "True"
        for arg in call.args
    )


def _children(values: Values) -> Values:
    return frozenset(v.child() for v in values)


def _copies(values: Iterable[Value]) -> Values:
    return frozenset(Copy(v if isinstance(v, Origin) else v.source) for v in values)


def _order(value: Value) -> tuple[str, tuple[str, ...]]:
    origin = value if isinstance(value, Origin) else value.source
    return origin.param, origin.aliases


def _plain_elements(value: cst.BaseExpression) -> Sequence[cst.BaseExpression] | None:
    if isinstance(value, (cst.Tuple, cst.List)) and not any(
        isinstance(e, cst.StarredElement) for e in value.elements
    ):
        return [element.value for element in value.elements]
    return None


def _literal_kind(value: cst.BaseExpression) -> str:
    if isinstance(value, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(value, (cst.Set, cst.SetComp)):
        return "set"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict"
    return ""


class _NoFlow(FunctionFlow):
    """Module and class bodies: nothing to track, every operation does nothing."""

    def snapshot(self) -> Snapshot | None:
        return None

    def restore(self, snapshot: Snapshot | None) -> None:
        pass

    def merge(self, *snapshots: Snapshot | None) -> None:
        pass

    def restore_names(self, snapshot: Snapshot | None, names: Iterable[str]) -> None:
        pass

    def stop(self) -> None:
        pass

    def settle(self, future: str) -> None:
        pass

    def subscribe(self, future: str) -> None:
        pass

    def awaited(self) -> None:
        pass

    def bind(self, name: str, values: Values, *, alias: bool = True) -> None:
        pass

    def forget(self, name: str) -> None:
        pass

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        pass

    def bind_iteration(
        self, target: cst.BaseExpression, iterable: cst.BaseExpression, *, alias: bool = True
    ) -> None:
        pass

    def record(
        self,
        kind: MutationKind,
        base: cst.BaseExpression,
        node: cst.CSTNode,
        detail: str,
        *,
        callee: cst.BaseExpression | None = None,
        literal: str = "",
    ) -> None:
        pass

    def store(self, target: cst.BaseExpression, statement: cst.CSTNode) -> None:
        pass

    def augmented(self, node: cst.AugAssign) -> None:
        pass

    def call(self, call: cst.Call) -> None:
        pass


NO_FLOW: FunctionFlow = _NoFlow()
