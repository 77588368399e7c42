"""Types across module borders: a name a module could not resolve on its own, read through
the summaries of the modules it imports.

A module records what it cannot know as a deferred name: `app.fs.FS().scan` (a method of
what calling `app.fs.FS` makes), `app.store.store.save` (a method of a module-level
instance), `app.svc.Service().fs.scan` (an attribute's method). Each step rewrites one part
of the name with what a summary says (an alias, a class, a function's return annotation, an
instance's or attribute's type) until the name is a project function, or a library type's
member that the catalogue knows, or nothing more can be said. Every step is remembered, so
a finding can say where the type came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from audit.core.facts import SUPER, ClassFacts, FunctionFacts

MAX_STEPS = 12


@dataclass(frozen=True)
class Step:
    """One rewrite: `name` became `into` because of `source` (in words, for messages)."""

    name: str
    into: str
    source: str


@dataclass(frozen=True)
class Expanded:
    """A name after every rewrite the summaries allow, and the rewrites that gave it."""

    name: str
    steps: tuple[Step, ...]

    @property
    def origin(self) -> str:
        """Where the last type came from (`the return annotation of app.utils.to_path()`)."""
        typed = [step for step in self.steps if step.source]
        return typed[-1].source if typed else ""


class ProjectTypes:
    """Rewrites deferred names with the project's summaries."""

    def __init__(
        self,
        functions: Mapping[str, FunctionFacts],
        classes: Mapping[str, ClassFacts],
        aliases: Mapping[str, Mapping[str, str]],
        types: Mapping[str, Mapping[str, str]],
        class_named: Callable[[str], str | None],
        mro: Callable[[str], list[str]],
    ) -> None:
        self.functions = functions
        self.classes = classes
        self.aliases = aliases
        self.types = types
        self.class_named = class_named
        self.mro = mro

    def expand(self, name: str) -> Expanded:
        """`name` rewritten until it is a project function or cannot be rewritten."""
        steps: list[Step] = []
        seen = {name}
        while name not in self.functions and len(steps) < MAX_STEPS:
            step = self.step(name)
            if step is None or step.into in seen:
                break
            steps.append(step)
            seen.add(step.into)
            name = step.into
        return Expanded(name, tuple(steps))

    def step(self, name: str) -> Step | None:
        """One rewrite of `name`, the innermost part first."""
        head, call, rest = name.partition("()")
        if call:
            made = self.made(head)
            if made is None:
                return None
            return Step(name, made[0] + rest, made[1])
        owner, _, member = name.rpartition(".")
        if owner.endswith(f".{SUPER}"):  # `super().member` in a method of the class
            cls = self.class_named(owner.removesuffix(f".{SUPER}"))
            for base in self.mro(cls)[1:] if cls is not None else ():
                if f"{base}.{member}" in self.functions:
                    return Step(name, f"{base}.{member}", "")
            return None
        owner_class = self.class_named(owner) if owner else None
        if owner_class is not None:
            for cls in self.mro(owner_class):
                if f"{cls}.{member}" in self.functions:
                    return Step(name, f"{cls}.{member}", "")
        parts = name.split(".")
        starred = False
        for cut in range(len(parts) - 1, 0, -1):
            prefix, part = ".".join(parts[:cut]), parts[cut]
            rest = ".".join(parts[cut + 1 :])
            found = self._part(prefix, part)
            if found is not None:
                into = f"{found[0]}.{rest}" if rest else found[0]
                if into != name:
                    return Step(name, into, found[1])
            if prefix in self.aliases and not starred:
                starred = True  # only the module the name is in: `from m import *` there
                for star in star_modules(self.aliases[prefix]):
                    if self._defines(star, part):
                        return Step(name, ".".join((star, *parts[cut:])), "")
        return None

    def _defines(self, module: str, name: str) -> bool:
        """`module` binds `name` (a star import brings it along)."""
        qualified = f"{module}.{name}"
        return (
            qualified in self.functions
            or qualified in self.classes
            or name in self.aliases.get(module, {})
            or name in self.types.get(module, {})
        )

    def made(self, callee: str) -> tuple[str, str] | None:
        """What calling `callee` makes: an instance of a project class, or what a project
        function's return annotation declares."""
        expanded = self.expand(callee)
        cls = self.class_named(expanded.name)
        if cls is not None:
            return cls, expanded.origin
        facts = self.functions.get(expanded.name)
        if facts is not None and facts.returns:
            return facts.returns, f"the return annotation of `{expanded.name}()`"
        return None

    def _part(self, prefix: str, part: str) -> tuple[str, str] | None:
        """`prefix.part` as another name: an import alias, a module-level instance's type,
        or the type of a class attribute (or property)."""
        alias = self.aliases.get(prefix, {}).get(part)
        if alias is not None:
            return alias, ""
        typed = self.types.get(prefix, {}).get(part)
        if typed is not None:
            return typed, f"the assignment of `{prefix}.{part}`"
        cls = self.class_named(prefix)
        if cls is not None:
            for owner in self.mro(cls):
                attribute = self.classes[owner].attributes.get(part)
                if attribute is not None:
                    return attribute, f"the attribute `{owner}.{part}`"
        return None


def star_modules(aliases: Mapping[str, str]) -> list[str]:
    """The modules a module star-imports (`from m import *`), in order (kept among its
    aliases under the keys `*0`, `*1`, ...)."""
    return [module for key, module in aliases.items() if key.startswith("*")]
