"""The library modules a project's calls lead to, found name by name.

Starting from the qualified names the project calls (and the bases of its classes), each
name is followed to the module defining it: through the aliases of `__init__` re-exports,
to a function (whose calls are followed in turn, unless it is a coroutine: calling one runs
nothing), to a class (its constructor `__init__`, a method, or failing that the same member
of its bases). Only the modules met on the way are analysed, in batches, so a project that
builds one client of a large SDK pays for the few modules that client's constructor runs,
not for the SDK.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from audit.core.facts import ARGUMENT_PREFIX, SUPER, ClassFacts, FunctionFacts, ModuleFacts
from audit.dependencies.modules import ModuleIndex
from audit.interprocedural.types import star_modules

# Analyses modules by name; a module that cannot be analysed is left out of the answer.
Loader = Callable[[list[str]], Mapping[str, ModuleFacts]]


# Names followed in one run at most: a guard against a way that never ends.
_MAX_NAMES = 100_000


@dataclass(frozen=True)
class _Wanted:
    name: str
    runs: bool  # the name is called (follow what it runs), not only a base class


class Reach:
    def __init__(self, index: ModuleIndex, load: Loader) -> None:
        self.index = index
        self.load = load
        self.modules: dict[str, ModuleFacts] = {}
        self.functions: dict[str, FunctionFacts] = {}
        self.classes: dict[str, ClassFacts] = {}
        self._seen: set[_Wanted] = set()
        self._passed: dict[str, set[str]] = {}  # callee -> classes and functions passed to it

    def follow(self, calls: Iterable[str], bases: Iterable[str] = ()) -> None:
        pending = deque([*(_Wanted(n, True) for n in calls), *(_Wanted(n, False) for n in bases)])
        waiting: list[_Wanted] = []
        wanted: set[str] = set()
        while True:
            while pending and len(self._seen) + len(pending) < _MAX_NAMES:
                item = pending.popleft()
                if item in self._seen:
                    continue
                module = self._module(item.name)
                if module is None:
                    self._seen.add(item)
                elif module not in self.modules:
                    wanted.add(module)
                    waiting.append(item)
                else:
                    self._seen.add(item)
                    pending.extend(self._next(item, module))
            if not wanted:
                return
            loaded = self.load(sorted(wanted))
            for module in wanted:
                self._add(module, loaded.get(module, ModuleFacts()))
            wanted.clear()
            pending.extend(waiting)
            waiting.clear()

    @property
    def followed(self) -> int:
        """How many names have been followed."""
        return len(self._seen)

    def _module(self, name: str) -> str | None:
        """The longest prefix of `name` that is an installed module."""
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module in self.modules or self.index.file_of(module) is not None:
                return module
        return None

    def _add(self, module: str, facts: ModuleFacts) -> None:
        self.modules[module] = facts
        for function in facts.functions:
            self.functions[function.qualname] = function
        for cls in facts.classes:
            self.classes[cls.qualname] = cls

    def _next(self, item: _Wanted, module: str) -> list[_Wanted]:
        rest = item.name[len(module) + 1 :]
        if not rest:
            return []
        first, _, tail = rest.partition(".")
        aliases = self.modules[module].aliases
        target = aliases.get(first)
        if target is not None:
            return [_Wanted(f"{target}.{tail}" if tail else target, item.runs)]
        owner = f"{module}.{first}"
        if owner not in self.classes and owner not in self.functions:
            # Only a star import of a module that can be read: one of a C extension
            # (`from .backend_c import *`) would name `pkg.backend_c.x` as `pkg` again,
            # and the name would grow without end.
            return [
                _Wanted(f"{star}.{rest}", item.runs)
                for star in star_modules(aliases)
                if self._module(star) == star
            ]
        cls = self.classes.get(owner)
        if cls is not None and tail.startswith(f"{SUPER}."):  # super().member: the bases'
            member = tail.removeprefix(f"{SUPER}.")
            return [_Wanted(f"{base}.{member}", item.runs) for base in cls.bases]
        if cls is not None:
            found = [_Wanted(base, False) for base in cls.bases]
            member = tail.partition(".")[0] or ("__init__" if item.runs else "")
            if not member:
                return found
            method = f"{owner}.{member}"
            if method in self.functions:
                return found + self._calls(method)
            return found + [_Wanted(f"{base}.{member}", item.runs) for base in cls.bases]
        if owner in self.functions and not tail and item.runs:
            return self._calls(owner)
        return []

    def _calls(self, function: str) -> list[_Wanted]:
        """What the function's calls run; `super(p, self).m(...)` runs `m` of the bases of
        the classes its callers pass to it (callers met before it: a caller is followed
        before what it calls)."""
        facts = self.functions[function]
        if facts.is_async:
            return []
        wanted = []
        for edge in facts.edges:
            refs = {a.value for a in edge.arguments.positional if a.kind == "ref"}
            refs |= {a.value for _, a in edge.arguments.keywords if a.kind == "ref"}
            if refs:
                self._passed.setdefault(edge.callee, set()).update(map(str, refs))
            if not edge.callee.startswith(ARGUMENT_PREFIX):
                wanted.append(_Wanted(edge.callee, True))
                continue
            rest = edge.callee.partition(">")[2]
            passed = self._passed.get(function, set())
            wanted += [_Wanted(f"{owner}{rest}", True) for owner in sorted(passed)]
        return wanted
