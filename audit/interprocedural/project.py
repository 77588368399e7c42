"""The project pass: which sync functions may block, and through which chain.

Names are resolved across modules through module-level aliases (imports and re-exports in
`__init__`), and methods through the project's class hierarchy. A multi-source breadth-first
search from the functions that block directly gives every function that reaches one of them
its shortest witness chain. Async callees are not followed (calling one only creates a
coroutine), thread bridges are not edges, and unresolved names are never guessed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from audit.findings import FileSummary
from audit.interprocedural.facts import ClassFacts, Edge, FunctionFacts, Leaf

_MAX_ALIAS_DEPTH = 12


@dataclass(frozen=True)
class Blocked:
    """A sync function that may block: the chain of functions down to the one making the
    blocking call (both ends included), the ordinal of the call each of them makes to the
    next (`calls[i]` is in `chain[i]`), and the blocking call."""

    chain: tuple[str, ...]
    calls: tuple[int, ...]
    leaf: Leaf


@dataclass(frozen=True)
class Located:
    """Where a function lives: the file and the module it belongs to."""

    path: str
    module: str
    facts: FunctionFacts


class Project:
    def __init__(self, summaries: Iterable[FileSummary], nonblocking: Iterable[str] = ()) -> None:
        self.functions: dict[str, Located] = {}
        self.classes: dict[str, ClassFacts] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        for summary in summaries:
            facts = summary.facts
            self.aliases[summary.module] = dict(facts.aliases)
            for function in facts.functions:
                self.functions[function.qualname] = Located(summary.path, summary.module, function)
            for cls in facts.classes:
                self.classes[cls.qualname] = cls
        self.nonblocking = frozenset(nonblocking)
        self._resolved: dict[str, str | None] = {}

    # -- names ---------------------------------------------------------------------------

    def resolve(self, qualified: str) -> str | None:
        """The project function a qualified name refers to, or None."""
        if qualified not in self._resolved:
            self._resolved[qualified] = None  # guards against alias cycles
            self._resolved[qualified] = self._resolve(qualified, 0)
        return self._resolved[qualified]

    def _resolve(self, qualified: str, depth: int) -> str | None:
        if qualified in self.functions:
            return qualified
        if depth > _MAX_ALIAS_DEPTH:
            return None
        owner, _, member = qualified.rpartition(".")
        owner_class = self.class_named(owner)
        if owner_class is not None:
            for cls in self.mro(owner_class):
                candidate = f"{cls}.{member}"
                if candidate in self.functions:
                    return candidate
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            target = self.aliases.get(module, {}).get(parts[cut])
            if target is not None:
                rest = ".".join(parts[cut + 1 :])
                expanded = f"{target}.{rest}" if rest else target
                if expanded != qualified:
                    return self._resolve(expanded, depth + 1)
        return None

    def class_named(self, qualified: str, depth: int = 0) -> str | None:
        """The project class a qualified name refers to (through aliases), or None."""
        if qualified in self.classes:
            return qualified
        if depth > _MAX_ALIAS_DEPTH or "." not in qualified:
            return None
        module, _, name = qualified.rpartition(".")
        target = self.aliases.get(module, {}).get(name)
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
        """The sync project function a call reaches, unless declared non-blocking."""
        callee = self.resolve(edge.callee)
        if callee is None or callee in self.nonblocking or self.is_async(callee):
            return None
        return callee

    @cached_property
    def blocked(self) -> dict[str, Blocked]:
        """Every sync function that may block, with its shortest witness chain."""
        callers: dict[str, list[tuple[str, int]]] = {}
        found: dict[str, Blocked] = {}
        queue: deque[str] = deque()
        for name in sorted(self.functions):
            facts = self.functions[name].facts
            if facts.is_async or name in self.nonblocking:
                continue
            for edge in facts.edges:
                callee = self.sync_callee(edge)
                if callee is not None and callee != name:
                    callers.setdefault(callee, []).append((name, edge.call))
            leaves = [leaf for leaf in facts.leaves if leaf.target not in self.nonblocking]
            if leaves:
                found[name] = Blocked((name,), (), min(leaves, key=lambda leaf: leaf.call))
                queue.append(name)
        while queue:
            current = queue.popleft()
            below = found[current]
            for caller, call in callers.get(current, ()):
                if caller not in found:
                    chain, calls = (caller, *below.chain), (call, *below.calls)
                    found[caller] = Blocked(chain, calls, below.leaf)
                    queue.append(caller)
        return found

    def async_calls(self) -> Iterator[tuple[Located, Edge]]:
        """Every call made on the event loop by an async project function, in file order."""
        for name in sorted(self.functions, key=lambda n: (self.functions[n].path, n)):
            located = self.functions[name]
            if located.facts.is_async:
                for edge in located.facts.edges:
                    yield located, edge

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
