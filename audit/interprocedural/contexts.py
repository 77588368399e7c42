"""Whether one call blocks, given what it passes: its callee's branch tests judged with the
call's arguments (and the defaults of those it leaves out), down the chain.

The search of `Project` asks whether a function blocks whatever its callers pass, so a
function that blocks only when `verify is True` *may* block. A call that leaves `verify` at
its default `True` takes that branch: in that call's context the function blocks. Values
flow down the chain as constants, parameters passed on (`verify=verify`, `**kwargs`) and
classes (`super(owner, self)` with the class an argument); anything else is unknown.

A function blocks in a context when, once the tests on known values are decided, the
blocking calls left cover every outcome of the remaining tests (`if a: load() else:
load()` blocks whatever `a` is). Tests that stay unknown are independent propositions, so
the answer errs towards "may block", never towards a chain that does not run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from audit.core.conditions import UNKNOWN, Argument, Arguments, Path, Test, Truth, compare
from audit.core.facts import ARGUMENT_PREFIX, Edge, FunctionFacts, Leaf
from audit.interprocedural.chain import Blocked, Located


class Graph(Protocol):
    """What judging needs of the project's call graph (`Project`)."""

    @property
    def functions(self) -> Mapping[str, Located]: ...

    @property
    def nonblocking(self) -> frozenset[str]: ...

    def runs(self, edge: Edge) -> tuple[str, str | None] | None: ...

    def deferred_leaf(self, edge: Edge) -> tuple[Leaf, object] | None: ...

    def class_named(self, qualified: str, depth: int = 0) -> str | None: ...

    def resolve(self, qualified: str) -> str | None: ...


# The values a function runs with: its parameters, and under `**name` the keywords its
# `**kwargs` received ("**" itself: it may hold keywords nobody can name).
Context = Mapping[str, Argument]
_Key = tuple[str, tuple[tuple[str, Argument], ...]]
_MAX_UNKNOWN_TESTS = 10  # more unknown tests than this in one function: "may block"
_MAX_EVALUATIONS = 200_000  # functions judged per project pass


@dataclass(frozen=True)
class _Term:
    """One way a function blocks: the tests its call runs under, and what the call does
    (a chain that blocks in its context, or None: it may block)."""

    path: Path
    blocked: Blocked | None


class Contexts:
    """Judges calls in their context, each (function, context) once."""

    def __init__(self, project: Graph) -> None:
        self.project = project
        self._judged: dict[_Key, Blocked | bool] = {}
        self._active: set[_Key] = set()
        self._work = 0  # functions judged, counting those judged again
        self._cut: list[_Key] = []  # cycles cut short, by the key they came back to

    def judge(self, edge: Edge, caller: Context) -> Blocked | bool:
        """The chain by which the call blocks whatever branch its callee takes given the
        call's arguments; True when it only may block, False when it cannot."""
        ran = self.runs(edge, caller)
        if ran is None:
            return False
        callee, handed_on = ran
        return True if handed_on else self._judge(callee, self._bind(callee, edge, caller))

    def runs(self, edge: Edge, caller: Context) -> tuple[str, bool] | None:
        """The sync function the call runs (`super(p, self)` resolved with the class the
        context gives `p`), and whether it is a generator handed on, not run there."""
        if edge.callee.startswith(ARGUMENT_PREFIX):
            name, _, rest = edge.callee[len(ARGUMENT_PREFIX) :].partition(">")
            owner = caller.get(name, UNKNOWN)
            if owner.kind != "ref" or not isinstance(owner.value, str):
                return None
            edge = replace(edge, callee=f"{owner.value}{rest}")
        ran = self.project.runs(edge)
        if ran is None:
            return None
        return ran[0], ran[1] is not None and ran[1] != edge.guard

    # -- binding -------------------------------------------------------------------------

    def _bind(self, callee: str, edge: Edge, caller: Context) -> dict[str, Argument]:
        """The callee's context: each parameter's argument (the caller's value for one it
        passes on), its default when left out, unknown when `*args` or an unknown
        mapping may give it."""
        arguments = edge.arguments
        facts = self.project.functions[callee].facts
        parameters = list(facts.parameters)
        if parameters and parameters[0].name in ("self", "cls") and not _passes_self(arguments):
            parameters = parameters[1:]
        context: dict[str, Argument] = {}
        positional = [p for p in parameters if p.kind in ("positional_only", "positional")]
        for parameter, argument in zip(positional, arguments.positional, strict=False):
            context[parameter.name] = _value(argument, caller, self.project)
        by_name = {p.name: p for p in parameters if p.kind in ("positional", "keyword_only")}
        takes_any = any(p.kind == "double_star" for p in parameters)
        for name, argument in arguments.keywords:
            if name in by_name:
                context[name] = _value(argument, caller, self.project)
            elif takes_any:
                context[f"**{name}"] = _value(argument, caller, self.project)
        forwarded: dict[str, Argument] = {}
        anything = arguments.double_star == "" and arguments.keys is None
        if arguments.double_star:  # the caller's own `**kwargs`, passed on
            forwarded = {k[2:]: v for k, v in caller.items() if k.startswith("**") and k != "**"}
            anything = "**" in caller
        for name in arguments.keys or ():  # put in the mapping by the caller: unknown
            forwarded[name] = UNKNOWN
        for name, value in forwarded.items():
            if name in by_name and name not in context:
                context[name] = value
            elif takes_any and name not in by_name:
                context[f"**{name}"] = value
        if anything and takes_any:
            context["**"] = UNKNOWN
        for parameter in parameters:
            if parameter.name in context or parameter.kind in ("star", "double_star"):
                continue
            given_by_star = arguments.star and parameter.kind != "keyword_only"
            if anything or given_by_star or parameter.default is None:
                context[parameter.name] = UNKNOWN
            else:
                context[parameter.name] = parameter.default
        return context

    # -- judging -------------------------------------------------------------------------

    def _judge(self, function: str, context: Mapping[str, Argument]) -> Blocked | bool:
        """The chain if the function blocks in the context, True if it may, False if not."""
        key = (function, tuple(sorted(context.items())))
        known = self._judged.get(key)
        if known is not None:
            return known
        self._work += 1
        if self._work > _MAX_EVALUATIONS:
            return True  # too much to judge: it may block
        if key in self._active:
            self._cut.append(key)
            return False  # a cycle adds no blocking of its own
        self._active.add(key)
        cuts = len(self._cut)
        try:
            verdict = self._verdict(self._terms(function, context), context)
        finally:
            self._active.discard(key)
        # A verdict reached with a cycle cut short above this function holds only for
        # that cycle's entry: judged again from elsewhere, it may differ.
        if all(cut == key for cut in self._cut[cuts:]):
            self._judged[key] = verdict
            del self._cut[cuts:]
        return verdict

    def _terms(self, function: str, context: Mapping[str, Argument]) -> list[_Term]:
        project = self.project
        facts: FunctionFacts = project.functions[function].facts
        terms = [
            _Term(leaf.path, Blocked((function,), (), leaf))
            for leaf in facts.leaves
            if leaf.target not in project.nonblocking
        ]
        for edge in facts.edges:
            deferred = project.deferred_leaf(edge)
            if deferred is not None:
                leaf = replace(deferred[0], path=edge.path)
                terms.append(_Term(edge.path, Blocked((function,), (), leaf)))
                continue
            ran = self.runs(edge, context)
            if ran is None:
                continue  # (a call of itself is judged too: with other arguments it
                # may take another branch, and with the same ones it is a cycle)
            callee, handed_on = ran
            below = True if handed_on else self._judge(callee, self._bind(callee, edge, context))
            if below is False:
                continue
            if below is True:
                terms.append(_Term(edge.path, None))
            else:
                chain = (function, *below.chain)
                calls = (edge.call, *below.calls)
                terms.append(_Term(edge.path, replace(below, chain=chain, calls=calls)))
        return terms

    def _verdict(self, terms: list[_Term], context: Mapping[str, Argument]) -> Blocked | bool:
        live: list[tuple[list[tuple[Test, bool]], Blocked | None]] = []
        for term in terms:
            residual = _decide(term.path, context)
            if residual is not None:
                live.append((residual, term.blocked))
        blocking = [(tests, found) for tests, found in live if found is not None]
        if not blocking:
            return bool(live)
        # The witness: the chain on the fewest open tests, then the shortest.
        tests, witness = min(
            blocking, key=lambda term: (len(term[0]), len(term[1].chain), term[1].calls)
        )
        if not tests:
            return witness
        if _covers([t for t, _ in blocking]):
            return replace(witness, every_path=True)
        return True


def _passes_self(arguments: Arguments) -> bool:
    """`Base.__init__(self, ...)`: an unbound method given the instance explicitly."""
    first = arguments.positional[0] if arguments.positional else None
    return first is not None and first.kind == "param" and first.value in ("self", "cls")


def _value(argument: Argument, caller: Context, project: Graph) -> Argument:
    if argument.kind == "param" and isinstance(argument.value, str):
        return caller.get(argument.value, UNKNOWN)
    if argument.kind == "ref" and isinstance(argument.value, str):
        # Only a class or a function is known to be what it names (a module-level
        # variable may hold anything, `None` included).
        name = argument.value
        cls = project.class_named(name)
        if cls is None and project.resolve(name) is None:
            return UNKNOWN
        return Argument("ref", cls or name)
    if argument.kind == "made" and isinstance(argument.value, str):
        made = project.class_named(argument.value)  # a class's instance is not None
        return Argument("instance", made) if made is not None else UNKNOWN
    return argument


def _decide(path: Path, context: Mapping[str, Argument]) -> list[tuple[Test, bool]] | None:
    """The tests of the path still undecided in the context (None: the path cannot run)."""
    left = []
    for test, outcome in path:
        reduced = _reduce(test, context)
        if isinstance(reduced, Truth):
            if reduced is not (Truth.TRUE if outcome else Truth.FALSE):
                return None
        else:
            left.append((reduced, outcome))
    return left


def _reduce(test: Test, context: Mapping[str, Argument]) -> Test | Truth:
    """The test with what the context decides decided: a truth, or what is left of it."""
    if test.op == "opaque":
        return test
    if test.op == "not":
        inner = _reduce(test.parts[0], context)
        if isinstance(inner, Truth):
            return _negate(inner)
        return Test("not", (inner,))
    if test.op in ("and", "or"):
        decisive, neutral = (
            (Truth.FALSE, Truth.TRUE) if test.op == "and" else (Truth.TRUE, Truth.FALSE)
        )
        parts = []
        for part in test.parts:
            reduced = _reduce(part, context)
            if reduced is decisive:
                return decisive
            if reduced is not neutral:
                assert isinstance(reduced, Test)
                parts.append(reduced)
        if not parts:
            return neutral
        return parts[0] if len(parts) == 1 else Test(test.op, tuple(parts))
    truth = compare(test.op, context.get(test.param, UNKNOWN), test.value)
    return test if truth is Truth.UNKNOWN else truth


def _negate(truth: Truth) -> Truth:
    return {Truth.TRUE: Truth.FALSE, Truth.FALSE: Truth.TRUE}.get(truth, Truth.UNKNOWN)


def _covers(terms: list[list[tuple[Test, bool]]]) -> bool:
    """Whether, however the unknown tests turn out, one of the terms holds."""
    atoms = sorted(
        {atom for tests in terms for test, _ in tests for atom in _atoms(test)}, key=repr
    )
    if len(atoms) > _MAX_UNKNOWN_TESTS:
        return False
    for values in itertools.product((False, True), repeat=len(atoms)):
        assignment = dict(zip(atoms, values, strict=True))
        if not any(all(_holds(t, assignment) is o for t, o in tests) for tests in terms):
            return False
    return True


def _atoms(test: Test) -> Iterable[Test]:
    if test.op in ("and", "or", "not"):
        for part in test.parts:
            yield from _atoms(part)
    else:
        yield test


def _holds(test: Test, assignment: Mapping[Test, bool]) -> bool:
    if test.op == "not":
        return not _holds(test.parts[0], assignment)
    if test.op == "and":
        return all(_holds(part, assignment) for part in test.parts)
    if test.op == "or":
        return any(_holds(part, assignment) for part in test.parts)
    return assignment[test]
