"""The project pass: which sync functions block, and through which chain.

Names are resolved across modules through module-level aliases (imports and re-exports in
`__init__`), and methods through the project's class hierarchy. A multi-source breadth-first
search from the functions that block directly gives every function that reaches one of them
its shortest witness chain. Async callees are not followed (calling one only creates a
coroutine), nor are generators unless the call iterates them, thread bridges are not edges,
and unresolved names are never guessed.

Each call is on its function's ordinary path or depends on a condition (a branch, a handler,
a loop that may not run, an early return before it). A function *blocks* when a chain of
ordinary calls leads to a blocking call; it *may block* when only chains through conditional
calls do, and the first condition on the chain is what its report names.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Iterator
from functools import cached_property

from audit.catalogue import Catalogue, default_catalogue
from audit.core.conditions import UNKNOWN
from audit.core.facts import ClassFacts, Edge, FunctionFacts, Leaf
from audit.core.findings import FileSummary
from audit.interprocedural.chain import Blocked, Located
from audit.interprocedural.contexts import Contexts
from audit.interprocedural.types import Expanded, ProjectTypes, star_modules

_MAX_ALIAS_DEPTH = 12
# The condition of a generator that is returned or handed to another call, not iterated.
HANDED_ON = "the generator it makes is handed on and may be iterated on the loop"


class Project:
    """The project's call graph. With `focus` (paths), only the calls those files make are
    asked about: blocking is searched in what their functions reach, which gives the same
    chains as a search of the whole graph (a shortest chain from a function only passes
    through functions it reaches) at the cost of the part that matters, as an editor needs
    after each change of one file."""

    def __init__(
        self,
        summaries: Iterable[FileSummary],
        nonblocking: Iterable[str] = (),
        focus: frozenset[str] | None = None,
        libraries: frozenset[str] = frozenset(),
        *,
        catalogue: Catalogue | None = None,
        version: tuple[int, int] = sys.version_info[:2],
    ) -> None:
        """`libraries`: the paths of installed libraries' files (`check --dependencies`)."""
        self.functions: dict[str, Located] = {}
        self.classes: dict[str, ClassFacts] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        self.module_types: dict[str, dict[str, str]] = {}
        for summary in summaries:
            facts = summary.facts
            self.aliases[summary.module] = dict(facts.aliases)
            self.module_types[summary.module] = dict(facts.types)
            for function in facts.functions:
                self.functions[function.qualname] = Located(summary.path, summary.module, function)
            for cls in facts.classes:
                self.classes[cls.qualname] = cls
        self.nonblocking = frozenset(nonblocking)
        self.focus = focus
        self.catalogue = catalogue or default_catalogue()
        self.version = version
        self._resolved: dict[str, str | None] = {}
        self._expanded: dict[str, Expanded] = {}
        self.libraries = libraries
        self._star_classes: dict[str, str | None] = {}

    # -- names ---------------------------------------------------------------------------

    def resolve(self, qualified: str) -> str | None:
        """The project function a qualified name refers to, or None."""
        if qualified not in self._resolved:
            self._resolved[qualified] = None  # guards against alias cycles
            name = self.expand(qualified).name
            if name not in self.functions:
                name = self._constructor(name) or name
            self._resolved[qualified] = name if name in self.functions else None
        return self._resolved[qualified]

    def _constructor(self, name: str) -> str | None:
        """What calling a project class runs of the project's code: its `__init__` (a
        dataclass's generated one runs `__post_init__`), looked up through its bases."""
        cls = self.class_named(name)
        if cls is None:
            return None
        for method in ("__init__", "__post_init__"):
            for owner in self.mro(cls):
                if f"{owner}.{method}" in self.functions:
                    return f"{owner}.{method}"
        return None

    def expand(self, qualified: str) -> Expanded:
        """The name rewritten through the summaries (aliases, classes, return annotations,
        instances' and attributes' types) as far as they go."""
        known = self._expanded.get(qualified)
        if known is None:
            known = self._expanded[qualified] = self.types.expand(qualified)
        return known

    @cached_property
    def types(self) -> ProjectTypes:
        facts = {name: located.facts for name, located in self.functions.items()}
        return ProjectTypes(
            facts, self.classes, self.aliases, self.module_types, self.class_named, self.mro
        )

    def deferred_leaf(self, edge: Edge) -> tuple[Leaf, Expanded] | None:
        """A call that another module's summary shows to be a blocking library call (`p.stat()`
        where `p` comes from a function of another module annotated `-> Path`), with how
        its type was found; None for anything else (a direct blocking call is a leaf
        already)."""
        if edge.awaited:
            return None
        expanded = self.expand(edge.callee)
        if not expanded.steps or expanded.name in self.functions:
            return None
        catalogue = self.catalogue
        target = expanded.name
        family = catalogue.function_family(target)
        if family is None:
            owner, _, method = target.rpartition(".")
            if not owner or self.class_named(owner) is not None:
                return None
            family = catalogue.method_family(owner, method)
            target = f"{catalogue.canonical_type(owner)}.{method}"
        if family is None or target in self.nonblocking:
            return None
        if catalogue.is_lazy(target, self.version) and not edge.iterated:
            return None
        return Leaf(target, edge.call, family.id, None, edge.guard), expanded

    def _star_class(self, qualified: str, depth: int) -> str | None:
        """`class_named` through a star import, each name looked up once (star imports
        may form cycles, and a module may have many); the depth goes on counting, so a
        chain of star imports through ever other names ends too."""
        if qualified not in self._star_classes:
            self._star_classes[qualified] = None
            self._star_classes[qualified] = self.class_named(qualified, depth)
        return self._star_classes[qualified]

    def class_named(self, qualified: str, depth: int = 0) -> str | None:
        """The project class a qualified name refers to (through aliases), or None."""
        if qualified in self.classes:
            return qualified
        if depth > _MAX_ALIAS_DEPTH or "." not in qualified:
            return None
        module, _, name = qualified.rpartition(".")
        aliases = self.aliases.get(module, {})
        target = aliases.get(name)
        if target is None and module in self.aliases:
            for star in star_modules(aliases):
                found = self._star_class(f"{star}.{name}", depth + 1)
                if found is not None:
                    return found
        if target is None:
            outer = self.class_named(module, depth + 1)
            return f"{outer}.{name}" if outer and f"{outer}.{name}" in self.classes else None
        return self.class_named(target, depth + 1) if target != qualified else None

    def mro(self, qualified: str) -> list[str]:
        """The class and its project bases, depth first (enough for method lookup)."""
        order: list[str] = []
        pending = [qualified]
        while pending:
            current = pending.pop(0)
            if current in order or current not in self.classes:
                continue
            order.append(current)
            for base in self.classes[current].bases:
                resolved = self.class_named(base)
                if resolved is not None:
                    pending.append(resolved)
        return order

    def is_async(self, function: str) -> bool:
        return self.functions[function].facts.is_async

    def display(self, function: str) -> str:
        """`Store.save` for `app.store.Store.save`: the name within its module."""
        module = self.functions[function].module
        return (
            function[len(module) + 1 :]
            if module and function.startswith(module + ".")
            else function
        )

    # -- blocking ------------------------------------------------------------------------

    def sync_callee(self, edge: Edge) -> str | None:
        """The sync project function a call runs, unless declared non-blocking."""
        ran = self.runs(edge)
        return ran[0] if ran is not None else None

    def runs(self, edge: Edge) -> tuple[str, str | None] | None:
        """The sync project function a call runs and the condition it runs under (None: on
        the caller's ordinary path); None when it runs no project code. Calling a generator
        runs none of its body: iterated there, it runs; returned or handed on, it may run
        wherever it is iterated; otherwise not at all."""
        callee = self.resolve(edge.callee)
        if callee is None or callee in self.nonblocking or self.is_async(callee):
            return None
        if not self.functions[callee].facts.is_generator or edge.iterated:
            return callee, edge.guard
        if edge.escapes:
            return callee, edge.guard or HANDED_ON
        return None

    @cached_property
    def blocked(self) -> dict[str, Blocked]:
        """Every sync function that blocks on its ordinary path, with its shortest chain."""
        return self._search(ordinary=True)

    @cached_property
    def may_block(self) -> dict[str, Blocked]:
        """Every sync function that blocks only on some paths, with its shortest chain and
        the first condition on it."""
        blocked = self.blocked
        return {
            name: found
            for name, found in self._search(ordinary=False).items()
            if name not in blocked
        }

    def _search(self, *, ordinary: bool) -> dict[str, Blocked]:
        """Chains through ordinary calls only, or through any call."""
        callers: dict[str, list[tuple[str, str | None, int]]] = {}
        found: dict[str, Blocked] = {}
        queue: deque[str] = deque()
        for name in sorted(self._searched):
            facts = self.functions[name].facts
            if facts.is_async or name in self.nonblocking:
                continue
            for edge in facts.edges:
                ran = self.runs(edge)
                if ran is None or ran[0] == name or (ordinary and ran[1] is not None):
                    continue
                callers.setdefault(ran[0], []).append((name, ran[1], edge.call))
            leaves = [
                leaf
                for leaf in (*facts.leaves, *self._deferred_leaves(facts))
                if leaf.target not in self.nonblocking and not (ordinary and leaf.guard)
            ]
            if leaves:
                leaf = min(leaves, key=lambda leaf: (leaf.guard is not None, leaf.call))
                condition = (name, leaf.guard) if leaf.guard is not None else None
                found[name] = Blocked((name,), (), leaf, condition)
                queue.append(name)
        while queue:
            current = queue.popleft()
            below = found[current]
            for caller, guard, call in callers.get(current, ()):
                if caller not in found:
                    chain, calls = (caller, *below.chain), (call, *below.calls)
                    condition = (caller, guard) if guard is not None else below.condition
                    found[caller] = Blocked(chain, calls, below.leaf, condition)
                    queue.append(caller)
        return found

    @cached_property
    def contexts(self) -> Contexts:
        return Contexts(self)

    def in_context(self, edge: Edge) -> Blocked | bool:
        """How a coroutine's call blocks given what it passes: the chain when it blocks
        whatever branch is taken (`httpx.AsyncClient()` leaves `verify` at `True`, and that
        branch loads the CA bundle), True when it may, False when it cannot (`verify=False`
        skips the only blocking branch)."""
        return self.contexts.judge(edge, {"**": UNKNOWN})  # its own `**kwargs`: anything

    def _deferred_leaves(self, facts: FunctionFacts) -> Iterator[Leaf]:
        for edge in facts.edges:
            found = self.deferred_leaf(edge)
            if found is not None:
                yield found[0]

    @cached_property
    def _searched(self) -> frozenset[str]:
        """The functions a blocking search visits: all of them, or (with a focus) those the
        focused files' functions reach."""
        if self.focus is None:
            return frozenset(self.functions)
        reached = {name for name, at in self.functions.items() if at.path in self.focus}
        pending = list(reached)
        while pending:
            for edge in self.functions[pending.pop()].facts.edges:
                callee = self.resolve(edge.callee)
                if callee is not None and callee not in reached:
                    reached.add(callee)
                    pending.append(callee)
        return frozenset(reached)

    def async_calls(self) -> Iterator[tuple[Located, Edge]]:
        """Every call made on the event loop by an async project function (of the focused
        files, with a focus), in file order."""
        for located in self._async_functions:
            for edge in located.facts.edges:
                yield located, edge

    @cached_property
    def _async_functions(self) -> list[Located]:
        focus = self.focus
        names = sorted(
            (located.path, name)
            for name, located in self.functions.items()
            if located.facts.is_async and (focus is None or located.path in focus)
        )
        return [self.functions[name] for _, name in names]

    # -- async twins ---------------------------------------------------------------------

    def async_twin(self, method: str) -> str | None:
        """`Store.adelete` for `Store.delete`: an async method of the same class (or its
        bases) named `a<m>`, `<m>_async` or `async_<m>`."""
        owner, _, name = method.rpartition(".")
        if owner not in self.classes or self.is_async(method):
            return None
        for cls in self.mro(owner):
            methods = self.classes[cls].methods
            for twin in twin_names(name):
                if methods.get(twin):
                    return f"{cls}.{twin}"
        return None


def twin_names(method: str) -> tuple[str, str, str]:
    return f"a{method}", f"{method}_async", f"async_{method}"
