"""Which local names hold objects the caller passed in, statement by statement.

A function's flow starts with each checked parameter bound to itself. Assignments propagate
that through aliases (`x = p`, `x = p.a`, `x = p[k]`, `for x in p`, `x = next(...)`), copies
cut it (`p = list(p)` holds a fresh container whose items are still the caller's), and
branches merge what each path may hold. Loops are walked once, so aliasing created late in a
loop body and used early in the next iteration is not seen.

The builtins and functions that copy or hand on items (`list`, `copy.copy`, `next`,
`enumerate`) are spotted by their spelling while the function is walked; each value they
give carries that assumption (`requires`), which the analysis checks once names are resolved.
Which writes go through these values is the writes recorder's business, not the flow's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import libcst as cst

from audit.analysis.assumptions import NOTHING, Assumption, Requirements
from audit.analysis.names import dotted_name
from audit.catalogue import Spotted, load_data_file


@dataclass(frozen=True)
class Origin:
    """An object reachable from parameter `param`; `aliases` are the local names it went
    through (oldest first); `inner` when it is something inside the parameter, not the
    parameter itself."""

    param: str
    aliases: tuple[str, ...] = ()
    inner: bool = False
    requires: Requirements = NOTHING  # the assumptions the path from the parameter rests on

    def via(self, name: str) -> Origin:
        current = self.aliases[-1] if self.aliases else self.param
        if name == current:
            return self
        return Origin(self.param, (*self.aliases, name), self.inner, self.requires)

    def child(self) -> Origin:
        return Origin(self.param, self.aliases, True, self.requires)

    def assuming(self, assumption: Assumption) -> Origin:
        return Origin(self.param, self.aliases, self.inner, self.requires | {assumption})

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

    def assuming(self, assumption: Assumption) -> Copy:
        return Copy(self.source.assuming(assumption))


Value = Origin | Copy
Values = frozenset[Value]
EMPTY: Values = frozenset()


@dataclass(frozen=True)
class _Calls:
    """The calls the flow follows (`[flow]` in mutation.toml)."""

    copies: Spotted
    elements: Spotted
    enumerate: Spotted
    zip: Spotted


@cache
def _calls() -> _Calls:
    table = load_data_file("mutation.toml")["flow"]
    return _Calls(*(Spotted(frozenset(table[key])) for key in _Calls.__dataclass_fields__))


_ACCESSORS = frozenset({"get", "setdefault", "pop", "popitem", "__getitem__"})
_VIEWS = frozenset({"values", "items", "__iter__"})
_COPY_METHODS = frozenset({"copy", "model_copy", "_replace", "__copy__"})


Member = tuple[str, str]  # (local name, ".attr" or "[key]")


@dataclass(frozen=True)
class Snapshot:
    state: dict[str, Values]
    members: dict[Member, Values]


@dataclass
class AliasFlow:
    """The alias state of one function while its body is walked in source order.

    `state` maps local names to what they may hold; `members` remembers what was stored
    into `name.attr` / `name[key]` since (`x[k] = x[k].copy()` makes `x[k]` fresh).
    `reachable` is false after a `return` or `raise`, until paths merge.
    """

    state: dict[str, Values] = field(default_factory=dict)
    members: dict[Member, Values] = field(default_factory=dict)
    reachable: bool = True

    @classmethod
    def for_parameters(cls, names: Iterable[str]) -> AliasFlow:
        return cls({name: frozenset({Origin(name)}) for name in names})

    # -- control flow --------------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        if not self.reachable:
            return None
        return Snapshot(dict(self.state), dict(self.members))

    def restore(self, snapshot: Snapshot | None) -> None:
        self.reachable = snapshot is not None
        self.state = dict(snapshot.state) if snapshot is not None else {}
        self.members = dict(snapshot.members) if snapshot is not None else {}

    def join(self, live: Sequence[Snapshot]) -> None:
        """Continue with what any of the live paths may hold."""
        state: dict[str, Values] = {}
        for snapshot in live:
            for name, values in snapshot.state.items():
                state[name] = state.get(name, EMPTY) | values
        shared = set.intersection(*(set(snapshot.members) for snapshot in live))
        members = {
            key: frozenset().union(*(snapshot.members[key] for snapshot in live)) for key in shared
        }
        self.restore(Snapshot(state, members))

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
        calls = _calls()
        if calls.copies.spots(name):
            return _assuming(_copies(self.value(first)), Assumption(id(call), calls.copies))
        if calls.elements.spots(name):
            if isinstance(first, cst.GeneratorExp):
                values = self._generator_element(first)
            else:
                values = self.iterate(first)
            return _assuming(values, Assumption(id(call), calls.elements))
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
        calls = _calls()
        if name is not None and calls.enumerate.spots(name) and args and width == 2:
            assumption = Assumption(id(call), calls.enumerate)
            return [EMPTY, _assuming(self.iterate(args[0]), assumption)]
        if name is not None and calls.zip.spots(name) and len(args) == width:
            assumption = Assumption(id(call), calls.zip)
            return [_assuming(self.iterate(arg), assumption) for arg in args]
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "items" and width == 2:
            return [EMPTY, _children(self.value(func.value))]
        return None


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


def _assuming(values: Values, assumption: Assumption) -> Values:
    return frozenset(value.assuming(assumption) for value in values)


def _plain_elements(value: cst.BaseExpression) -> Sequence[cst.BaseExpression] | None:
    if isinstance(value, (cst.Tuple, cst.List)) and not any(
        isinstance(e, cst.StarredElement) for e in value.elements
    ):
        return [element.value for element in value.elements]
    return None


class _NoFlow(AliasFlow):
    """Module and class bodies: nothing to track, every operation does nothing."""

    def snapshot(self) -> Snapshot | None:
        return None

    def restore(self, snapshot: Snapshot | None) -> None:
        pass

    def join(self, live: Sequence[Snapshot]) -> None:
        pass

    def restore_names(self, snapshot: Snapshot | None, names: Iterable[str]) -> None:
        pass

    def stop(self) -> None:
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


NO_FLOW: AliasFlow = _NoFlow(reachable=False)
